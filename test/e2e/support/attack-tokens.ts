import { randomBytes } from "node:crypto";
import { SignJWT, type CryptoKey, type JWTPayload } from "jose";

/** The gateway's clock is the real one in end-to-end tests: claims are relative to now. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Claims of a token valid right now for `iss`/`aud`, expiring in an hour; `undefined` values drop a claim. */
export function liveClaims(iss: string, aud: string, overrides: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  const claims: JWTPayload = { iss, aud, sub: "user-42", iat: now, exp: now + 3600, ...overrides };
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}

const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An unsecured JWS: header `{alg}` (default `none`), empty signature. */
export function unsecuredToken(claims: JWTPayload, alg = "none"): string {
  return `${segment({ alg, typ: "JWT" })}.${segment(claims)}.`;
}

/** A token MAC'ed with `secret` (bytes or UTF-8 text) under an HMAC algorithm, optionally with a `kid`. */
export function hmacToken(secret: Uint8Array | string, claims: JWTPayload, options: { alg?: "HS256" | "HS384" | "HS512"; kid?: string } = {}): Promise<string> {
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  const header = { alg: options.alg ?? "HS256", typ: "JWT", ...(options.kid !== undefined && { kid: options.kid }) };
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

/** `token` with its payload replaced by the original claims merged with `patch`; header and signature kept. */
export function tamperPayload(token: string, patch: JWTPayload): string {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as JWTPayload;
  return `${header}.${segment({ ...claims, ...patch })}.${signature}`;
}

/** The `kid` an attacker would invent: random, never published. */
export function randomKid(): string {
  return `kid-${randomBytes(12).toString("hex")}`;
}

/** Padding claim growing a token by about `bytes` characters (after base64url encoding). */
export function padding(bytes: number): JWTPayload {
  return { pad: "p".repeat(Math.floor((bytes * 3) / 4)) };
}

/**
 * An RS256 JWS with any protected header and payload (an object, or JSON text written as is),
 * signed with WebCrypto directly: jose refuses to sign headers it would itself reject (an unknown
 * `crit` extension), and attacks need exactly those.
 */
export async function rs256WithHeader(privateKey: CryptoKey, header: Record<string, unknown>, payload: JWTPayload | string): Promise<string> {
  const input = `${segment(header)}.${typeof payload === "string" ? Buffer.from(payload).toString("base64url") : segment(payload)}`;
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

import { jwtRejected } from "./jwt-errors.js";

/** What an unverified token says about itself: only enough to pick the issuer and key. */
export interface TokenPeek {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly iss: string | undefined;
}

// A compact JWS is three base64url segments; the signature is empty only for `alg: none`.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Rejects a token longer than `maxTokenBytes` before looking at it, then decodes (without
 * trusting) its header and payload. Nothing here is authenticated: the result only selects the
 * issuer configuration and the key that the real verification then uses.
 */
export function peekToken(token: string, maxTokenBytes: number): TokenPeek {
  // A compact JWS is ASCII, so its length in characters is its size in bytes; a non-ASCII
  // token is longer in bytes than in characters and is then malformed anyway.
  if (token.length > maxTokenBytes) throw jwtRejected("token too large");
  if (!COMPACT_JWS.test(token)) throw jwtRejected("malformed token");
  const [headerPart, payloadPart] = token.split(".");
  const header = decodeJsonObject(headerPart);
  const payload = decodeJsonObject(payloadPart);
  if (header === undefined || payload === undefined) throw jwtRejected("malformed token");
  if (typeof header.alg !== "string" || header.alg === "") throw jwtRejected("malformed token");
  if (header.kid !== undefined && typeof header.kid !== "string") throw jwtRejected("malformed token");
  return { alg: header.alg, kid: header.kid, iss: typeof payload.iss === "string" ? payload.iss : undefined };
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, "base64url")));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

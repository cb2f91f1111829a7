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
 * The latest NumericDate accepted: 9999-12-31T23:59:59Z, the end of the four-digit-year range
 * that RFC 3339 timestamps (and every date library) can express. Anything later is absurd for
 * a token and only serves to make it "never expire".
 */
export const MAX_NUMERIC_DATE = 253_402_300_799;
const TIME_CLAIMS = [
  ["exp", "token exp is not a valid time"],
  ["nbf", "token nbf is not a valid time"],
  ["iat", "token iat is not a valid time"],
] as const;

/**
 * Rejects a token longer than `maxTokenBytes` before looking at it, then decodes (without
 * trusting) its header and payload. Nothing here is authenticated: the result only selects the
 * issuer configuration and the key that the real verification then uses.
 *
 * It also rejects a token whose `exp`, `nbf` or `iat` is present but not a NumericDate between
 * 0 and `MAX_NUMERIC_DATE` (a string, a negative number, or `1e400`, which JSON.parse reads as
 * Infinity and which jose accepted as a token that never expires). Such a token is invalid
 * whoever signed it, so this costs no signature check and the 401 names the claim.
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
  for (const [claim, rejection] of TIME_CLAIMS) {
    const value = payload[claim];
    if (value !== undefined && !isNumericDate(value)) throw jwtRejected(rejection);
  }
  return { alg: header.alg, kid: header.kid, iss: typeof payload.iss === "string" ? payload.iss : undefined };
}

/** A finite number of seconds since the epoch, not before it and not after year 9999. */
function isNumericDate(value: unknown): boolean {
  return typeof value === "number" && value >= 0 && value <= MAX_NUMERIC_DATE;
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, "base64url")));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

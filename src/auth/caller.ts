import type { ApiKeyEntry } from "./api-keys.js";
import { unauthenticated } from "./auth-errors.js";
import { isMetadataText } from "./auth-syntax.js";
import type { VerifiedJwt } from "./jwt/jwt-verifier.js";

/** The authenticated caller of one request, as the gateway vouches for it. */
export interface Caller {
  readonly kind: "jwt" | "api-key";
  /** The token's `sub`, or the consumer name of an API key. */
  readonly subject: string;
  /** API keys only: the consumer the key belongs to. */
  readonly consumer?: string;
  /** API keys only: identifies the key (a prefix of its SHA-256), for per-key rate limits. */
  readonly keyId?: string;
  /** API keys only: the consumer's tier. */
  readonly tier?: string;
  /** JWTs only: the token's `iss`. */
  readonly issuer?: string;
  readonly scopes: ReadonlySet<string>;
  /** The verified token's claims; empty for API keys. */
  readonly claims: Readonly<Record<string, unknown>>;
}

const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The caller a verified token describes. Throws a 401 `invalid_token` when `sub` is not a
 * printable-ASCII string: it must travel as the `x-user-id` metadata value, and a caller whose
 * identity cannot be passed on must not reach a backend as if anonymous.
 */
export function callerFromJwt(jwt: VerifiedJwt): Caller {
  const known = callersOfTokens.get(jwt);
  if (known !== undefined) return known;
  if (!isMetadataText(jwt.subject)) throw unauthenticated("invalid_token", "token sub must be printable ASCII");
  const caller: Caller = Object.freeze({ kind: "jwt", subject: jwt.subject, issuer: jwt.issuer, scopes: new Set(jwt.scopes), claims: jwt.claims });
  callersOfTokens.set(jwt, caller);
  return caller;
}

/**
 * The verifier hands out the same VerifiedJwt for a cached (hot) token, so its caller is built
 * once, and so is everything derived from it (identity metadata, see identity.ts).
 */
const callersOfTokens = new WeakMap<VerifiedJwt, Caller>();

/** The caller an API key identifies: its consumer (also the subject), tier and scopes; built once per key. */
export function callerFromApiKey(entry: ApiKeyEntry): Caller {
  let caller = callersOfKeys.get(entry);
  if (caller === undefined) {
    caller = Object.freeze({ kind: "api-key", subject: entry.consumer, consumer: entry.consumer, keyId: entry.sha256.slice(0, 16), tier: entry.tier, scopes: new Set(entry.scopes), claims: NO_CLAIMS });
    callersOfKeys.set(entry, caller);
  }
  return caller;
}

const callersOfKeys = new WeakMap<ApiKeyEntry, Caller>();

import { isAbsolute, resolve as resolvePath } from "node:path";
import { errors, jwtVerify, type JWTPayload } from "jose";
import { ConfigError } from "../../config/load-config.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import { createHmacKeys, createStaticKeys, type IssuerKeys, type VerificationKey } from "./issuer-keys.js";
import { createJwksKeys, type JwksFetchOutcome } from "./jwks-keys.js";
import { jwtConfigSchema, type JwtConfig, type JwtIssuerConfig } from "./jwt-config.js";
import { jwtRejected } from "./jwt-errors.js";
import { loadHmacSecret, loadKeyFile } from "./key-files.js";
import { peekToken } from "./token-peek.js";
import { createVerifiedTokenCache } from "./verified-token-cache.js";
import { toVerifiedJwt } from "./verified-claims.js";

/** The caller a valid token describes. Frozen; shared by every request carrying the same token. */
export interface VerifiedJwt {
  subject: string;
  issuer: string;
  audience: string[];
  /** From "scope" (space separated) or "scp" (array). */
  scopes: string[];
  /** `exp`, epoch seconds. */
  expiresAt: number;
  claims: Readonly<Record<string, unknown>>;
}

/** Test seams and file resolution; production passes none. */
export interface JwtVerifierOptions {
  /** Clock in ms; default `Date.now`. */
  now?: () => number;
  /** Used for JWKS downloads; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Relative key and secret files are resolved against this; default the working directory. */
  baseDir?: string;
  /** Hears the outcome of each JWKS download attempt, by issuer (metrics). */
  onJwksFetch?: (issuer: string, outcome: JwksFetchOutcome) => void;
}

/** Verifies bearer tokens against the configured issuers. */
export interface JwtVerifier {
  /**
   * The verified token, or a rejection with UNAUTHENTICATED `PG_ERR_UNAUTHENTICATED`. A hot token
   * (in the verified-token cache, its key set unchanged) is answered synchronously, without a
   * promise; everything else, failures included, through the returned promise (never a throw).
   */
  verify(token: string): VerifiedJwt | Promise<VerifiedJwt>;
  /**
   * The hot path of `verify` alone: the verified token when it is in the cache (its key set
   * unchanged), else undefined. With `connection` (an opaque key: the request's socket or HTTP/2
   * session), a connection that sends the same token as on its last hit skips the cache's hash
   * (see `createJwtVerifier`).
   */
  cached(token: string, connection?: object): VerifiedJwt | undefined;
  /** Aborts JWKS fetches in flight and forgets cached tokens. */
  close(): void;
}

interface Issuer {
  readonly config: JwtIssuerConfig;
  readonly algorithms: ReadonlySet<string>;
  readonly keys: IssuerKeys;
}

interface CachedVerification {
  readonly jwt: VerifiedJwt;
  readonly keys: IssuerKeys;
  readonly generation: number;
}

/** The token a connection last presented that was found in the cache, and its verification. */
interface ConnectionToken {
  readonly token: string;
  readonly verification: CachedVerification;
}

/**
 * Builds the verifier: validates `config`, loads key files and HMAC secrets (errors name the
 * issuer and the file). JWKS are fetched lazily, on the first token of their issuer.
 *
 * `verify`: size limit (before any decoding), verified-token cache, then the unverified header
 * and payload are peeked (a present `exp`, `nbf` or `iat` that is not a NumericDate up to year
 * 9999 is rejected there), the unverified `iss` picks the issuer, whose allowlist must contain
 * the token's `alg` before any key is looked up; then jose checks the signature, `iss`, `aud`,
 * `exp` (required), `nbf` with the leeway, and the verifier checks `iat` is not in the future
 * beyond the leeway and `sub` is present.
 *
 * Caching: a verified token is remembered (by its SHA-256) until its `exp`, so a hot token costs
 * one hash per request; and each connection remembers the last token it presented that was found
 * in the cache, so a client re-sending its token on a keep-alive connection costs one string
 * comparison instead (the hash of a 700-byte token was a third of what auth added per request).
 * That raw token is held only beside its connection (a WeakMap keyed by the socket or HTTP/2
 * session), replaced by the next token found on it, and gone with the connection: no raw
 * credential outlives the connection that carried it, and none is ever found by another
 * connection (a proxy multiplexing clients over one connection gets exact string equality, never
 * a fingerprint). Revocation consequence: a token revoked at the identity provider stays
 * accepted until it expires or is evicted; only a change of the issuer's JWKS (e.g. its signing
 * key removed, noticed at the latest by the refetch due `maxAgeMs` after the last one, which a
 * cached token starts too) or the key set being dropped (`maxStaleMs` of failed refetches past
 * its max age) makes cached tokens of that issuer be verified again.
 */
export async function createJwtVerifier(config: JwtConfig, options: JwtVerifierOptions = {}): Promise<JwtVerifier> {
  const parsed = jwtConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new ConfigError(`jwt: ${parsed.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(top level)"}: ${issue.message}`).join("; ")}`);
  }
  const settings = parsed.data;
  const now = options.now ?? Date.now;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const baseDir = options.baseDir ?? process.cwd();
  const inBase = (file: string): string => (isAbsolute(file) ? file : resolvePath(baseDir, file));

  const issuers = new Map<string, Issuer>();
  try {
    for (const issuer of settings.issuers) {
      issuers.set(issuer.issuer, { config: issuer, algorithms: new Set(issuer.algorithms), keys: await loadIssuerKeys(issuer) });
    }
  } catch (error) {
    for (const issuer of issuers.values()) issuer.keys.close();
    throw error;
  }

  async function loadIssuerKeys(issuer: JwtIssuerConfig): Promise<IssuerKeys> {
    if (issuer.jwksUrl !== undefined) {
      const onJwksFetch = options.onJwksFetch;
      const onFetch = onJwksFetch && ((outcome: JwksFetchOutcome) => onJwksFetch(issuer.issuer, outcome));
      return createJwksKeys({ url: issuer.jwksUrl, fetch: fetchFn, now, ...settings.jwks, ...(onFetch && { onFetch }) });
    }
    if (issuer.keyFile !== undefined) {
      return createStaticKeys(await loadKeyFile(issuer.issuer, inBase(issuer.keyFile), issuer.algorithms));
    }
    const hmacSecretFile = issuer.hmacSecretFile === undefined ? undefined : inBase(issuer.hmacSecretFile);
    return createHmacKeys(await loadHmacSecret(issuer.issuer, { hmacSecret: issuer.hmacSecret, hmacSecretFile }, issuer.algorithms));
  }

  const cache = createVerifiedTokenCache<CachedVerification>({ maxEntries: settings.verifiedTokenCache.maxEntries, now });
  const tolerance = settings.clockToleranceSeconds;
  let closed = false;

  async function verifyUncached(token: string): Promise<CachedVerification> {
    const peek = peekToken(token, settings.maxTokenBytes);
    const issuer = peek.iss === undefined ? undefined : issuers.get(peek.iss);
    if (issuer === undefined) throw jwtRejected("issuer not accepted");
    // Checked before any key lookup: an HS256 token for an RSA issuer never reaches a key.
    if (!issuer.algorithms.has(peek.alg)) throw jwtRejected("algorithm not allowed");
    const { keys, generation } = await issuer.keys.resolve(peek.alg, peek.kid);
    const payload = await verifyWithKeys(token, keys, {
      algorithms: [peek.alg],
      issuer: issuer.config.issuer,
      audience: issuer.config.audiences,
      clockTolerance: tolerance,
      currentDate: new Date(now()),
      requiredClaims: ["exp", "sub"],
    });
    if (typeof payload.sub !== "string") throw jwtRejected("invalid claims");
    if (typeof payload.iat === "number" && payload.iat > Math.floor(now() / 1000) + tolerance) throw jwtRejected("token issued in the future");
    return { jwt: toVerifiedJwt(payload), keys: issuer.keys, generation };
  }

  async function verifyAndRemember(token: string): Promise<VerifiedJwt> {
    if (closed) throw new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "JWT verifier is closed");
    if (typeof token !== "string" || token === "") throw jwtRejected("token missing");
    if (token.length > settings.maxTokenBytes) throw jwtRejected("token too large");
    const verified = await verifyUncached(token);
    cache.set(token, verified, verified.jwt.expiresAt * 1000);
    return verified.jwt;
  }

  const lastTokenOn = new WeakMap<object, ConnectionToken>();

  /** A token verified before, still valid. Checked for size first, so an oversized token is never hashed; a closed verifier's cache is empty. */
  function cached(token: string, connection?: object): VerifiedJwt | undefined {
    if (closed || typeof token !== "string" || token.length > settings.maxTokenBytes) return undefined;
    // One clock read serves the expiry check and the key set's age check.
    const nowMs = now();
    const last = connection === undefined ? undefined : lastTokenOn.get(connection);
    if (last !== undefined && last.token === token) {
      const valid = stillValid(last.verification, nowMs);
      // Stale (expired, or its key set changed): the cache may hold the token verified again since.
      if (valid !== undefined) return valid;
    }
    const hit = cache.get(token, nowMs);
    if (hit === undefined) return undefined;
    if (connection !== undefined) lastTokenOn.set(connection, { token, verification: hit });
    return stillValid(hit, nowMs);
  }

  /** The verification's token, unless it expired or its key set changed (rotation, removal: verified again). */
  function stillValid(verification: CachedVerification, nowMs: number): VerifiedJwt | undefined {
    return verification.jwt.expiresAt * 1000 > nowMs && verification.keys.generation(nowMs) === verification.generation ? verification.jwt : undefined;
  }

  return {
    verify: (token) => cached(token) ?? verifyAndRemember(token),
    cached,
    close() {
      closed = true;
      cache.clear();
      for (const issuer of issuers.values()) issuer.keys.close();
    },
  };
}

type VerifyOptions = NonNullable<Parameters<typeof jwtVerify>[2]>;

/** Tries each candidate key; only a bad signature moves on to the next one. */
async function verifyWithKeys(token: string, keys: readonly VerificationKey[], options: VerifyOptions): Promise<JWTPayload> {
  let lastError: unknown = new errors.JWSSignatureVerificationFailed();
  for (const key of keys) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw rejectionFor(error);
      lastError = error;
    }
  }
  throw rejectionFor(lastError);
}

/** Maps a jose failure to a fixed description; jose's own messages and claim values stay out. */
function rejectionFor(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof errors.JWTExpired) return jwtRejected("token expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") {
      if (error.claim === "exp") return jwtRejected("token missing exp");
      if (error.claim === "sub") return jwtRejected("token missing sub");
      if (error.claim === "aud") return jwtRejected("audience not accepted");
      if (error.claim === "iss") return jwtRejected("issuer not accepted");
    }
    if (error.reason === "check_failed") {
      if (error.claim === "aud") return jwtRejected("audience not accepted");
      if (error.claim === "iss") return jwtRejected("issuer not accepted");
      if (error.claim === "nbf") return jwtRejected("token not yet valid");
    }
    return jwtRejected("invalid claims");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return jwtRejected("algorithm not allowed");
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) return jwtRejected("malformed token");
  // Anything else (a key jose refuses for this algorithm, e.g. a short RSA modulus) fails closed.
  return jwtRejected("signature verification failed");
}

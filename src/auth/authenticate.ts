import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import type { ApiKeyStore } from "./api-keys.js";
import { unauthenticated } from "./auth-errors.js";
import { callerFromApiKey, callerFromJwt, type Caller } from "./caller.js";
import { assertTokenSyntax, createCredentialExtractor, DEFAULT_API_KEY_HEADER, type TokenSource } from "./credentials.js";
import type { JwtVerifier } from "./jwt/jwt-verifier.js";

export interface AuthenticatorOptions {
  /** Verifies bearer tokens; without it no token source is read. */
  readonly jwt?: JwtVerifier;
  /** The configured API keys; without it the API-key header is not read. */
  readonly apiKeys?: ApiKeyStore;
  /** Where tokens come from; default `Authorization: Bearer`. */
  readonly tokenSources?: readonly TokenSource[];
  /** Default `x-api-key`. */
  readonly apiKeyHeader?: string;
}

/** Turns a request's credentials into a caller. */
export interface Authenticator {
  /**
   * The caller `rawHeaders` (Node's `IncomingMessage.rawHeaders`) authenticate, or undefined when
   * the request carries no credentials. Malformed or invalid credentials fail with the 401 of
   * auth-errors.ts (`invalid_request` / `invalid_token`, never echoing the credential); other
   * failures (a bug) fail as they are. Synchronous where nothing waits (no credentials, an API
   * key, a hot token): then a value or a throw; a token to verify gives a promise. `connection`
   * is the request's connection as an opaque key (see `JwtVerifier.cached`).
   */
  authenticate(rawHeaders: readonly string[], connection?: object): Caller | undefined | Promise<Caller | undefined>;
}

/**
 * Builds the authenticator. A request that presents a credential is authenticated even on a
 * public method, so a bad credential is a 401 there too; the caller decides whether to call it.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { jwt, apiKeys } = options;
  const extract = createCredentialExtractor({
    tokenSources: jwt === undefined ? [] : options.tokenSources,
    apiKeyHeader: apiKeys === undefined ? undefined : (options.apiKeyHeader ?? DEFAULT_API_KEY_HEADER),
    // A token found among those verified before passed the check then (the cache is keyed by the whole token).
    deferTokenSyntax: true,
  });

  return {
    authenticate(rawHeaders, connection) {
      const credentials = extract(rawHeaders);
      switch (credentials.kind) {
        case "none":
          return undefined;
        case "api-key": {
          const entry = apiKeys?.find(credentials.key);
          if (entry === undefined) throw unauthenticated("invalid_token", "invalid API key");
          return callerFromApiKey(entry);
        }
        case "jwt": {
          if (jwt === undefined) throw unauthenticated("invalid_token", "bearer tokens are not accepted");
          const hot = jwt.cached(credentials.token, connection);
          if (hot !== undefined) return callerFromJwt(hot);
          assertTokenSyntax(credentials);
          let verified: ReturnType<JwtVerifier["verify"]>;
          try {
            verified = jwt.verify(credentials.token);
          } catch (error) {
            throw asTokenRejection(error);
          }
          if (verified instanceof Promise) return verified.then(callerFromJwt, rejectToken);
          return callerFromJwt(verified);
        }
      }
    },
  };
}

/**
 * The verifier's UNAUTHENTICATED errors carry a fixed description but no challenge; this adds
 * the `invalid_token` challenge (the original stays in `cause`, for the log).
 */
function rejectToken(error: unknown): never {
  throw asTokenRejection(error);
}

function asTokenRejection(error: unknown): unknown {
  if (error instanceof GatewayError && error.code === GrpcCode.UNAUTHENTICATED) {
    return error.headers["www-authenticate"] !== undefined ? error : unauthenticated("invalid_token", error.message, error, error.authFailure ?? "invalid");
  }
  return error;
}

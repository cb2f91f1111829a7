import type { AnyBinding } from "../binding.js";
import { createApiKeyStore } from "./api-keys.js";
import { credentialHeaderNames, type AuthConfig } from "./auth-config.js";
import { createAuthenticator } from "./authenticate.js";
import { createAuthorizer, type EffectiveRule } from "./authorize.js";
import type { Caller } from "./caller.js";
import { createFailedAttemptLimiter, type FailedAttemptLimiterOptions } from "./failed-attempts.js";
import { applyTrustedIdentity, createIdentityOptions } from "./identity.js";
import { createJwtVerifier, type JwtVerifierOptions } from "./jwt/jwt-verifier.js";

/** Everything the pipeline needs from authentication and authorisation, assembled from `auth:`. */
export interface EdgeAuth {
  /** Whether authentication is on (`auth.mode`). */
  readonly enabled: boolean;
  /** Request headers (lower-case) `metadata` always removes: the credential headers and the identity keys. */
  readonly droppedHeaders: ReadonlySet<string>;
  /** The rule of a route, resolved once at start (proto rule, then config overrides). */
  ruleFor(binding: Pick<AnyBinding, "service" | "method" | "auth">): EffectiveRule;
  /**
   * Authenticates the request's credentials and authorises the caller for `rule`; rejects with
   * the 401/403 GatewayError. Resolves to the caller (undefined: anonymous on a public route, or
   * auth off). With `auth.failedAttempts` set, a `clientIp` over its failed attempts is rejected
   * with 429 before anything is verified, and each failed authentication is counted against it.
   * The caller comes synchronously when nothing has to wait (auth off, no credentials, an API
   * key, a hot token): no promise and no microtask turn on the hot path. Failures always come as
   * a rejected promise, never as a throw. `connection` (the request's connection, as an opaque
   * key) lets a connection that sends the same token again skip the verified-token cache's hash.
   */
  admit(rule: EffectiveRule, rawHeaders: readonly string[], clientIp?: string, connection?: object): Caller | undefined | Promise<Caller | undefined>;
  /**
   * Authorises an already authenticated caller for another rule (an aggregate's call, as if the
   * client had called that method): throws the 401/403 GatewayError, or returns. No-op when auth is off.
   */
  authorize(rule: EffectiveRule, caller: Caller | undefined): void;
  /** The upstream metadata: client-sent identity and credentials removed, the trusted identity added. */
  metadata(pairs: ReadonlyArray<[string, string | Buffer]>, caller: Caller | undefined, rule: EffectiveRule, authorization: string | undefined): Array<[string, string | Buffer]>;
  close(): void;
}

/** Test seams of the edge checks: the JWT verifier's clock and fetch, the failed-attempt limiter's clock. */
export interface EdgeAuthOptions extends JwtVerifierOptions {
  readonly failedAttempts?: FailedAttemptLimiterOptions;
}

/** Builds the edge checks from the validated `auth:` config (loads JWT key files, so it is async). */
export async function createEdgeAuth(config: AuthConfig, options: EdgeAuthOptions = {}): Promise<EdgeAuth> {
  const jwt = config.mode === "on" && config.jwt ? await createJwtVerifier(config.jwt, options) : undefined;
  const authenticator = createAuthenticator({
    jwt,
    apiKeys: config.apiKeys ? createApiKeyStore(config.apiKeys.keys) : undefined,
    tokenSources: config.tokenSources,
    apiKeyHeader: config.apiKeys?.header,
  });
  const authorizer = createAuthorizer(config.rules);
  const identity = createIdentityOptions({ ...config.identity, credentialHeaders: credentialHeaderNames(config) });
  const enabled = config.mode === "on";
  const failedAttempts = enabled && config.failedAttempts ? createFailedAttemptLimiter(config.failedAttempts, options.failedAttempts) : undefined;
  const authorize = (rule: EffectiveRule, caller: Caller | undefined): Caller | undefined => {
    authorizer.authorize(rule, caller);
    return caller;
  };
  return {
    enabled,
    droppedHeaders: new Set([...identity.credentialKeys, ...identity.stripKeys]),
    ruleFor: (binding) => authorizer.effectiveRule(binding.service, binding.method, binding.auth),
    admit(rule, rawHeaders, clientIp, connection) {
      if (!enabled) return undefined;
      const attempts = failedAttempts !== undefined && clientIp !== undefined ? failedAttempts : undefined;
      const ip = clientIp ?? "";
      let authenticated: ReturnType<typeof authenticator.authenticate>;
      try {
        attempts?.check(ip);
      } catch (error) {
        return Promise.reject(error);
      }
      try {
        authenticated = authenticator.authenticate(rawHeaders, connection);
      } catch (error) {
        attempts?.record(ip, error);
        return Promise.reject(error);
      }
      if (authenticated instanceof Promise) {
        return authenticated.then(
          (caller) => authorize(rule, caller),
          (error: unknown) => {
            attempts?.record(ip, error);
            throw error;
          },
        );
      }
      try {
        return authorize(rule, authenticated);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    authorize(rule, caller) {
      if (enabled) authorizer.authorize(rule, caller);
    },
    metadata: (pairs, caller, rule, authorization) => applyTrustedIdentity(pairs, caller, rule, identity, authorization),
    close: () => jwt?.close(),
  };
}

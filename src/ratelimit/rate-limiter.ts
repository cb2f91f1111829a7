import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Caller } from "../auth/caller.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { durationJson, retryAfter } from "../errors/retry-after.js";
import { rateLimitHeaders } from "./limit-headers.js";
import { createMemoryStore, type MemoryStore } from "./memory-store.js";
import { limitsForMethod, type MethodLimit, type ResolvedQuota } from "./quotas.js";
import type { LimitKey, RateLimitConfig } from "./rate-limit-config.js";
import { RateLimitStoreError, type LimitCheck, type RateLimitStore, type StoreDecision } from "./store.js";

/** What a limit can be keyed by, for one request. */
export interface LimitedRequest {
  readonly caller: Caller | undefined;
  readonly clientIp: string;
  readonly headers: IncomingHttpHeaders;
}

/** Response headers of an admitted request (empty when no limit applied). */
export type LimitHeaders = Readonly<Record<string, string>>;

/** The limits of one method. */
export interface MethodLimiter {
  /**
   * Counts the request against every applicable limit. Resolves with the rate-limit headers, or
   * throws a GatewayError: 429 RESOURCE_EXHAUSTED (with Retry-After and RetryInfo), or 503 when
   * the store is down and a limit fails closed.
   */
  check(request: LimitedRequest): LimitHeaders | Promise<LimitHeaders>;
}

/** How a limit decided one request (for metrics): by the store, by the local fallback, or failed closed. */
export type RateLimitDecision = "admitted" | "limited" | "fallback" | "store_error";

/** What the limiter tells its observer (metrics) about each decision, per limit (policy). */
export interface RateLimitEvents {
  decided(policy: string, decision: RateLimitDecision): void;
}

/** The state of the limit store, for readiness and metrics (read-only). */
export type RateLimitStoreHealth = { readonly store: "memory" } | { readonly store: "redis"; readonly connected: boolean; readonly breaker: "closed" | "open" | "half-open" };

export interface RateLimiter {
  /** The limiter of a method, or undefined when no limit applies to it. */
  forMethod(service: string, method: string): MethodLimiter | undefined;
  /** The store's state now. */
  storeHealth(): RateLimitStoreHealth;
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  /** The bucket store; a local memory store also serves fail-open limits when it is not one itself. */
  readonly store: RateLimitStore;
  /** The per-replica store for fail-open limits while the shared store is down. */
  readonly fallback?: MemoryStore;
  /** Hears each decision (metrics); none by default. */
  readonly events?: RateLimitEvents;
  /** The store's state (a shared store's connection and breaker); memory by default. */
  readonly health?: () => RateLimitStoreHealth;
}

const MEMORY_HEALTH: RateLimitStoreHealth = Object.freeze({ store: "memory" });

/** What a request no limit applied to adds to its response. */
export const NO_LIMIT_HEADERS: LimitHeaders = Object.freeze({});
/** Longer key values (header values, subjects) are hashed to keep bucket keys short. */
const MAX_KEY_VALUE_CHARS = 128;
const QUOTA_FAILURE_TYPE = "type.googleapis.com/google.rpc.QuotaFailure";

/** Builds the limiter from `rateLimits`; methods no limit selects cost nothing. */
export function createRateLimiter(config: RateLimitConfig, options: RateLimiterOptions): RateLimiter {
  const { store, events } = options;
  const health = options.health ?? (() => MEMORY_HEALTH);
  const fallback = options.fallback ?? createMemoryStore({ maxKeys: config.memory.maxKeys });

  const storeFailed = (error: unknown, quotas: readonly ResolvedQuota[], limits: readonly MethodLimit[], checks: readonly LimitCheck[]): LimitHeaders => {
    if (!(error instanceof RateLimitStoreError)) throw error;
    const closed = limits.find((limit) => !limit.failOpen);
    if (events) for (const limit of limits) events.decided(limit.name, closed ? "store_error" : "fallback");
    if (closed) {
      throw new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_RATE_LIMIT_UNAVAILABLE", `rate limiting is unavailable (limit "${closed.name}" fails closed); retry later`, {
        headers: { "retry-after": "1" },
        cause: error,
      });
    }
    const local = checks.map((check, i) => ({ key: check.key, params: quotas[i].fallbackParams }));
    return verdict(fallback.consume(local), quotas, undefined);
  };

  return {
    forMethod(service, method) {
      const limits = limitsForMethod(config, service, method);
      if (limits.length === 0) return undefined;
      const rpcPath = `/${service}/${method}`;
      return {
        check(request) {
          const tier = callerTier(request.caller, config.tierClaim);
          const quotas: ResolvedQuota[] = [];
          const applied: MethodLimit[] = [];
          const checks: LimitCheck[] = [];
          for (const limit of limits) {
            const value = keyValue(limit.key, request, rpcPath);
            if (value === undefined) continue;
            const quota = limit.quotaFor(tier);
            quotas.push(quota);
            applied.push(limit);
            checks.push({ key: quota.bucketPrefix + value, params: quota.params });
          }
          if (checks.length === 0) return NO_LIMIT_HEADERS;
          let decision: StoreDecision | Promise<StoreDecision>;
          try {
            decision = store.consume(checks);
          } catch (error) {
            return storeFailed(error, quotas, applied, checks);
          }
          if (decision instanceof Promise) {
            return decision.then(
              (settled) => verdict(settled, quotas, events),
              (error: unknown) => storeFailed(error, quotas, applied, checks),
            );
          }
          return verdict(decision, quotas, events);
        },
      };
    },
    storeHealth: health,
    async close() {
      await store.close();
      await fallback.close();
    },
  };
}

/** The headers of an admitted request, or the 429 of a rejected one. */
function verdict(decision: StoreDecision, quotas: readonly ResolvedQuota[], events: RateLimitEvents | undefined): LimitHeaders {
  if (events) for (let i = 0; i < quotas.length; i++) events.decided(quotas[i].limitName, decision.states[i].allowed ? "admitted" : "limited");
  const headers = rateLimitHeaders(quotas, decision.states);
  if (decision.allowed) return headers;
  let retryAfterUs = 0;
  const violations: Array<{ subject: string; description: string }> = [];
  decision.states.forEach((state, i) => {
    if (state.allowed) return;
    retryAfterUs = Math.max(retryAfterUs, state.retryAfterUs);
    violations.push({ subject: `limit:${quotas[i].limitName}`, description: `at most ${quotas[i].requests} requests per ${quotas[i].periodSeconds} s` });
  });
  const wait = retryAfter(retryAfterUs);
  throw new GatewayError(GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_RATE_LIMITED", `rate limit exceeded (${violations.map((v) => v.subject.slice(6)).join(", ")}); retry after ${durationJson(retryAfterUs)}`, {
    headers: { ...headers, "retry-after": wait.header },
    details: [
      wait.detail,
      { "@type": QUOTA_FAILURE_TYPE, violations },
    ],
  });
}

/** The caller's tier: an API key's own, a JWT's `tierClaim`, `anonymous` without a caller. */
export function callerTier(caller: Caller | undefined, tierClaim: string | undefined): string {
  if (!caller) return "anonymous";
  if (caller.tier !== undefined) return caller.tier;
  const claimed = tierClaim === undefined ? undefined : caller.claims[tierClaim];
  return typeof claimed === "string" ? claimed : "default";
}

/**
 * The part of the bucket key that the limit's key names for this request, or undefined when the
 * request does not have it (the limit then does not apply). Identities of different kinds get
 * different prefixes so that a subject can never share a bucket with an IP or an API key.
 */
export function keyValue(key: LimitKey, request: LimitedRequest, rpcPath: string): string | undefined {
  const { caller } = request;
  switch (key) {
    case "caller":
      return caller ? subjectKey(caller) : `ip:${request.clientIp}`;
    case "subject":
      return caller && subjectKey(caller);
    case "consumer":
      return caller?.consumer === undefined ? undefined : `c:${bounded(caller.consumer)}`;
    case "apiKey":
      return caller?.keyId === undefined ? undefined : `k:${caller.keyId}`;
    case "ip":
      return `ip:${request.clientIp}`;
    case "route":
      return rpcPath;
    case "global":
      return "*";
    default: {
      const value = request.headers[key.slice("header:".length)];
      const first = Array.isArray(value) ? value[0] : value;
      return first === undefined || first === "" ? undefined : `h:${bounded(first)}`;
    }
  }
}

function subjectKey(caller: Caller): string {
  return caller.kind === "jwt" ? `j:${bounded(`${caller.issuer ?? ""} ${caller.subject}`)}` : `c:${bounded(caller.subject)}`;
}

function bounded(value: string): string {
  return value.length <= MAX_KEY_VALUE_CHARS ? value : `#${createHash("sha256").update(value).digest("base64url")}`;
}

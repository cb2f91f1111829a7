/**
 * The resilience options of one upstream, as gateway.yaml gives them (`upstreams.<service>`), with
 * the defaults filled in by the config schema. Each block is off when absent.
 */

/** How calls are spread over an upstream's addresses in rotation. */
export type BalancingPolicy = "round_robin" | "least_request";

/** Retries of idempotent calls (see retry-policy.ts for which failures qualify). */
export interface RetryOptions {
  /** Attempts per call, the first included (gRPC's `maxAttempts`; 2 to 5). */
  readonly maxAttempts: number;
  /** Backoff before retry n: a random time up to `min(maxBackoffMs, initialBackoffMs * 2^(n-1))` (full jitter). */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Retries in flight at most this share (%) of the upstream's calls in flight... */
  readonly budgetPercent: number;
  /** ...but always this many (Envoy's retry budget: `budget_percent`, `min_retry_concurrency`). */
  readonly minRetryConcurrency: number;
}

/** Ejection of addresses that fail in a row (Envoy's outlier detection, consecutive gateway failures). */
export interface OutlierDetectionOptions {
  /** Connection failures or UNAVAILABLE answers in a row that eject an address. */
  readonly consecutiveFailures: number;
  /** An ejection lasts this long times the address's ejections so far (decaying while it behaves). */
  readonly baseEjectionMs: number;
  /** The longest ejection. */
  readonly maxEjectionMs: number;
  /** At most this share (%) of the addresses is ejected at once, but one of two or more always may be. */
  readonly maxEjectionPercent: number;
}

/** The circuit breaker of a whole upstream. */
export interface CircuitBreakerOptions {
  /** Calls in a row that failed (connection failure or UNAVAILABLE, after retries) that open it. */
  readonly consecutiveFailures: number;
  /** How long it stays open before one probe call is let through. */
  readonly coolDownMs: number;
}

/** Active health checks with grpc.health.v1.Health/Check on each address. */
export interface HealthCheckOptions {
  /** The `service` of the HealthCheckRequest ("" asks about the server as a whole). */
  readonly service: string;
  readonly intervalMs: number;
  /** A check not answered SERVING within this long fails. */
  readonly timeoutMs: number;
  /** Failed checks in a row that take an address out of rotation. */
  readonly unhealthyThreshold: number;
  /** Passed checks in a row that put it back. */
  readonly healthyThreshold: number;
}

/** Everything about how one upstream spreads and protects its calls. */
export interface ResilienceOptions {
  readonly balancing?: BalancingPolicy;
  /** `dns:///` targets: how often the name is resolved again. */
  readonly dnsRefreshMs?: number;
  readonly retries?: RetryOptions;
  readonly outlierDetection?: OutlierDetectionOptions;
  readonly circuitBreaker?: CircuitBreakerOptions;
  /** Calls and streams in flight on the upstream at most; beyond, a fast 503 with Retry-After. */
  readonly maxConcurrentCalls?: number;
  readonly healthCheck?: HealthCheckOptions;
}

/** How often a `dns:///` target is resolved again by default (gRPC's minimum re-resolution interval). */
export const DEFAULT_DNS_REFRESH_MS = 30_000;

/** The prefix of a target resolved through DNS: `dns:///NAME:PORT` (gRPC's naming, no authority). */
export const DNS_SCHEME = "dns:///";

/** Whether any option asks for the balanced upstream (otherwise one address is a plain upstream). */
export function hasResilienceOptions(options: ResilienceOptions): boolean {
  return (
    options.balancing !== undefined ||
    options.retries !== undefined ||
    options.outlierDetection !== undefined ||
    options.circuitBreaker !== undefined ||
    options.maxConcurrentCalls !== undefined ||
    options.healthCheck !== undefined
  );
}

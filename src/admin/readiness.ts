import type { RateLimitStoreHealth } from "../ratelimit/rate-limiter.js";
import type { UpstreamStatus } from "../upstream/upstream.js";

/** Where the gateway is in its life: readiness is "serving" only. */
export type GatewayPhase = "starting" | "serving" | "draining";

/** What /readyz answers (its JSON body). */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly phase: GatewayPhase;
  /**
   * Each configured upstream's connection state (a balanced upstream: each address's state and
   * health, and its breaker), for operators: it never fails readiness (one sick upstream must
   * not take every replica out of the load balancer).
   */
  readonly upstreams: readonly UpstreamStatus[];
  /** The rate-limit store's state (Redis: connected, breaker), reported the same way; absent with the memory store. */
  readonly rateLimitStore?: RateLimitStoreHealth;
}

export interface ReadinessSources {
  readonly phase: () => GatewayPhase;
  readonly upstreams: () => readonly UpstreamStatus[];
  readonly rateLimitStore: () => RateLimitStoreHealth;
}

/** The readiness report now: ready only while serving (config and routes loaded, listener accepting, not draining). */
export function readinessReport(sources: ReadinessSources): ReadinessReport {
  const phase = sources.phase();
  const store = sources.rateLimitStore();
  return {
    ready: phase === "serving",
    phase,
    upstreams: sources.upstreams(),
    ...(store.store === "redis" && { rateLimitStore: store }),
  };
}

import type { EndpointHealth, Upstream } from "../upstream.js";

/**
 * One address of a balanced upstream and what the balancer, the outlier detector and the health
 * checker know of it. Plain fields, updated in place on the hot path (a call costs a few
 * increments, never an allocation).
 */
export class Endpoint {
  /** Calls and streams in flight on this address (least_request balances on it). */
  active = 0;
  /** In rotation: not ejected, not failing health checks, not removed. Kept up to date by `refresh`. */
  available = true;
  /** Outlier detection: failures in a row. */
  consecutiveFailures = 0;
  /** Outlier detection: ejected until this time (clock ms); 0 when not ejected. */
  ejectedUntil = 0;
  /** Outlier detection: ejections so far (decays while the address behaves), the multiplier of the next. */
  timesEjected = 0;
  /** When the last ejection ended (clock ms), for the decay. */
  returnedAt = 0;
  /** Health checks: passing (true until checks say otherwise). */
  healthy = true;
  /** Health checks: results in a row that disagree with `healthy`. */
  healthStreak = 0;
  /** A health check is in flight. */
  checking = false;
  /** No longer among the addresses (a DNS answer dropped it); closed once idle. */
  removed = false;

  constructor(
    readonly address: string,
    readonly upstream: Upstream,
  ) {}

  /** A call or stream on it ended. An address no longer listed closes its connection after its last one. */
  done(): void {
    if (--this.active === 0 && this.removed) this.upstream.close();
  }

  /** Recomputes `available` after a change of state. */
  refresh(): void {
    this.available = this.healthy && this.ejectedUntil === 0 && !this.removed;
  }

  /** Its state for a readiness report. */
  health(): EndpointHealth {
    if (this.ejectedUntil !== 0) return "ejected";
    return this.healthy ? "healthy" : "unhealthy";
  }
}

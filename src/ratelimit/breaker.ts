export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker refuses calls before it lets one probe through. */
  readonly coolDownMs: number;
  readonly now?: () => number;
  /** Called when the breaker opens after working (not again while it stays down). */
  readonly onTrip?: (cause: unknown) => void;
  /** Called when a probe succeeds after the breaker had opened. */
  readonly onRecover?: (downForMs: number) => void;
}

export type BreakerState = "closed" | "open" | "half-open";

/**
 * A circuit breaker for a dependency that may die: after `failureThreshold` failures in a row it
 * opens and refuses calls for `coolDownMs`, so requests stop waiting on a dead server's timeouts;
 * then it lets a single probe through (half-open), which closes it on success or opens it again.
 */
export class CircuitBreaker {
  private current: BreakerState = "closed";
  private failures = 0;
  private openedAt = 0;
  private downSince = 0;
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    if (!(options.failureThreshold >= 1) || !(options.coolDownMs >= 0)) throw new RangeError("failureThreshold >= 1 and coolDownMs >= 0 required");
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call may go to the dependency now. In half-open state only the one probe may. */
  allow(): boolean {
    if (this.current === "closed") return true;
    if (this.current === "open" && this.now() - this.openedAt >= this.options.coolDownMs) {
      this.current = "half-open";
      return true;
    }
    return false;
  }

  success(): void {
    // A call let through before the breaker opened may still succeed late (a slow reply just under
    // the timeout): only the probe's answer may close an open breaker, so it stays open until then.
    if (this.current === "open") return;
    if (this.current === "half-open") {
      this.current = "closed";
      this.options.onRecover?.(this.now() - this.downSince);
    }
    this.failures = 0;
  }

  failure(cause: unknown): void {
    this.failures++;
    if (this.current === "half-open") {
      this.current = "open";
      this.openedAt = this.now();
    } else if (this.current === "closed" && this.failures >= this.options.failureThreshold) {
      this.current = "open";
      this.openedAt = this.downSince = this.now();
      this.options.onTrip?.(cause);
    }
  }
}

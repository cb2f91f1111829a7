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
 * What `admit` hands a call it lets through, to report the call's outcome with. It names the
 * breaker state the call was admitted in: an outcome reported after the state changed is
 * ignored (see `success`).
 */
export type BreakerTicket = number;

/**
 * A circuit breaker for a dependency that may die (the Redis rate-limit store, a balanced
 * upstream): after `failureThreshold` failures in a row it opens and refuses calls for
 * `coolDownMs`, so requests stop waiting on a dead server's timeouts; then it lets a single probe
 * through (half-open), which closes it on success or opens it again. Signs of life (`probeNow`)
 * end the cool-down early.
 */
export class CircuitBreaker {
  private current: BreakerState = "closed";
  /** Changes with every state change: the ticket of the calls admitted since. */
  private epoch = 0;
  private failures = 0;
  private openedAt = 0;
  private downSince = 0;
  private probeDue = false;
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    if (!(options.failureThreshold >= 1) || !(options.coolDownMs >= 0)) throw new RangeError("failureThreshold >= 1 and coolDownMs >= 0 required");
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /**
   * Whether a call may go to the dependency now: its ticket, or undefined when refused. In
   * half-open state only the one probe is admitted.
   */
  admit(): BreakerTicket | undefined {
    if (this.current === "closed") return this.epoch;
    if (this.current === "open" && (this.probeDue || this.now() - this.openedAt >= this.options.coolDownMs)) {
      this.enter("half-open");
      return this.epoch;
    }
    return undefined;
  }

  /**
   * The call admitted with `ticket` succeeded. Only an outcome from the current state counts: a
   * late success of a call let through before the breaker opened does not close it (only the
   * probe's answer does), and a late failure of a call sent before the probe does not count
   * against the dependency that has answered since.
   */
  success(ticket: BreakerTicket): void {
    if (ticket !== this.epoch) return;
    if (this.current === "half-open") {
      this.enter("closed");
      this.options.onRecover?.(this.now() - this.downSince);
    }
    this.failures = 0;
  }

  /** The call admitted with `ticket` failed (see `success` for which outcomes count). */
  failure(ticket: BreakerTicket, cause: unknown): void {
    if (ticket !== this.epoch) return;
    if (this.current === "half-open") {
      this.enter("open");
    } else if (++this.failures >= this.options.failureThreshold) {
      this.enter("open");
      this.downSince = this.openedAt;
      this.options.onTrip?.(cause);
    }
  }

  /**
   * The call admitted with `ticket` ended without saying anything about the dependency (the
   * caller gave up, or its own deadline passed). A half-open probe that ends so frees its place:
   * the next call is the probe, rather than the breaker waiting half-open for good.
   */
  release(ticket: BreakerTicket): void {
    if (ticket !== this.epoch || this.current !== "half-open") return;
    this.current = "open";
    this.epoch++;
    this.probeDue = true;
  }

  /** While open: how long until a probe may go (0 when one may go now); 0 otherwise. */
  msUntilProbe(): number {
    if (this.current !== "open" || this.probeDue) return 0;
    return Math.max(0, this.options.coolDownMs - (this.now() - this.openedAt));
  }

  /**
   * The dependency shows signs of life (it answered a call that had been given up, or a
   * connection to it was made again): an open breaker lets the next call through as its probe
   * now rather than after the cool-down. Only the probe's answer closes it.
   */
  probeNow(): void {
    if (this.current === "open") this.probeDue = true;
  }

  private enter(state: BreakerState): void {
    this.current = state;
    this.epoch++;
    this.failures = 0;
    if (state === "open") {
      this.openedAt = this.now();
      this.probeDue = false;
    }
  }
}

/**
 * How many retries one upstream may have in flight (Envoy's retry budget): at most
 * `budgetPercent` of the calls in flight on it, but always `minRetryConcurrency`, so a quiet
 * upstream can still retry. A budget rather than a fixed count per call keeps retries from
 * multiplying the load on an upstream that is failing as a whole: past the budget, calls fail
 * with their own error instead of being retried. A budget over calls in flight, not over a
 * window of recent requests, needs no clock and follows the load as it is now.
 */
export class RetryBudget {
  /** Retries in flight. */
  private retries = 0;
  private readonly share: number;

  constructor(
    budgetPercent: number,
    private readonly minRetryConcurrency: number,
  ) {
    this.share = budgetPercent / 100;
  }

  /** Takes a retry out of the budget, given the calls in flight now (this one included); false when it is spent. */
  acquire(callsInFlight: number): boolean {
    if (this.retries >= Math.max(this.minRetryConcurrency, callsInFlight * this.share)) return false;
    this.retries++;
    return true;
  }

  /** The retry taken with `acquire` has ended. */
  release(): void {
    this.retries--;
  }

  /** Retries in flight now. */
  get inFlight(): number {
    return this.retries;
  }
}

/** How soon a worker that died is started again. */
export interface RestartPolicy {
  /** The delay before the first restart after a stable run. */
  readonly initialDelayMs: number;
  /** The delay never grows beyond this. */
  readonly maxDelayMs: number;
  /** A worker that ran at least this long was stable: the next failure starts from the initial delay again. */
  readonly stableAfterMs: number;
}

/**
 * 100 ms, doubling to at most 30 s: a worker that crashes once is back at once, one that crashes
 * at start (a broken generated folder, a key file gone) is retried ever more slowly instead of
 * spinning; a worker that stayed up for a minute resets the count.
 */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 100, maxDelayMs: 30_000, stableAfterMs: 60_000 };

/** The restart delays of one worker slot: exponential backoff with a cap, reset after a stable run. */
export class RestartBackoff {
  private failures = 0;

  constructor(private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  /** The worker of this slot died after running `uptimeMs`: how long to wait before starting the next one. */
  nextDelay(uptimeMs: number): number {
    if (uptimeMs >= this.policy.stableAfterMs) this.failures = 0;
    const delay = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** this.failures);
    this.failures++;
    return delay;
  }
}

import type { Timers } from "../timers.js";

/**
 * Fires once when a stream has seen no message in either direction for `idleMs` (Envoy's
 * stream_idle_timeout). One timer per stream, re-armed lazily: `touch` only records the time, so
 * a message costs no timer operation.
 */
export class IdleWatchdog {
  private last: number;
  private timer: unknown;
  /** Whether the watchdog has fired. */
  fired = false;

  constructor(
    private readonly idleMs: number | undefined,
    private readonly timers: Timers,
    private readonly onIdle: () => void,
  ) {
    this.last = timers.now();
    if (idleMs !== undefined) this.timer = timers.setTimeout(this.check, idleMs);
  }

  /** A message went by. */
  touch(): void {
    this.last = this.timers.now();
  }

  stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly check = (): void => {
    if (this.idleMs === undefined) return;
    const idle = this.timers.now() - this.last;
    if (idle < this.idleMs) {
      this.timer = this.timers.setTimeout(this.check, this.idleMs - idle);
      return;
    }
    this.timer = undefined;
    this.fired = true;
    this.onIdle();
  };
}

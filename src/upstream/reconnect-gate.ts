import type { SessionUnavailable } from "./grpc-exchange.js";
import { DEFAULT_RECONNECT_BACKOFF, type ReconnectBackoff } from "./upstream-options.js";

const BACKOFF_JITTER = 0.2;

export interface ReconnectGateOptions {
  /** Reconnection backoff after a failed connection attempt (tests shorten it). */
  backoff?: ReconnectBackoff;
  /** Clock in ms, for the backoff. */
  now?: () => number;
  /** Random source in [0, 1), for the backoff's jitter (tests fix it). */
  random?: () => number;
}

/**
 * When an upstream connection may be attempted, shared by the HTTP/2 clients: after an attempt
 * that failed before the upstream's SETTINGS arrived (refused, reset, TLS failure, connect
 * timeout), calls fail at once for a backoff instead of connecting again each time, so a down
 * upstream under load gets one attempt per backoff, not one per request. Attempts are only ever
 * made for a call (there is no background reconnection), so the backoff's cap is both the
 * longest a restarted upstream waits for the gateway to notice, under load, and the shortest
 * interval between attempts to a down one (see `DEFAULT_RECONNECT_BACKOFF`). An attempt that
 * completes its handshake resets the schedule: the loss of a working connection starts the next
 * attempt at once and the backoff from its start.
 */
export class ReconnectGate {
  /** The upstream was closed: no attempt will ever be made again. */
  closed = false;
  /** Attempts in a row that failed before the upstream's SETTINGS. */
  private failedAttempts = 0;
  private retryAtMs = 0;
  private lastFailure = "";
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly backoff: ReconnectBackoff;

  constructor(options: ReconnectGateOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? DEFAULT_RECONNECT_BACKOFF;
  }

  /** Why no attempt may be made now (closed, or backing off), or undefined when one may. */
  refusal(): SessionUnavailable | undefined {
    if (this.closed) return { unavailable: "The upstream was closed" };
    const waitMs = this.retryAtMs - this.now();
    if (waitMs > 0) return { unavailable: `Connection failed (${this.lastFailure}); next attempt in ${Math.ceil(waitMs)} ms` };
    return undefined;
  }

  /** The attempt completed its handshake. */
  succeeded(): void {
    this.failedAttempts = 0;
    this.retryAtMs = 0;
  }

  /** The attempt failed before its handshake completed, for `reason`: the backoff starts. */
  failed(reason: string): void {
    if (this.closed) return;
    this.failedAttempts++;
    this.lastFailure = reason;
    this.retryAtMs = this.now() + backoffMs(this.backoff, this.failedAttempts, this.random());
  }
}

/** The pause before attempt `failedAttempts + 1`, with jitter (`random` in [0, 1)) so that replicas do not reconnect in step. */
export function backoffMs(backoff: ReconnectBackoff, failedAttempts: number, random: number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failedAttempts - 1, 30));
  return base * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * random);
}

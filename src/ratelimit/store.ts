import type { GcraParams } from "./gcra.js";

/** One limit to check for a request: the bucket's key and its shape. */
export interface LimitCheck {
  readonly key: string;
  readonly params: GcraParams;
}

/** The state of one limit after a request. */
export interface LimitState {
  readonly allowed: boolean;
  readonly remaining: number;
  /** Microseconds until the bucket is full again. */
  readonly resetUs: number;
  /** Microseconds until a request would be admitted; 0 when this limit admitted it. */
  readonly retryAfterUs: number;
}

/** The verdict on one request: admitted only when every limit admits it. */
export interface StoreDecision {
  readonly allowed: boolean;
  /** One state per check, in the order of the checks. */
  readonly states: readonly LimitState[];
}

/**
 * Where buckets live. `consume` admits a request only if every check admits it, and a rejected
 * request consumes nothing from any bucket (all checks are one atomic step). A store that cannot
 * answer (Redis down) rejects with `RateLimitStoreError`.
 */
export interface RateLimitStore {
  consume(checks: readonly LimitCheck[]): StoreDecision | Promise<StoreDecision>;
  close(): Promise<void>;
}

/** The store could not decide (connection, timeout, script error): the limit's failure policy applies. */
export class RateLimitStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RateLimitStoreError";
  }
}

/** Wall-clock microseconds from the monotonic clock (never steps back). */
export function monotonicNowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

import type { ResolvedQuota } from "./quotas.js";
import type { LimitState } from "./store.js";

const US_PER_SECOND = 1_000_000;

/** Whole seconds, rounded up, so a client that waits that long is never early. */
export function ceilSeconds(us: number): number {
  return Math.ceil(us / US_PER_SECOND);
}

/**
 * The rate-limit response fields for the limits applied to a request:
 * - `X-RateLimit-Limit`, `-Remaining`, `-Reset` (seconds until the bucket is full again) of the
 *   tightest limit (least remaining, then latest reset);
 * - `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers: structured-field
 *   lists, one item per limit, `q`/`w` for the quota and window, `r`/`t` remaining and reset).
 */
export function rateLimitHeaders(quotas: readonly ResolvedQuota[], states: readonly LimitState[]): Record<string, string> {
  let tightest = 0;
  let policy = "";
  let current = "";
  for (let i = 0; i < states.length; i++) {
    const state = states[i];
    const best = states[tightest];
    if (state.remaining < best.remaining || (state.remaining === best.remaining && state.resetUs > best.resetUs)) tightest = i;
    const separator = i === 0 ? "" : ", ";
    policy += separator + quotas[i].policyItem;
    current += `${separator}"${quotas[i].limitName}";r=${state.remaining};t=${ceilSeconds(state.resetUs)}`;
  }
  return {
    "x-ratelimit-limit": String(quotas[tightest].requests),
    "x-ratelimit-remaining": String(states[tightest].remaining),
    "x-ratelimit-reset": String(ceilSeconds(states[tightest].resetUs)),
    "ratelimit-policy": policy,
    ratelimit: current,
  };
}

/** `google.protobuf.Duration` JSON for a whole number of microseconds, e.g. `1.500s`. */
export function durationJson(us: number): string {
  const seconds = Math.floor(us / US_PER_SECOND);
  const micros = us % US_PER_SECOND;
  if (micros === 0) return `${seconds}s`;
  const fraction = String(micros).padStart(6, "0");
  return `${seconds}.${fraction.endsWith("000") ? fraction.slice(0, 3) : fraction}s`;
}

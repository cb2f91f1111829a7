import type { ResolvedQuota } from "./quotas.js";
import type { LimitState } from "./store.js";
import { ceilSeconds } from "../errors/retry-after.js";

/** Re-exported: the rate limiter's delays are formatted as every retry delay is (errors/retry-after.ts). */
export { ceilSeconds, durationJson } from "../errors/retry-after.js";

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

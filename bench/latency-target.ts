/**
 * Issue 12's latency target: at half of Protogate's own saturated rate, Protogate's p99 is at most
 * 1 ms above the p99 of direct grpc-js calls to the same backend at the same rate. Below
 * saturation the difference is what the gateway adds to a request's time, not queueing.
 */
export const LATENCY_TARGET = { rateShare: 0.5, maxP99AboveDirectMs: 1 } as const;

/** One route measured through Protogate and directly at the same fixed rate. */
export interface LatencyVerdict {
  readonly route: string;
  readonly routeLabel: string;
  readonly ratePerSecond: number;
  readonly protogateP99Ms: number;
  readonly directP99Ms: number;
  /** Protogate's p99 - direct's, in ms. */
  readonly differenceMs: number;
  readonly met: boolean;
}

/** The fixed rate for the latency run: a share of the saturated req/s, at least 1. */
export function latencyRate(saturatedRequestsPerSecond: number): number {
  return Math.max(1, Math.floor(saturatedRequestsPerSecond * LATENCY_TARGET.rateShare));
}

export function judgeLatency(route: string, routeLabel: string, ratePerSecond: number, protogateP99Ms: number, directP99Ms: number): LatencyVerdict {
  const differenceMs = protogateP99Ms - directP99Ms;
  return { route, routeLabel, ratePerSecond, protogateP99Ms, directP99Ms, differenceMs, met: differenceMs <= LATENCY_TARGET.maxP99AboveDirectMs };
}

export function formatLatency(verdicts: readonly LatencyVerdict[]): string {
  const lines = [`p99 at ${LATENCY_TARGET.rateShare}x Protogate's saturated rate, against direct grpc-js calls at the same rate`];
  for (const v of verdicts) {
    const sign = v.differenceMs >= 0 ? "+" : "";
    lines.push(
      `  protogate ${v.routeLabel} at ${v.ratePerSecond} req/s: p99 ${v.protogateP99Ms.toFixed(2)} ms, direct ${v.directP99Ms.toFixed(2)} ms, ` +
        `${sign}${v.differenceMs.toFixed(2)} ms (target <= +${LATENCY_TARGET.maxP99AboveDirectMs} ms) ${v.met ? "ok" : "MISSED"}`,
    );
  }
  return lines.join("\n");
}

/** Latency samples (milliseconds) with exact nearest-rank percentiles. */
export interface LatencyRecorder {
  record(ms: number): void;
  readonly count: number;
  /** The p-th percentile (0 < p <= 100), or NaN with no samples. */
  percentile(p: number): number;
}

/** Creates a recorder that keeps every sample (a 10 s run at 30k req/s is 2.4 MB). */
export function createLatencyRecorder(): LatencyRecorder {
  let samples = new Float64Array(1 << 16);
  let count = 0;
  let sorted: Float64Array | undefined;
  return {
    record(ms) {
      if (count === samples.length) {
        const grown = new Float64Array(samples.length * 2);
        grown.set(samples);
        samples = grown;
      }
      samples[count++] = ms;
      sorted = undefined;
    },
    get count() {
      return count;
    },
    percentile(p) {
      if (count === 0) return Number.NaN;
      sorted ??= samples.slice(0, count).sort();
      const rank = Math.min(count, Math.max(1, Math.ceil((p / 100) * count)));
      return sorted[rank - 1];
    },
  };
}

/** What one measured load run produced; the same shape for HTTP and direct gRPC load. */
export interface LoadResult {
  /** Completed requests (any status) in the measured window. */
  readonly requests: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Transport failures: connection errors, timeouts. */
  readonly errors: number;
  /** Responses that were not a success (HTTP non-2xx, or a gRPC status other than OK). */
  readonly non2xx: number;
  /** Count per status: "200", "404", or "grpc-0", "grpc-5", ... */
  readonly statusCodes: Readonly<Record<string, number>>;
  /** CPU time of the process under test per completed request in the measured window, in µs (absent where unmeasurable). */
  readonly cpuUsPerRequest?: number;
}

/** The line prefix a load process prints its JSON `LoadResult` after. */
export const RESULT_PREFIX = "BENCH_RESULT ";

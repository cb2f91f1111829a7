import type { EventLoopDelay } from "./probe-client.js";

/** One sample of the gateway process (sizes in MB = 2^20 bytes; null when it could not be read). */
export interface SoakSample {
  /** Seconds since the traffic started. */
  readonly t: number;
  /** Resident set size, from /proc/PID/status. */
  readonly rssMb: number | null;
  /** V8 heap used, from the probe inside the gateway. */
  readonly heapUsedMb: number | null;
  readonly heapTotalMb: number | null;
  /** Memory of C++ objects bound to JS objects (Buffers among them). */
  readonly externalMb: number | null;
  readonly arrayBuffersMb: number | null;
  /** Heap used just after the last major GC (null before the first). */
  readonly heapAfterMajorGcMb: number | null;
  readonly majorGcs: number | null;
  /** Open file descriptors, from /proc/PID/fd. */
  readonly fds: number | null;
  /** CPU used by the gateway since the previous sample, as % of one CPU (from /proc/PID/stat). */
  readonly cpuPercent: number | null;
  /** Event-loop delay since the previous sample (null: the probe did not answer). */
  readonly eventLoopDelayMs: EventLoopDelay | null;
  /** Whether the probe answered in time (a gateway too blocked to answer is a failure). */
  readonly probeAnswered: boolean;
  /** Requests answered (or given up on) so far, and of those, unexpected outcomes. */
  readonly completed: number;
  readonly unexpected: number;
  readonly inFlight: number;
  /** How far the sender is behind its schedule (ms). */
  readonly lagMs: number;
}

/** The samples of one minute of the run, summarised. */
export interface MinuteSummary {
  /** 1 for the first minute of traffic. */
  readonly minute: number;
  readonly samples: number;
  readonly rssMb: { readonly mean: number; readonly max: number } | null;
  readonly heapUsedMb: { readonly mean: number; readonly min: number; readonly max: number } | null;
  readonly fdsMax: number | null;
  /** The worst per-sample p99 and max of the event-loop delay within the minute. */
  readonly eventLoopDelayP99MaxMs: number | null;
  readonly eventLoopDelayMaxMs: number | null;
  readonly cpuPercentMean: number | null;
  /** Requests completed and unexpected outcomes within the minute. */
  readonly requests: number;
  readonly unexpected: number;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const present = (values: readonly (number | null)[]): number[] => values.filter((value): value is number => value !== null);

/**
 * Groups samples by minute of the run (a sample at t = 60 s closes minute 1) and summarises each;
 * the request counts of a minute are the difference of the cumulative counts at its edges.
 */
export function summariseMinutes(samples: readonly SoakSample[]): MinuteSummary[] {
  const byMinute = new Map<number, SoakSample[]>();
  for (const sample of samples) {
    const minute = Math.max(1, Math.ceil(sample.t / 60 - 1e-9));
    let group = byMinute.get(minute);
    if (!group) byMinute.set(minute, (group = []));
    group.push(sample);
  }
  let completedBefore = 0;
  let unexpectedBefore = 0;
  return [...byMinute.entries()]
    .sort(([a], [b]) => a - b)
    .map(([minute, group]) => {
      const rss = present(group.map((s) => s.rssMb));
      const heap = present(group.map((s) => s.heapUsedMb));
      const fds = present(group.map((s) => s.fds));
      const p99 = present(group.map((s) => s.eventLoopDelayMs?.p99 ?? null));
      const max = present(group.map((s) => s.eventLoopDelayMs?.max ?? null));
      const cpu = present(group.map((s) => s.cpuPercent));
      const last = group[group.length - 1];
      const summary: MinuteSummary = {
        minute,
        samples: group.length,
        rssMb: rss.length ? { mean: mean(rss), max: Math.max(...rss) } : null,
        heapUsedMb: heap.length ? { mean: mean(heap), min: Math.min(...heap), max: Math.max(...heap) } : null,
        fdsMax: fds.length ? Math.max(...fds) : null,
        eventLoopDelayP99MaxMs: p99.length ? Math.max(...p99) : null,
        eventLoopDelayMaxMs: max.length ? Math.max(...max) : null,
        cpuPercentMean: cpu.length ? mean(cpu) : null,
        requests: last.completed - completedBefore,
        unexpected: last.unexpected - unexpectedBefore,
      };
      completedBefore = last.completed;
      unexpectedBefore = last.unexpected;
      return summary;
    });
}

/** Heap used after a major GC, from each sample that saw a new one (a repeated reading is no new point). */
export function heapAfterGcPoints(samples: readonly SoakSample[]): { t: number; value: number }[] {
  const points: { t: number; value: number }[] = [];
  let gcs = 0;
  for (const sample of samples) {
    if (sample.majorGcs === null || sample.heapAfterMajorGcMb === null || sample.majorGcs <= gcs) continue;
    gcs = sample.majorGcs;
    points.push({ t: sample.t, value: sample.heapAfterMajorGcMb });
  }
  return points;
}

/** RSS minus V8 heap total of each sample that has both: the process's memory outside the JS heap. */
export function rssOutsideHeapPoints(samples: readonly SoakSample[]): { t: number; value: number }[] {
  return samples.flatMap((s) => (s.rssMb === null || s.heapTotalMb === null ? [] : [{ t: s.t, value: s.rssMb - s.heapTotalMb }]));
}

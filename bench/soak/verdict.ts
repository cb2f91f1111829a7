// The soak's verdict: memory flat (no growth trend beyond stated bounds) and no unexpected outcome.
//
// What is judged. A healthy gateway's raw memory figures follow the garbage collector, not a
// trend: in 10-minute runs at 300 req/s heap used swung between ~30 and ~108 MB (garbage piles up
// between major GCs, about 5 a minute), V8 grew and shrank its heap reservation (heap total 58-123
// MB) with it, and RSS followed, so a slope fitted to raw samples moved by +-5 MB/min and even the
// lowest RSS of each minute jumped by 12 MB between adjacent minutes with no leak at all. A leak is
// memory that stays, so the verdict judges two series without that sawtooth:
//  - heap: V8 heap used just after each major GC (the live set: 27.0-28.0 MB through both runs),
//    one point per sample that saw a new major GC;
//  - rss: RSS outside the V8 heap (RSS minus heap total, from the same sample): code, Buffers,
//    sockets, malloc; it stayed within +-0.3 MB a minute once warm (a leak of native memory or
//    of Buffers shows here; a leak of JS objects shows in the live heap).
// Each by two rules, after a warm-up that is left out (JIT, connection pools, caches filling up):
//  1. trend: the least-squares slope of the points in the second half of the run (and after the
//     warm-up) is at most `maxSlopeMbPerMinute`;
//  2. drift: the last minute's points are on average at most `maxGrowthShare` above the first
//     post-warm-up minute's.
// Why these bounds (DEFAULT_BOUNDS): at the default 300 req/s a gateway answers 18,000 requests a
// minute, so a leak of L bytes per request grows a series by 18,000 * L bytes a minute: 1 KB per
// request is 17.6 MB/min, 100 B/request 1.7 MB/min. The slope bounds (heap 1 MB/min, rss 2
// MB/min) fail a leak of 1 KB per request by 9-17x and one of a few KB by far more, and the heap
// bound still fails one of 60 B/request, while a flat gateway's slopes were under 0.1 MB/min. The
// drift rule catches slow growth over the whole run that a short second half could hide: 10% of a
// ~28 MB live heap over 8 minutes is 0.35 MB/min (a flat run drifted -0.7% to +2.8%). A run too
// short to have a post-warm-up minute that is not also its last is not judged (the verdict then
// rests on the other checks alone and says so).

/** Bounds of the memory verdict. */
export interface MemoryBounds {
  readonly warmupMinutes: number;
  /** Runs shorter than this (minutes) get no memory verdict. */
  readonly minJudgedMinutes: number;
  readonly maxSlopeMbPerMinute: { readonly rss: number; readonly heap: number };
  /** Largest allowed rise of the last minute's mean over the first post-warm-up minute's, as a share (0.1 = 10%). */
  readonly maxGrowthShare: number;
}

export const DEFAULT_BOUNDS: MemoryBounds = {
  warmupMinutes: 1,
  minJudgedMinutes: 3,
  maxSlopeMbPerMinute: { rss: 2, heap: 1 },
  maxGrowthShare: 0.1,
};

/** One point of a memory series. */
export interface SeriesPoint {
  /** Seconds since the traffic started. */
  readonly t: number;
  /** MB; null when it could not be read. */
  readonly value: number | null;
}

/** How one series fared. */
export interface SeriesVerdict {
  /** rss: RSS outside the V8 heap (RSS - heap total); heap: heap used after major GCs. */
  readonly series: "rss" | "heap";
  readonly pass: boolean;
  /** Least-squares slope over the fit window (MB/min). */
  readonly slopeMbPerMinute: number;
  readonly maxSlopeMbPerMinute: number;
  /** The fit window, in seconds since the start. */
  readonly fitFrom: number;
  readonly fitTo: number;
  /** Means of the first post-warm-up minute and of the last minute (MB), and the rise as a share. */
  readonly firstMinuteMb: number;
  readonly lastMinuteMb: number;
  readonly growthShare: number;
  readonly maxGrowthShare: number;
  readonly reasons: readonly string[];
}

export type MemoryVerdict =
  | { readonly judged: true; readonly pass: boolean; readonly series: readonly SeriesVerdict[] }
  | { readonly judged: false; readonly pass: true; readonly reason: string };

/** The whole verdict. */
export interface SoakVerdict {
  readonly pass: boolean;
  readonly memory: MemoryVerdict;
  readonly unexpectedErrors: number;
  /** Every reason the run failed (empty when it passed). */
  readonly failures: readonly string[];
}

/** Least-squares line through the points: slope per unit of x, and intercept. */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  const n = xs.length;
  if (n < 2 || ys.length !== n) throw new Error(`a linear fit needs at least 2 points of x and y, got ${xs.length} and ${ys.length}`);
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - meanX) * (ys[i] - meanY);
    sxx += (xs[i] - meanX) ** 2;
  }
  if (sxx === 0) throw new Error("a linear fit needs points at two different x at least");
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX };
}

const meanOf = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Judges one series of a run of `durationSeconds` (the caller has checked the run is long enough). */
export function judgeSeries(series: "rss" | "heap", points: readonly SeriesPoint[], durationSeconds: number, bounds: MemoryBounds): SeriesVerdict {
  const known = points.filter((p): p is { t: number; value: number } => p.value !== null);
  const warmupEnd = bounds.warmupMinutes * 60;
  const fitFrom = Math.max(warmupEnd, durationSeconds / 2);
  const window = known.filter((p) => p.t >= fitFrom);
  const first = known.filter((p) => p.t > warmupEnd && p.t <= warmupEnd + 60);
  const last = known.filter((p) => p.t > durationSeconds - 60);
  const reasons: string[] = [];
  const maxSlope = bounds.maxSlopeMbPerMinute[series];
  let slopeMbPerMinute = Number.NaN;
  // Fewer points than that cannot show a trend (e.g. no major GC for minutes: a stale live-heap figure).
  if (window.length < 3) {
    reasons.push(`${series}: only ${window.length} point(s) in the fit window from ${fitFrom.toFixed(0)} s (3 needed)`);
  } else {
    slopeMbPerMinute = linearFit(window.map((p) => p.t / 60), window.map((p) => p.value)).slope;
    if (slopeMbPerMinute > maxSlope) reasons.push(`${series}: grows ${slopeMbPerMinute.toFixed(2)} MB/min over the second half (bound ${maxSlope} MB/min)`);
  }
  let firstMinuteMb = Number.NaN;
  let lastMinuteMb = Number.NaN;
  let growthShare = Number.NaN;
  if (first.length === 0 || last.length === 0) {
    reasons.push(`${series}: no points in the first post-warm-up minute or in the last minute`);
  } else {
    firstMinuteMb = meanOf(first.map((p) => p.value));
    lastMinuteMb = meanOf(last.map((p) => p.value));
    growthShare = lastMinuteMb / firstMinuteMb - 1;
    if (growthShare > bounds.maxGrowthShare) {
      reasons.push(`${series}: last minute ${lastMinuteMb.toFixed(1)} MB is ${(growthShare * 100).toFixed(1)}% above the first post-warm-up minute's ${firstMinuteMb.toFixed(1)} MB (bound ${(bounds.maxGrowthShare * 100).toFixed(0)}%)`);
    }
  }
  return {
    series,
    pass: reasons.length === 0,
    slopeMbPerMinute,
    maxSlopeMbPerMinute: maxSlope,
    fitFrom,
    fitTo: durationSeconds,
    firstMinuteMb,
    lastMinuteMb,
    growthShare,
    maxGrowthShare: bounds.maxGrowthShare,
    reasons,
  };
}

/**
 * The memory verdict of a run of `durationSeconds`: `rssOutsideHeap` is RSS minus V8 heap total
 * per sample, `heapAfterGc` the heap used after major GCs (one point per fresh reading).
 */
export function judgeMemory(rssOutsideHeap: readonly SeriesPoint[], heapAfterGc: readonly SeriesPoint[], durationSeconds: number, bounds: MemoryBounds = DEFAULT_BOUNDS): MemoryVerdict {
  const minutes = durationSeconds / 60;
  const needed = Math.max(bounds.minJudgedMinutes, bounds.warmupMinutes + 2);
  if (minutes < needed) {
    return { judged: false, pass: true, reason: `a ${minutes.toFixed(2)}-minute run is too short for the memory verdict (it needs ${needed} minutes: ${bounds.warmupMinutes} of warm-up, then a first and a last minute apart)` };
  }
  const series = [judgeSeries("rss", rssOutsideHeap, durationSeconds, bounds), judgeSeries("heap", heapAfterGc, durationSeconds, bounds)];
  return { judged: true, pass: series.every((s) => s.pass), series };
}

/** Combines the memory verdict with the count of unexpected outcomes and any other failure. */
export function soakVerdict(memory: MemoryVerdict, unexpectedErrors: number, otherFailures: readonly string[] = []): SoakVerdict {
  const failures = [...otherFailures];
  if (unexpectedErrors > 0) failures.unshift(`${unexpectedErrors} unexpected error(s)`);
  if (memory.judged && !memory.pass) failures.push(...memory.series.flatMap((s) => s.reasons));
  return { pass: failures.length === 0, memory, unexpectedErrors, failures };
}

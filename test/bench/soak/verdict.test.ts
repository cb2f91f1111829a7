import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { judgeMemory, linearFit, soakVerdict, type SeriesPoint } from "../../../bench/soak/verdict.js";
import { fuzzRuns } from "../../support/fuzz.js";

const MB = 1024 * 1024;
const RATE = 300;
const MINUTES = 10;

/** MB per minute that a leak of `bytesPerRequest` adds at RATE requests per second. */
const leakMbPerMinute = (bytesPerRequest: number) => (bytesPerRequest * RATE * 60) / MB;

/** A seeded PRNG (mulberry32), so each synthetic run is repeatable. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Shape {
  /** Growth of both series, MB/min. */
  readonly leak: number;
  /** Seconds between major GCs (each gives a fresh live-heap reading). */
  readonly gcPeriodSeconds: number;
  /** RSS outside the heap settling at start: this many MB below its plateau at t = 0, halving every minute. */
  readonly settleMb: number;
  /** Uniform noise on each RSS-outside-heap sample, and on each live-heap reading (MB). */
  readonly rssJitterMb: number;
  readonly heapJitterMb: number;
  readonly seed: number;
}

/**
 * A synthetic run shaped like a real soak: RSS outside the V8 heap sampled every 5 s (settling
 * over the first minutes, then flat with jitter); the live heap read after each major GC.
 */
function syntheticRun(shape: Shape): { rss: SeriesPoint[]; heap: SeriesPoint[] } {
  const random = prng(shape.seed);
  const phase = random() * shape.gcPeriodSeconds;
  const rss: SeriesPoint[] = [];
  const heap: SeriesPoint[] = [];
  for (let t = 0; t <= MINUTES * 60; t += 5) {
    const growth = (shape.leak * t) / 60;
    rss.push({ t, value: 88 + growth - shape.settleMb * 0.5 ** (t / 60) + (random() - 0.5) * 2 * shape.rssJitterMb });
    // A sample that saw a major GC since the previous one gets a fresh live-heap reading.
    if ((t + phase) % shape.gcPeriodSeconds < 5) heap.push({ t, value: 27.5 + growth + (random() - 0.5) * 2 * shape.heapJitterMb });
  }
  return { rss, heap };
}

const QUIET: Shape = { leak: 0, gcPeriodSeconds: 10, settleMb: 0, rssJitterMb: 0, heapJitterMb: 0, seed: 1 };
/**
 * Noise as measured in two 10-minute soaks at 300 req/s: RSS outside the heap rose 2-4 MB over the
 * first minutes, then moved within +-0.3 MB; the live heap stayed within 27.0-28.0 MB.
 */
const NOISY: Shape = { leak: 0, gcPeriodSeconds: 12, settleMb: 8, rssJitterMb: 0.6, heapJitterMb: 0.5, seed: 7 };

describe("linearFit", () => {
  it("recovers the slope and intercept of points on a line", () => {
    const fit = linearFit([0, 1, 2, 3], [5, 7, 9, 11]);
    expect(fit.slope).toBeCloseTo(2, 12);
    expect(fit.intercept).toBeCloseTo(5, 12);
  });

  it("refuses fewer than 2 points or a single x", () => {
    expect(() => linearFit([1], [1])).toThrow(/at least 2/);
    expect(() => linearFit([2, 2], [1, 3])).toThrow(/two different x/);
  });
});

describe("judgeMemory", () => {
  const duration = MINUTES * 60;

  it("passes a flat run", () => {
    const { rss, heap } = syntheticRun(QUIET);
    const verdict = judgeMemory(rss, heap, duration);
    expect(verdict).toMatchObject({ judged: true, pass: true });
    if (verdict.judged) for (const series of verdict.series) expect(series.slopeMbPerMinute).toBeCloseTo(0, 9);
  });

  it("passes a noisy flat run: RSS outside the heap settling and jittering, a jittering live heap", () => {
    const { rss, heap } = syntheticRun(NOISY);
    const verdict = judgeMemory(rss, heap, duration);
    expect(verdict.judged && verdict.series.flatMap((s) => s.reasons)).toEqual([]);
    expect(verdict.pass).toBe(true);
  });

  it("fails a leak of 2 KB per request at 300 req/s on both series, by trend and by drift", () => {
    const { rss, heap } = syntheticRun({ ...NOISY, leak: leakMbPerMinute(2048) });
    const verdict = judgeMemory(rss, heap, duration);
    expect(verdict).toMatchObject({ judged: true, pass: false });
    if (!verdict.judged) return;
    for (const series of verdict.series) {
      expect(series.pass).toBe(false);
      expect(series.slopeMbPerMinute).toBeGreaterThan(30);
      expect(series.reasons.join("\n")).toMatch(/grows .* MB\/min over the second half/);
      expect(series.reasons.join("\n")).toMatch(/last minute .* above the first post-warm-up minute/);
    }
  });

  it("fails a leak of 100 B per request at 300 req/s (1.7 MB/min) on the live heap", () => {
    const { rss, heap } = syntheticRun({ ...NOISY, leak: leakMbPerMinute(100) });
    const verdict = judgeMemory(rss, heap, duration);
    expect(verdict.pass).toBe(false);
    expect(verdict.judged && verdict.series.find((s) => s.series === "heap")?.pass).toBe(false);
  });

  it("fails native memory growth that only RSS shows", () => {
    const { rss } = syntheticRun({ ...NOISY, leak: leakMbPerMinute(1024) });
    const { heap } = syntheticRun(NOISY);
    const verdict = judgeMemory(rss, heap, duration);
    expect(verdict.judged && verdict.series.map((s) => [s.series, s.pass])).toEqual([
      ["rss", false],
      ["heap", true],
    ]);
  });

  it("fails when the live heap has too few readings to show a trend (no major GC for minutes)", () => {
    const { rss } = syntheticRun(NOISY);
    const verdict = judgeMemory(rss, [{ t: 30, value: 27 }, { t: 400, value: 27 }], duration);
    expect(verdict.pass).toBe(false);
    expect(verdict.judged && verdict.series[1].reasons.join("\n")).toMatch(/only 1 point\(s\) in the fit window/);
  });

  it("does not judge a run too short for a post-warm-up minute apart from the last", () => {
    const { rss, heap } = syntheticRun(QUIET);
    const verdict = judgeMemory(rss.filter((p) => p.t <= 150), heap, 150);
    expect(verdict).toMatchObject({ judged: false, pass: true });
    expect(!verdict.judged && verdict.reason).toMatch(/too short .* needs 3 minutes/);
  });

  it("passes every flat run whose noise is within what a gateway shows, and fails every leak of 1 KB per request or more", () => {
    const noise = fc.record({
      gcPeriodSeconds: fc.integer({ min: 6, max: 45 }),
      settleMb: fc.double({ min: 0, max: 10, noNaN: true }),
      rssJitterMb: fc.double({ min: 0, max: 1.5, noNaN: true }),
      heapJitterMb: fc.double({ min: 0, max: 0.6, noNaN: true }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(noise, fc.integer({ min: 1024, max: 16 * 1024 }), (shape, leakBytes) => {
        const flat = syntheticRun({ ...shape, leak: 0 });
        const leaking = syntheticRun({ ...shape, leak: leakMbPerMinute(leakBytes) });
        expect(judgeMemory(flat.rss, flat.heap, duration).pass).toBe(true);
        const verdict = judgeMemory(leaking.rss, leaking.heap, duration);
        expect(verdict.judged && verdict.series.every((s) => !s.pass)).toBe(true);
      }),
      fuzzRuns(300),
    );
  });
});

describe("soakVerdict", () => {
  const { rss, heap } = syntheticRun(QUIET);
  const flat = judgeMemory(rss, heap, MINUTES * 60);

  it("passes flat memory with no unexpected errors and nothing else wrong", () => {
    expect(soakVerdict(flat, 0)).toEqual({ pass: true, memory: flat, unexpectedErrors: 0, failures: [] });
  });

  it("fails on any unexpected error, or any other failure, even with flat memory", () => {
    expect(soakVerdict(flat, 1)).toMatchObject({ pass: false, failures: ["1 unexpected error(s)"] });
    expect(soakVerdict(flat, 0, ["the gateway exited with 1 on SIGTERM (expected 0)"])).toMatchObject({ pass: false, failures: ["the gateway exited with 1 on SIGTERM (expected 0)"] });
  });

  it("lists the memory reasons of a leaking run", () => {
    const leaking = syntheticRun({ ...QUIET, leak: 10 });
    const verdict = soakVerdict(judgeMemory(leaking.rss, leaking.heap, MINUTES * 60), 0);
    expect(verdict.pass).toBe(false);
    expect(verdict.failures.some((f) => f.startsWith("rss: grows"))).toBe(true);
    expect(verdict.failures.some((f) => f.startsWith("heap: grows"))).toBe(true);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gcraEvaluate, gcraParams, unconsumed, type GcraParams } from "../../src/ratelimit/gcra.js";

const SECOND = 1_000_000;

/** Runs requests at the given times against one bucket; returns how many were admitted. */
function admittedAt(times: readonly number[], params: GcraParams): boolean[] {
  let tat: number | undefined;
  return times.map((now) => {
    const verdict = gcraEvaluate(tat, now, params);
    if (verdict.allowed) tat = verdict.tat;
    return verdict.allowed;
  });
}

describe("gcraParams", () => {
  it("spaces requests evenly over the period, rounding the interval up to a whole microsecond", () => {
    expect(gcraParams(10, 1, 10)).toEqual({ intervalUs: 100_000, burst: 10 });
    expect(gcraParams(100, 60, 100)).toEqual({ intervalUs: 600_000, burst: 100 });
    expect(gcraParams(7, 60, 1).intervalUs).toBe(8_571_429);
  });

  it("refuses limits that admit nothing", () => {
    expect(() => gcraParams(0, 60, 1)).toThrow(RangeError);
    expect(() => gcraParams(1, 0, 1)).toThrow(RangeError);
    expect(() => gcraParams(1, 60, 0)).toThrow(RangeError);
  });
});

describe("gcraEvaluate", () => {
  const params = gcraParams(10, 1, 5); // one request per 100 ms, five at once

  it("admits exactly the burst at one instant, then rejects", () => {
    const t0 = 1_000 * SECOND;
    expect(admittedAt(Array(8).fill(t0), params)).toEqual([true, true, true, true, true, false, false, false]);
  });

  it("reports remaining, reset and retry-after exactly", () => {
    const t0 = 5 * SECOND;
    const first = gcraEvaluate(undefined, t0, params);
    expect(first).toEqual({ allowed: true, tat: t0 + 100_000, remaining: 4, resetUs: 100_000, retryAfterUs: 0 });
    let tat = first.tat;
    for (let i = 0; i < 4; i++) tat = gcraEvaluate(tat, t0, params).tat;
    const rejected = gcraEvaluate(tat, t0 + 30_000, params);
    expect(rejected).toEqual({ allowed: false, tat, remaining: 0, resetUs: 470_000, retryAfterUs: 70_000 });
  });

  it("refills one request per interval, exactly at the boundary", () => {
    const t0 = 7 * SECOND;
    let tat: number | undefined;
    for (let i = 0; i < 5; i++) tat = gcraEvaluate(tat, t0, params).tat;
    expect(gcraEvaluate(tat, t0 + 99_999, params).allowed).toBe(false);
    const atBoundary = gcraEvaluate(tat, t0 + 100_000, params);
    expect(atBoundary.allowed).toBe(true);
    expect(atBoundary.remaining).toBe(0);
    expect(gcraEvaluate(atBoundary.tat, t0 + 100_000, params).allowed).toBe(false);
  });

  it("a bucket left idle is full again and no fuller than the burst", () => {
    const t0 = 9 * SECOND;
    const times = [...Array(5).fill(t0), ...Array(7).fill(t0 + 3600 * SECOND)];
    expect(admittedAt(times, params).filter(Boolean)).toHaveLength(10);
  });

  it("in any window of t microseconds admits at most burst + floor(t / interval) requests (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 3 * SECOND }), { minLength: 1, maxLength: 200 }),
        (requests, periodSeconds, burst, gaps) => {
          const p = gcraParams(requests, periodSeconds, burst);
          const times: number[] = [];
          let now = 1_000 * SECOND;
          for (const gap of gaps) times.push((now += gap));
          const verdicts = admittedAt(times, p);
          const admitted = times.filter((_, i) => verdicts[i]);
          let worstExcess = -Infinity;
          for (let i = 0; i < admitted.length; i++) {
            for (let j = i; j < admitted.length; j++) {
              worstExcess = Math.max(worstExcess, j - i + 1 - (burst + Math.floor((admitted[j] - admitted[i]) / p.intervalUs)));
            }
          }
          expect(worstExcess).toBeLessThanOrEqual(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("requests spaced at least one interval apart are all admitted (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.integer({ min: 0, max: SECOND }), { maxLength: 100 }), (burst, extra) => {
        const p = gcraParams(10, 1, burst);
        let now = 0;
        const times = extra.map((gap) => (now += p.intervalUs + gap));
        expect(admittedAt(times, p).every(Boolean)).toBe(true);
      }),
    );
  });
});

describe("unconsumed", () => {
  it("is the bucket's state before the request: one more remaining, reset one interval sooner", () => {
    const params = gcraParams(10, 1, 5);
    const verdict = gcraEvaluate(undefined, SECOND, params);
    expect(unconsumed(verdict, params)).toEqual({ allowed: true, tat: SECOND, remaining: 5, resetUs: 0, retryAfterUs: 0 });
  });

  it("leaves a rejection as it is", () => {
    const params = gcraParams(1, 60, 1);
    const rejected = gcraEvaluate(SECOND + 60 * SECOND, SECOND, params);
    expect(rejected.allowed).toBe(false);
    expect(unconsumed(rejected, params)).toBe(rejected);
  });
});

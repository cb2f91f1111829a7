import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Endpoint } from "../../../src/upstream/resilience/endpoint.js";
import { maxEjected, OutlierDetector } from "../../../src/upstream/resilience/outlier-detector.js";
import type { OutlierDetectionOptions } from "../../../src/upstream/resilience/resilience-options.js";
import type { Upstream } from "../../../src/upstream/upstream.js";
import { fuzzRuns } from "../../support/fuzz.js";

const ENVOY_DEFAULTS: OutlierDetectionOptions = { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 10 };

function setup(count: number, options: Partial<OutlierDetectionOptions> = {}) {
  let now = 1_000;
  const ejections: Array<[string, number]> = [];
  const list = Array.from({ length: count }, (_, i) => new Endpoint(`10.0.0.${i + 1}:50051`, {} as Upstream));
  const detector = new OutlierDetector({ ...ENVOY_DEFAULTS, ...options }, () => now, (endpoint, ms) => ejections.push([endpoint.address, ms]));
  const fail = (index: number, times = 1) => {
    for (let i = 0; i < times; i++) detector.failure(list[index], list);
  };
  return { list, detector, ejections, fail, advance: (ms: number) => (now += ms), now: () => now };
}

describe("OutlierDetector", () => {
  it("ejects an address after consecutiveFailures in a row, for baseEjectionMs, then returns it", () => {
    const { list, detector, ejections, fail, advance } = setup(3);
    fail(0, 4);
    expect(list[0].available).toBe(true);
    fail(0);
    expect(list[0].available).toBe(false);
    expect(list[0].health()).toBe("ejected");
    expect(ejections).toEqual([["10.0.0.1:50051", 30_000]]);
    advance(29_999);
    detector.refresh(list);
    expect(list[0].available).toBe(false);
    advance(1);
    detector.refresh(list);
    expect(list[0].available).toBe(true);
    expect(list[0].health()).toBe("healthy");
    expect(detector.ejected).toBe(0);
  });

  it("a success in between ends the run of failures", () => {
    const { list, detector, fail } = setup(3);
    fail(0, 4);
    detector.success(list[0]);
    fail(0, 4);
    expect(list[0].available).toBe(true);
    fail(0);
    expect(list[0].available).toBe(false);
  });

  it("each ejection lasts base times the ejections so far, capped by maxEjectionMs", () => {
    const { detector, list, ejections, fail, advance } = setup(2, { consecutiveFailures: 1, baseEjectionMs: 1_000, maxEjectionMs: 2_500 });
    for (let i = 0; i < 4; i++) {
      fail(0);
      advance(ejections[ejections.length - 1][1]);
      detector.refresh(list);
    }
    expect(ejections.map(([, ms]) => ms)).toEqual([1_000, 2_000, 2_500, 2_500]);
  });

  it("the multiplier decays by one per baseEjectionMs the address behaves after returning", () => {
    const { detector, list, ejections, fail, advance } = setup(2, { consecutiveFailures: 1, baseEjectionMs: 1_000 });
    fail(0);
    advance(1_000);
    detector.refresh(list);
    fail(0);
    advance(2_000);
    detector.refresh(list);
    // Two ejections so far; 2 s of good behaviour take the multiplier back to 0.
    advance(2_000);
    fail(0);
    expect(ejections.map(([, ms]) => ms)).toEqual([1_000, 2_000, 1_000]);
  });

  it.each([
    [1, 100, 0],
    [2, 10, 1],
    [3, 10, 1],
    [10, 10, 1],
    [20, 10, 2],
    [10, 50, 5],
    [4, 100, 3],
    [2, 0, 1],
  ])("with %i addresses and maxEjectionPercent %i, at most %i ejected at once (one of two or more always may be; never all)", (count, percent, expected) => {
    const { list, detector, fail } = setup(count, { consecutiveFailures: 1, maxEjectionPercent: percent });
    expect(maxEjected(list, percent)).toBe(expected);
    for (let i = 0; i < count; i++) fail(i);
    expect(detector.ejected).toBe(expected);
    expect(list.filter((endpoint) => !endpoint.available)).toHaveLength(expected);
  });

  it("an address refused by the cap is ejected once another returns and it fails again", () => {
    const { list, detector, fail, advance } = setup(3, { consecutiveFailures: 2, baseEjectionMs: 1_000 });
    fail(0, 2);
    fail(1, 2);
    expect([list[0].available, list[1].available]).toEqual([false, true]);
    advance(1_000);
    detector.refresh(list);
    fail(1);
    expect([list[0].available, list[1].available]).toEqual([true, false]);
  });

  it("never ejects the last address in rotation (the others failing health checks)", () => {
    const { list, detector, fail } = setup(3, { consecutiveFailures: 1, maxEjectionPercent: 100 });
    list[1].healthy = false;
    list[2].healthy = false;
    for (const endpoint of list) endpoint.refresh();
    fail(0, 3);
    expect(list[0].available).toBe(true);
    expect(detector.ejected).toBe(0);
  });

  it("forgets a removed address's ejection, so the cap counts only listed ones", () => {
    const { list, detector, fail } = setup(2, { consecutiveFailures: 1 });
    fail(0);
    expect(detector.ejected).toBe(1);
    list[0].removed = true;
    detector.forget(list[0]);
    expect(detector.ejected).toBe(0);
    expect(list[0].ejectedUntil).toBe(0);
  });

  it("property: the ejected count matches the addresses ejected and never exceeds the cap", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("fail" as const), index: fc.nat(9) }),
      fc.record({ kind: fc.constant("ok" as const), index: fc.nat(9) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 5_000 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 100 }), fc.array(op, { maxLength: 200 }), (count, percent, ops) => {
        const { list, detector, fail, advance } = setup(count, { consecutiveFailures: 2, baseEjectionMs: 1_000, maxEjectionMs: 4_000, maxEjectionPercent: percent });
        for (const step of ops) {
          if (step.kind === "advance") {
            advance(step.ms);
            detector.refresh(list);
          } else if (step.kind === "fail") fail(step.index % count);
          else detector.success(list[step.index % count]);
          const ejectedNow = list.filter((endpoint) => endpoint.ejectedUntil !== 0).length;
          expect(detector.ejected).toBe(ejectedNow);
          expect(ejectedNow).toBeLessThanOrEqual(maxEjected(list, percent));
          expect(list.some((endpoint) => endpoint.available)).toBe(true);
        }
      }),
      fuzzRuns(200),
    );
  });
});

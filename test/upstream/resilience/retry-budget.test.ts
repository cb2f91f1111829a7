import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RetryBudget } from "../../../src/upstream/resilience/retry-budget.js";
import { fuzzRuns } from "../../support/fuzz.js";

describe("RetryBudget", () => {
  it.each([
    // percent, minimum, calls in flight, retries granted in a row
    [20, 3, 1, 3],
    [20, 3, 10, 3],
    [20, 3, 100, 20],
    [50, 0, 10, 5],
    [0, 0, 100, 0],
    [100, 1, 4, 4],
  ])("%i %% of the calls in flight, at least %i: with %i in flight, %i retries at once", (percent, minimum, inFlight, expected) => {
    const budget = new RetryBudget(percent, minimum);
    let granted = 0;
    while (budget.acquire(inFlight) && granted < 1_000) granted++;
    expect(granted).toBe(expected);
    expect(budget.inFlight).toBe(expected);
  });

  it("a released retry frees its place", () => {
    const budget = new RetryBudget(0, 1);
    expect(budget.acquire(50)).toBe(true);
    expect(budget.acquire(50)).toBe(false);
    budget.release();
    expect(budget.acquire(50)).toBe(true);
  });

  it("property: a retry is granted only within the budget's share of the calls in flight (or its minimum)", () => {
    const op = fc.oneof(fc.record({ kind: fc.constant("acquire" as const), inFlight: fc.integer({ min: 1, max: 500 }) }), fc.constant({ kind: "release" as const }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 10 }), fc.array(op, { maxLength: 300 }), (percent, minimum, ops) => {
        const budget = new RetryBudget(percent, minimum);
        for (const step of ops) {
          if (step.kind === "release") {
            if (budget.inFlight > 0) budget.release();
            continue;
          }
          const before = budget.inFlight;
          const granted = budget.acquire(step.inFlight);
          const limit = Math.max(minimum, (step.inFlight * percent) / 100);
          expect(granted).toBe(before < limit);
          expect(budget.inFlight).toBeLessThanOrEqual(Math.max(before, Math.ceil(limit)));
        }
      }),
      fuzzRuns(300),
    );
  });
});

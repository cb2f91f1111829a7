import { describe, expect, it } from "vitest";
import { GREEDY_CALLER_COUNT, GREEDY_QUOTA, TRAFFIC_CLASSES } from "../../../bench/soak/traffic-classes.js";
import { createClassPicker } from "../../../bench/soak/traffic-driver.js";

describe("createClassPicker", () => {
  it("picks each class in proportion to its weight, interleaved evenly", () => {
    const weights = [5, 3, 2];
    const pick = createClassPicker(weights);
    const picks = Array.from({ length: 1000 }, pick);
    expect([0, 1, 2].map((i) => picks.filter((p) => p === i).length)).toEqual([500, 300, 200]);
    // Every window of one full cycle (the weights' sum) holds the exact mix.
    for (let start = 0; start + 10 <= picks.length; start += 10) {
      const window = picks.slice(start, start + 10);
      expect([0, 1, 2].map((i) => window.filter((p) => p === i).length)).toEqual(weights);
    }
  });
});

describe("TRAFFIC_CLASSES", () => {
  it("has unique names, positive weights adding up to 100, and an expected status for each class", () => {
    const names = TRAFFIC_CLASSES.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(TRAFFIC_CLASSES.every((c) => c.weight > 0 && c.status >= 200 && c.status < 600)).toBe(true);
    expect(TRAFFIC_CLASSES.reduce((sum, c) => sum + c.weight, 0)).toBe(100);
  });

  it("allows the rate-limited class only what GCRA admits: burst + requests * t / period per greedy caller", () => {
    const limited = TRAFFIC_CLASSES.find((c) => c.status === 429);
    expect(limited?.allowance?.status).toBe(200);
    expect(limited?.allowance?.max(0)).toBe(GREEDY_CALLER_COUNT * GREEDY_QUOTA.burst);
    expect(limited?.allowance?.max(GREEDY_QUOTA.periodSeconds - 1)).toBe(GREEDY_CALLER_COUNT * GREEDY_QUOTA.burst);
    expect(limited?.allowance?.max(GREEDY_QUOTA.periodSeconds)).toBe(GREEDY_CALLER_COUNT * (GREEDY_QUOTA.burst + GREEDY_QUOTA.requests));
  });
});

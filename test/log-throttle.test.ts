import { describe, expect, it } from "vitest";
import { createLogThrottle } from "../src/log-throttle.js";

describe("createLogThrottle", () => {
  it("logs a key's first event at once, holds the rest of the interval back, then says how many", () => {
    let now = 0;
    const lines: Array<{ details: object; message: string }> = [];
    const warn = createLogThrottle({ warn: (details, message) => lines.push({ details, message }) }, 10_000, () => now);
    warn("a", { n: 1 }, "failed");
    warn("a", { n: 2 }, "failed");
    warn("b", { n: 3 }, "other");
    now = 9_999;
    warn("a", { n: 4 }, "failed");
    now = 10_000;
    warn("a", { n: 5 }, "failed");
    expect(lines).toEqual([
      { details: { n: 1 }, message: "failed" },
      { details: { n: 3 }, message: "other" },
      { details: { n: 5, suppressed: 2 }, message: "failed" },
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { MAX_WORKERS, parseWorkers } from "../../src/cluster/workers-option.js";

describe("--workers", () => {
  it.each([
    ["1", 1],
    ["2", 2],
    [String(MAX_WORKERS), MAX_WORKERS],
    ["auto", 6],
  ])("%s -> %d workers (auto: the CPUs available, here 6)", (value, workers) => {
    expect(parseWorkers(value, () => 6)).toBe(workers);
  });

  it("auto is at least one worker", () => {
    expect(parseWorkers("auto", () => 0)).toBe(1);
  });

  it.each(["0", "-1", "1.5", "two", "", " 2", String(MAX_WORKERS + 1), "AUTO"])("refuses %j, naming what it expects", (value) => {
    expect(() => parseWorkers(value, () => 6)).toThrow(`expected a number of workers 1-${MAX_WORKERS} or auto, got "${value}"`);
  });
});

import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CODEGEN_TARGETS, formatCodegen, judgeCodegen, type CodegenCase } from "../../bench/codegen-report.js";
import { processCpuSeconds, treeCpuSeconds, treeRss } from "../../bench/process-tree-memory.js";

const MB = 1024 * 1024;
const measured = (over: Partial<CodegenCase>): CodegenCase => ({
  name: "compute-v1",
  generateSeconds: 10,
  generatePeakBytes: 500 * MB,
  coldServeSeconds: 2,
  coldServeCpuSeconds: 1.5,
  warmServeSeconds: 1,
  ...over,
});

describe("codegen benchmark report", () => {
  it.each([
    ["all within the targets", {}, [true, true, true]],
    ["generate too slow", { generateSeconds: CODEGEN_TARGETS.generateSeconds + 0.1 }, [false, true, true]],
    ["exactly at the limits", { generateSeconds: 60, generatePeakBytes: 1024 * MB, coldServeSeconds: 3 }, [true, true, true]],
    ["too much memory", { generatePeakBytes: 1025 * MB }, [true, false, true]],
    ["memory not measurable", { generatePeakBytes: undefined }, [true, undefined, true]],
    ["serve start too slow", { coldServeSeconds: 3.01 }, [true, true, false]],
  ] as const)("%s", (_name, over, expected) => {
    expect(judgeCodegen(measured(over)).map((v) => v.met)).toEqual(expected);
  });

  it("prints the ratios of the largest API to the baseline, and each verdict", () => {
    const demo = measured({ name: "demo", generateSeconds: 4, generatePeakBytes: 250 * MB, coldServeSeconds: 1 });
    const compute = measured({ coldServeSeconds: 3.5 });
    const text = formatCodegen([demo, compute], compute);
    expect(text).toContain("compute-v1 / demo: generate 2.5x, peak memory 2.0x, cold serve 3.5x");
    expect(text).toContain("compute-v1 cold serve start to first answer: 3.50 s (target <= 3 s) MISSED");
    expect(text).toContain("compute-v1 generate peak memory (process tree): 500 MB (target <= 1024 MB) ok");
  });
});

describe.runIf(process.platform === "linux")("process tree sampling (/proc)", () => {
  it("counts a child's memory in its parent's tree, and reads CPU time", async () => {
    // The child says when its 64 MB are touched (resident), so the test waits on that, not on a clock.
    const child = spawn(process.execPath, ["-e", "const keep = Buffer.alloc(64 * 1024 * 1024, 1); console.log('ready'); setInterval(() => keep, 1000)"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      await new Promise((resolve) => child.stdout.once("data", resolve));
      const childRss = treeRss(child.pid!) ?? 0;
      expect(childRss).toBeGreaterThanOrEqual(64 * MB);
      expect(treeRss(process.pid)!).toBeGreaterThanOrEqual(childRss);
      expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
      // Parts first: CPU time only grows, so the tree read afterwards holds at least their sum.
      const parts = processCpuSeconds(process.pid)! + processCpuSeconds(child.pid!)!;
      expect(treeCpuSeconds(process.pid)!).toBeGreaterThanOrEqual(parts);
      expect(treeRss(2 ** 22 + 12345)).toBeUndefined();
    } finally {
      child.kill("SIGKILL");
    }
  });
});

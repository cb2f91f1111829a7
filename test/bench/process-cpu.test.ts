import { describe, expect, it } from "vitest";
import { processCpuMs } from "../../bench/process-cpu.js";

describe("processCpuMs", () => {
  it.runIf(process.platform === "linux")("reads a process's CPU time from /proc, growing as it works, in step with process.cpuUsage", () => {
    const before = processCpuMs(process.pid) as number;
    const usageBefore = process.cpuUsage();
    // Spin until this process has used 300 ms of CPU (not wall time: the machine may be busy).
    let spin = 0;
    const used = () => {
      const { user, system } = process.cpuUsage(usageBefore);
      return (user + system) / 1000;
    };
    while (used() < 300) spin++;
    const after = processCpuMs(process.pid) as number;
    const usage = process.cpuUsage(usageBefore);
    expect(spin).toBeGreaterThan(0);
    // /proc counts in clock ticks (10 ms at 100 Hz); process.cpuUsage in µs.
    expect(after - before).toBeGreaterThan(200);
    expect(Math.abs(after - before - (usage.user + usage.system) / 1000)).toBeLessThan(40);
  });

  it("is undefined for a process that does not exist", () => {
    expect(processCpuMs(2 ** 22 + 12345)).toBeUndefined();
  });
});

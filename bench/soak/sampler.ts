import { processCpuMs } from "../process-cpu.js";
import type { ProbeClient } from "./probe-client.js";
import { openFdCount, processRssBytes } from "./proc-stats.js";
import type { SoakSample } from "./soak-sample.js";
import type { TrafficTotals } from "./traffic-driver.js";

const MB = 1024 * 1024;

/** Where a sample's figures come from. */
export interface SampleSources {
  readonly pid: number;
  readonly probe: ProbeClient;
  readonly totals: () => TrafficTotals;
  /** How long the probe may take to answer before the sample counts it as not answering. */
  readonly probeTimeoutMs: number;
}

/** Takes samples of the gateway process; each call covers the time since the previous one. */
export interface Sampler {
  /** One sample at `t` seconds into the run. */
  sample(t: number): Promise<SoakSample>;
}

/** A sampler of one gateway process: /proc from outside, the heap and event loop from its probe. */
export function createSampler(sources: SampleSources): Sampler {
  const { pid, probe } = sources;
  let previousCpuMs = processCpuMs(pid);
  let previousAt = performance.now();
  const mb = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? null : bytes / MB);
  return {
    async sample(t) {
      const reading = await probe.read(sources.probeTimeoutMs);
      const now = performance.now();
      const cpuMs = processCpuMs(pid);
      const cpuPercent = cpuMs === undefined || previousCpuMs === undefined ? null : ((cpuMs - previousCpuMs) / (now - previousAt)) * 100;
      previousCpuMs = cpuMs;
      previousAt = now;
      const totals = sources.totals();
      return {
        t,
        rssMb: mb(processRssBytes(pid)),
        heapUsedMb: mb(reading?.heapUsed),
        heapTotalMb: mb(reading?.heapTotal),
        externalMb: mb(reading?.external),
        arrayBuffersMb: mb(reading?.arrayBuffers),
        heapAfterMajorGcMb: mb(reading?.heapAfterMajorGc),
        majorGcs: reading?.majorGcs ?? null,
        fds: openFdCount(pid) ?? null,
        cpuPercent,
        eventLoopDelayMs: reading?.eventLoopDelayMs ?? null,
        probeAnswered: reading !== undefined,
        completed: totals.completed,
        unexpected: totals.unexpected,
        inFlight: totals.inFlight,
        lagMs: totals.lagMs,
      };
    },
  };
}

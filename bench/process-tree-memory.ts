import { readdirSync, readFileSync } from "node:fs";

/**
 * Peak resident memory of a process and all its descendants together (`generate` runs buf,
 * which runs the plugins: the peak of one process alone would hide the others), sampled from
 * Linux's /proc. Elsewhere `peakBytes` stays undefined.
 */
export interface TreeMemorySampler {
  /** The largest sum of RSS seen so far, in bytes; undefined when /proc cannot be read. */
  readonly peakBytes: number | undefined;
  stop(): void;
}

export function sampleTreeMemory(rootPid: number, intervalMs = 50): TreeMemorySampler {
  let peak: number | undefined;
  const sample = () => {
    const total = treeRss(rootPid);
    if (total !== undefined && (peak === undefined || total > peak)) peak = total;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    get peakBytes() {
      return peak;
    },
    stop() {
      sample();
      clearInterval(timer);
    },
  };
}

/** Sum of VmRSS over a process and its descendants; undefined when the root is gone or /proc is missing. */
export function treeRss(pid: number): number | undefined {
  const own = rssOf(pid);
  if (own === undefined) return undefined;
  let total = own;
  for (const child of childrenOf(pid)) total += treeRss(child) ?? 0;
  return total;
}

function rssOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return undefined;
  }
}

// Every thread's list: buf (Go) starts the plugins from whichever thread runs the goroutine.
function childrenOf(pid: number): number[] {
  const children = new Set<number>();
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const thread of threads) {
    try {
      for (const text of readFileSync(`/proc/${pid}/task/${thread}/children`, "utf8").split(/\s+/)) if (text !== "") children.add(Number(text));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return [...children];
}

/**
 * CPU seconds (user + system, all threads) a live process and its live descendants have used
 * (tsx compiles in an esbuild child); undefined where /proc is missing.
 */
export function treeCpuSeconds(pid: number): number | undefined {
  const own = processCpuSeconds(pid);
  if (own === undefined) return undefined;
  return childrenOf(pid).reduce((sum, child) => sum + (treeCpuSeconds(child) ?? 0), own);
}

/** CPU seconds (user + system, all threads) of one live process; undefined where /proc is missing. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), counted from field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticksPerSecond = 100; // USER_HZ, 100 on every Linux architecture Node supports
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

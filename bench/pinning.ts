import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Which CPUs the bench processes run on (`taskset -c` lists), or why they are not pinned. */
export type CpuPinning =
  | { readonly mode: "pinned"; readonly tasksetPath: string; readonly serverCpus: string; readonly loadCpus: string }
  | { readonly mode: "unpinned"; readonly reason: string };

/**
 * Pins the process under test to the first CPU this process may use and the backend and load
 * generators to the others, so that a server is not charged for CPU the backend or the load
 * generator burns. Needs `taskset` and at least 2 usable CPUs; otherwise unpinned, with the reason.
 */
export function detectPinning(enabled: boolean): CpuPinning {
  if (!enabled) return { mode: "unpinned", reason: "--no-pin" };
  const tasksetPath = findTaskset();
  if (!tasksetPath) return { mode: "unpinned", reason: "taskset not found" };
  let cpus: number[];
  try {
    // Prints e.g. "pid 42's current affinity list: 0,1" (a container may allow fewer CPUs than it has).
    const output = execFileSync(tasksetPath, ["-pc", String(process.pid)], { encoding: "utf8" });
    cpus = parseCpuList(output.slice(output.lastIndexOf(":") + 1));
  } catch (error) {
    return { mode: "unpinned", reason: `taskset -pc failed: ${(error as Error).message.split("\n")[0]}` };
  }
  if (cpus.length < 2) return { mode: "unpinned", reason: `only ${cpus.length} usable CPU(s)` };
  return { mode: "pinned", tasksetPath, serverCpus: String(cpus[0]), loadCpus: cpus.slice(1).join(",") };
}

/** One line for the console, e.g. "pinned: server under test on CPU 0, backend + load on CPU 1". */
export function describePinning(pinning: CpuPinning): string {
  return pinning.mode === "pinned"
    ? `pinned: process under test on CPU ${pinning.serverCpus}, backend + load generators on CPU ${pinning.loadCpus}`
    : `unpinned (${pinning.reason})`;
}

/** Moves every thread of this process (the orchestrator) off the server's CPU. */
export function pinSelf(pinning: CpuPinning): void {
  if (pinning.mode === "pinned") execFileSync(pinning.tasksetPath, ["-apc", pinning.loadCpus, String(process.pid)], { stdio: "ignore" });
}

function findTaskset(): string | undefined {
  if (existsSync("/usr/bin/taskset")) return "/usr/bin/taskset";
  try {
    return execFileSync("which", ["taskset"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** "0-2,5" -> [0, 1, 2, 5]. */
function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(",")) {
    const [from, to = from] = part.split("-").map(Number);
    if (!Number.isInteger(from) || !Number.isInteger(to)) throw new Error(`unexpected CPU list "${text.trim()}"`);
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

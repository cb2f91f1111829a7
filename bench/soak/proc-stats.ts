import { readdirSync, readFileSync } from "node:fs";

/**
 * Resident set size of process `pid` in bytes (VmRSS of /proc/PID/status), or undefined where
 * there is no /proc or the process is gone. Read from outside, so a gateway that is stuck still
 * gets measured.
 */
export function processRssBytes(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** How many file descriptors process `pid` has open (entries of /proc/PID/fd), or undefined. */
export function openFdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

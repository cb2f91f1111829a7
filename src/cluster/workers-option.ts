import { availableParallelism } from "node:os";

/**
 * `--workers N|auto`: how many worker processes serve the port. `auto` is the number of CPUs
 * this process may use (os.availableParallelism: the affinity mask, not the machine's cores).
 * 1 (the default) runs the gateway in this process, without a primary.
 */
export function parseWorkers(value: string, cores: () => number = availableParallelism): number {
  if (value === "auto") return Math.max(1, cores());
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_WORKERS) throw new RangeError(`expected a number of workers 1-${MAX_WORKERS} or auto, got "${value}"`);
  return Number(value);
}

/** More workers than this is a typo, not a deployment (each one is a whole gateway process). */
export const MAX_WORKERS = 256;

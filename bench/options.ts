import { parseArgs } from "node:util";
import type { LoadSettings } from "./targets.js";

/** The command line of `npm run bench`. */
export interface BenchOptions extends LoadSettings {
  /** Target names or families to run (empty: all). */
  readonly only: readonly string[];
  /** Folder for the JSON results. */
  readonly outDir: string;
  readonly help: boolean;
}

export const USAGE = `usage: npm run bench -- [--duration S] [--warmup S] [--connections N] [--only LIST] [--out DIR]

  --duration S      measured seconds per target and route (default 10)
  --warmup S        warm-up seconds before each measurement, not counted (default 2)
  --connections N   concurrent HTTP connections / in-flight gRPC calls (default 32)
  --only LIST       comma-separated targets: protogate (every variant), a variant name, proxy, direct
  --out DIR         where the JSON results go (default bench/results)`;

/** Parses and validates the bench flags; throws with a message naming the bad flag. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      connections: { type: "string", default: "32" },
      only: { type: "string", default: "" },
      out: { type: "string", default: "bench/results" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    durationSeconds: positiveNumber(values.duration, "--duration", 3600),
    warmupSeconds: positiveNumber(values.warmup, "--warmup", 600, true),
    connections: Math.floor(positiveNumber(values.connections, "--connections", 10_000)),
    only: values.only.split(",").map((name) => name.trim()).filter((name) => name !== ""),
    outDir: values.out,
    help: values.help,
  };
}

function positiveNumber(text: string, flag: string, max: number, zeroAllowed = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed) || value > max) {
    throw new Error(`${flag} must be a number ${zeroAllowed ? "from 0" : "above 0"} up to ${max}, got "${text}"`);
  }
  return value;
}

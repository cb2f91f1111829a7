import { parseArgs } from "node:util";

/** The command line of `npm run soak`. */
export interface SoakOptions {
  readonly minutes: number;
  /** Requests per second over all traffic classes. */
  readonly ratePerSecond: number;
  /** How often the gateway is sampled (summarised per minute). */
  readonly sampleSeconds: number;
  /** The start of the run that the memory verdict ignores (JIT, caches and pools filling up). */
  readonly warmupMinutes: number;
  /** Rate limits in a redis-server started for the run (false: the memory store). */
  readonly redis: boolean;
  readonly pin: boolean;
  readonly maxInFlight: number;
  readonly requestTimeoutMs: number;
  /** Writes heap snapshots of the gateway after the warm-up and at the end (to find a leak). */
  readonly heapSnapshots: boolean;
  readonly outDir: string;
  readonly help: boolean;
}

export const SOAK_USAGE = `usage: npm run soak -- [--minutes N] [--rate R] [--sample-seconds S] [--warmup-minutes N] [--no-redis] [--no-pin]
                      [--max-in-flight N] [--request-timeout-ms N] [--heap-snapshots] [--out DIR]

  --minutes N            how long the traffic runs (default 10; fractions allowed, e.g. 0.1)
  --rate R               requests per second, all classes together, paced (default 300)
  --sample-seconds S     how often RSS, heap, fds and event-loop delay are sampled (default 5)
  --warmup-minutes N     the start of the run the memory verdict leaves out (default 1)
  --no-redis             rate limits in the memory store instead of a redis-server started for the run
  --no-pin               do not pin the gateway to a CPU of its own (backend, Redis, load on the others)
  --max-in-flight N      concurrent requests at most (default 64)
  --request-timeout-ms N a request unanswered after this long is an unexpected error (default 10000)
  --heap-snapshots       write gateway heap snapshots after the warm-up and at the end (next to the results)
  --out DIR              where soak-*.json and soak-*.png go (default bench/results)

Exit code 0 when memory is flat (see bench/soak/verdict.ts) and no request had an unexpected outcome.`;

/** Parses and validates the soak's flags; throws with a message naming the bad flag. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: "string", default: "10" },
      rate: { type: "string", default: "300" },
      "sample-seconds": { type: "string", default: "5" },
      "warmup-minutes": { type: "string", default: "1" },
      "no-redis": { type: "boolean", default: false },
      "no-pin": { type: "boolean", default: false },
      "max-in-flight": { type: "string", default: "64" },
      "request-timeout-ms": { type: "string", default: "10000" },
      "heap-snapshots": { type: "boolean", default: false },
      out: { type: "string", default: "bench/results" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    minutes: boundedNumber(values.minutes, "--minutes", 0.01, 7 * 24 * 60),
    ratePerSecond: boundedNumber(values.rate, "--rate", 1, 100_000),
    sampleSeconds: boundedNumber(values["sample-seconds"], "--sample-seconds", 0.1, 600),
    warmupMinutes: boundedNumber(values["warmup-minutes"], "--warmup-minutes", 0, 24 * 60),
    redis: !values["no-redis"],
    pin: !values["no-pin"],
    maxInFlight: Math.floor(boundedNumber(values["max-in-flight"], "--max-in-flight", 1, 10_000)),
    requestTimeoutMs: Math.floor(boundedNumber(values["request-timeout-ms"], "--request-timeout-ms", 100, 600_000)),
    heapSnapshots: values["heap-snapshots"],
    outDir: values.out,
    help: values.help,
  };
}

function boundedNumber(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max) throw new Error(`${flag} must be a number from ${min} to ${max}, got "${text}"`);
  return value;
}

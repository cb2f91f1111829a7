import { parseArgs } from "node:util";
import { backendKind, GRPC_JS_BACKEND_FLAG, GRPC_JS_BACKEND_USAGE, type BenchBackendKind } from "./bench-backend.js";
import type { ProtogateBuild } from "./protogate-entry.js";
import type { LoadSettings } from "./targets.js";

/** The command line of `npm run bench`. */
export interface BenchOptions extends LoadSettings {
  /** Warm-up before each measurement of the first round, and of targets whose process is new each time. */
  readonly warmupSeconds: number;
  /** Warm-up in later rounds, where the server is already warm and only the load generator is new. */
  readonly laterWarmupSeconds: number;
  /** How many times every (target, route) pair is measured, round by round. */
  readonly rounds: number;
  /** Whether to pin processes to CPUs with taskset (when available). */
  readonly pin: boolean;
  /** Target names or families to run (empty: all). */
  readonly only: readonly string[];
  /** Folder for the JSON results. */
  readonly outDir: string;
  /** Rounds of the in-process feature-cost measurement (bench/feature-cost.ts); 0 skips it. */
  readonly costRounds: number;
  /** Rounds of the server-streaming measurement (gateway vs direct grpc-js); 0 skips it. */
  readonly streamRounds: number;
  /** Messages per stream in that measurement. */
  readonly streamMessages: number;
  /** Rounds of the dashboard measurement (the mobileDashboard aggregate against its three REST calls); 0: skip. */
  readonly dashboardRounds: number;
  /** Rounds of the GraphQL measurement (queries against the REST calls they stand for); 0: skip. */
  readonly graphqlRounds: number;
  /** Seconds of the latency run (Protogate and direct grpc-js at half Protogate's saturated rate); 0 skips it. */
  readonly latencySeconds: number;
  /** Minutes of the saturated run whose RSS is judged; 0 skips it. */
  readonly rssMinutes: number;
  /** What runs as `protogate`: dist/ (compiled first; default) or the sources through tsx (`--sources`). */
  readonly build: ProtogateBuild;
  /** Only the codegen benchmark (generate and cold serve start of Compute v1 against the demo). */
  readonly codegenOnly: boolean;
  /** Skip the codegen benchmark in a full run. */
  readonly skipCodegen: boolean;
  /** The gRPC backend of every target (gateway, proxy, direct calls alike). */
  readonly backend: BenchBackendKind;
  readonly help: boolean;
}

const LATER_WARMUP_SECONDS = 2;

export const USAGE = `usage: npm run bench -- [--duration S] [--warmup S] [--rounds N] [--connections N] [--rate R] [--cost-rounds N] [--stream-rounds N] [--stream-messages N] [--dashboard-rounds N] [--graphql-rounds N] [--latency-seconds S] [--rss-minutes M] [--only LIST] [--out DIR] [--sources] [--no-pin] [--${GRPC_JS_BACKEND_FLAG}] [--codegen | --no-codegen]

  --duration S      measured seconds per target, route and round (default 10)
  --warmup S        warm-up seconds before each first-round measurement, not counted (default 5);
                    later rounds use min(S, ${LATER_WARMUP_SECONDS}), except for direct calls, whose client is new each time
  --rounds N        measure every target and route N times, interleaved; report medians (default 3)
  --connections N   concurrent HTTP connections / in-flight gRPC calls (default 32)
  --rate R          HTTP load at a fixed R requests/s instead of as fast as possible: every server
                    then does the same work per second, and CPU µs per request is the cost of a
                    feature without batching effects (pick R below the slowest target's req/s)
  --cost-rounds N   rounds of the feature-cost measurement: CPU µs per request that auth and the
                    rate-limit stores add, gateways side by side in one process (default 15; 0: skip)
  --stream-rounds N messages per second of one server stream, direct grpc-js client against
                    Protogate (NDJSON), and the gateway's CPU per message (default 3; 0: skip)
  --stream-messages N  messages per stream in that measurement (default 200000)
  --dashboard-rounds N  rounds of the dashboard measurement: the demo's mobileDashboard aggregate
                    against a client making its three REST calls itself over keep-alive connections
                    (same gateway, same backend; --duration each; default 3; 0: skip). Runs in a
                    full run, or alone with --only dashboard
  --graphql-rounds N  rounds of the GraphQL measurement: getUser (every field) against GET
                    /v1/users/u-1, and two users' orders with each order's user joined against a
                    client making the REST calls itself (the lists, then users:batchGet), same
                    gateway and backend, keep-alive (--duration each; default 3; 0: skip). Runs in
                    a full run, or alone with --only graphql
  --latency-seconds S  seconds of the latency run after the rounds: plain Protogate and direct grpc-js
                    calls, each at half Protogate's saturated rate per route; p99s compared
                    (target: at most 1 ms apart; default: --duration; 0: skip)
  --rss-minutes M   minutes of a saturated GET run on a fresh plain Protogate, after a 60 s warm-up,
                    whose resident memory is sampled every 5 s (target: peak within 10 % of the
                    first 30 s; default 5; 0: skip)
  --only LIST       comma-separated targets: protogate (every variant), =protogate (the plain one alone), a variant name, proxy, direct, dashboard, graphql,
                    floor (bare Fastify replaying Protogate's bytes; with protogate: ok/MISSED
                    lines for CPU per request <= 3x the floor's and req/s >= 0.3x)
  --out DIR         where the JSON results go (default bench/results)
  --sources         run Protogate from its TypeScript sources through tsx (as bin/protogate.js does in a
                    checkout) instead of from dist/, which the bench first compiles (npm run build)
                    and which is what the package runs
  --no-pin          do not pin the process under test and the backend + load to separate CPUs
  ${GRPC_JS_BACKEND_USAGE}
  --codegen         run only the codegen benchmark: generate the demo protos and Compute v1 (wall
                    time, peak memory of the process tree) and start serve on each with an empty
                    $TMPDIR (time to the first answered request), against the targets
  --no-codegen      leave the codegen benchmark out of a full run`;

/** Parses and validates the bench flags; throws with a message naming the bad flag. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "32" },
      rate: { type: "string", default: "0" },
      "cost-rounds": { type: "string", default: "15" },
      "stream-rounds": { type: "string", default: "3" },
      "stream-messages": { type: "string", default: "200000" },
      "dashboard-rounds": { type: "string", default: "3" },
      "graphql-rounds": { type: "string", default: "3" },
      "latency-seconds": { type: "string" },
      "rss-minutes": { type: "string", default: "5" },
      only: { type: "string", default: "" },
      out: { type: "string", default: "bench/results" },
      "no-pin": { type: "boolean", default: false },
      sources: { type: "boolean", default: false },
      codegen: { type: "boolean", default: false },
      "no-codegen": { type: "boolean", default: false },
      [GRPC_JS_BACKEND_FLAG]: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const warmupSeconds = positiveNumber(values.warmup, "--warmup", 600, true);
  const rounds = positiveNumber(values.rounds, "--rounds", 100);
  const durationSeconds = positiveNumber(values.duration, "--duration", 3600);
  if (!Number.isInteger(rounds)) throw new Error(`--rounds must be a whole number, got "${values.rounds}"`);
  return {
    durationSeconds,
    warmupSeconds,
    laterWarmupSeconds: Math.min(warmupSeconds, LATER_WARMUP_SECONDS),
    rounds,
    pin: !values["no-pin"],
    connections: Math.floor(positiveNumber(values.connections, "--connections", 10_000)),
    ratePerSecond: Math.floor(positiveNumber(values.rate, "--rate", 1_000_000, true)),
    only: values.only.split(",").map((name) => name.trim()).filter((name) => name !== ""),
    outDir: values.out,
    costRounds: Math.floor(positiveNumber(values["cost-rounds"], "--cost-rounds", 1000, true)),
    streamRounds: Math.floor(positiveNumber(values["stream-rounds"], "--stream-rounds", 100, true)),
    streamMessages: Math.floor(positiveNumber(values["stream-messages"], "--stream-messages", 100_000_000)),
    dashboardRounds: Math.floor(positiveNumber(values["dashboard-rounds"], "--dashboard-rounds", 100, true)),
    graphqlRounds: Math.floor(positiveNumber(values["graphql-rounds"], "--graphql-rounds", 100, true)),
    latencySeconds: values["latency-seconds"] === undefined ? durationSeconds : positiveNumber(values["latency-seconds"], "--latency-seconds", 3600, true),
    rssMinutes: positiveNumber(values["rss-minutes"], "--rss-minutes", 600, true),
    build: values.sources ? "sources" : "dist",
    codegenOnly: values.codegen,
    skipCodegen: values["no-codegen"],
    backend: backendKind(values[GRPC_JS_BACKEND_FLAG]),
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

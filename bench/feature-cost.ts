// Child process of `npm run bench`: what authentication, rate limiting, the access log and tracing
// add to the CPU cost of a request, measured in one process so that a shared machine's noise
// cancels out. Several gateways (auth off; auth on with a hot RS256 token; a limit in the memory
// store; the access log for every request; a limit in Redis; tracing at sampling 1.0) run in
// this process; the HTTP client (bench/cost-client.ts), the demo backend and Redis in others.
// Batches of the same GET go to each gateway in turn, round after round, and each batch's CPU
// time of this process (process.cpuUsage: the gateways only) is divided by its requests; the
// per-round difference from the auth-off gateway is what the feature adds. Its median over rounds
// is reported as µs per request and as a share of the auth-off gateway's CPU per request: the
// throughput a CPU-bound gateway would lose to the feature.
// Usage: feature-cost.ts [--backend HOST:PORT --services LIST] [--rounds N] [--batch N] [--concurrency N]
//                        [--rate R] [--other-cpus LIST]
// The client paces each batch at --rate requests/s (default 2000, below what any variant serves
// here), so that every gateway sees the same arrivals; see cost-client.ts.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startGateway, type RunningGateway } from "../src/app.js";
import { configFromObject } from "../src/config/load-config.js";
import { loadGenerated } from "../src/load-generated.js";
import { redisAvailability, startRedisServer, type RedisServer } from "../test/support/redis-process.js";
import { spawnTs } from "./child-process.js";
import type { BatchReply, BatchRequest } from "./cost-client.js";
import { COST_RESULT_PREFIX, type FeatureCost, type FeatureCostResult } from "./feature-cost-result.js";
import { median } from "./report.js";
import { BENCH_ROUTES } from "./routes.js";
import { LIMIT_HEADER, MEMORY_LIMIT_CONFIG, redisLimitConfig } from "./rate-limit-variants.js";
import { ACCESS_LOG_ALL, prepareRs256Auth, RESILIENCE_UPSTREAM } from "./targets.js";
import { startOtlpSink, tracingConfig, type OtlpSink } from "./tracing-variant.js";
import { BATCH } from "../src/observe/tracing/span-sink.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "15" },
    batch: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "16" },
    rate: { type: "string", default: "2000" },
    "other-cpus": { type: "string" },
    backend: { type: "string" },
    services: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const batch = Number(values.batch);
const concurrency = Number(values.concurrency);
const ratePerSecond = Number(values.rate);
const route = BENCH_ROUTES[0];
const GENERATED_DIR = fileURLToPath(new URL("../generated", import.meta.url));
const RUN_TS = fileURLToPath(new URL("../bin/run-ts.js", import.meta.url));

interface Variant {
  readonly name: string;
  readonly description: string;
  readonly gateway: RunningGateway;
  readonly headers: Record<string, string>;
  /** A header every answer must carry (proof that the feature is on). */
  readonly expectHeader?: string;
  /**
   * Work the feature defers past the responses (tracing's span export), awaited inside the
   * batch's CPU window so that it is charged to this variant, not to whichever runs next.
   */
  readonly settle?: (requestsSoFar: number) => Promise<void>;
}

const otherCpus = values["other-cpus"];
/** Runs a command on the CPUs the gateways' process does not use, when the bench pins. */
const onOtherCpus = (command: readonly string[]): string[] => (otherCpus ? ["taskset", "-c", otherCpus, ...command] : [...command]);

/** The HTTP client process and a way to make it run one batch. */
function startClient(): { run(batch: BatchRequest): Promise<BatchReply>; stop(): void } {
  const [command, ...args] = onOtherCpus([process.execPath, RUN_TS, fileURLToPath(new URL("cost-client.ts", import.meta.url))]);
  const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return {
    run: (batch) =>
      new Promise((resolve, reject) => {
        const onExit = () => reject(new Error("the cost client exited"));
        child.once("exit", onExit);
        child.once("message", (reply: BatchReply) => {
          child.off("exit", onExit);
          resolve(reply);
        });
        child.send(batch);
      }),
    stop: () => child.kill(),
  };
}

const client = startClient();

/** Sends `count` GETs to the variant's gateway; throws on any failure. Returns this process's CPU µs per request. */
const sentTo = new Map<Variant, number>();
async function runBatch(variant: Variant, count: number): Promise<number> {
  const cpuBefore = process.cpuUsage();
  const reply = await client.run({ url: variant.gateway.url + route.http.path, headers: variant.headers, ...(variant.expectHeader !== undefined && { expectHeader: variant.expectHeader }), count, concurrency, ratePerSecond });
  const sent = (sentTo.get(variant) ?? 0) + count;
  sentTo.set(variant, sent);
  if (reply.ok) await variant.settle?.(sent);
  const cpu = process.cpuUsage(cpuBefore);
  if (!reply.ok) throw new Error(`${variant.name}: ${reply.error}`);
  return (cpu.user + cpu.system) / count;
}

/** The backend `npm run bench` passed, or one started here in a process of its own. */
async function demoBackend(): Promise<{ address: string; services: readonly string[]; stop(): Promise<void> }> {
  if (values.backend !== undefined && values.services !== undefined) {
    return { address: values.backend, services: values.services.split(","), stop: async () => undefined };
  }
  const child = spawnTs("backend", "bench/backend.ts", []);
  // (Unpinned when standalone; `npm run bench` passes its own backend, already pinned.)
  const [, address, services] = await child.waitFor(/demo backends listening on (\S+) \(([^)]*)\)/, 30_000);
  return { address, services: services.split(", "), stop: () => child.stop() };
}

async function main(): Promise<FeatureCostResult> {
  const dir = mkdtempSync(join(tmpdir(), "protogate-cost-"));
  const backend = await demoBackend();
  const generated = await loadGenerated(GENERATED_DIR);
  const upstreams = Object.fromEntries(backend.services.map((service) => [service, backend.address]));
  /** A gateway with `extra` config; `upstreamFlags` as `--upstream` flags (they replace config upstreams of the same service). */
  const start = (extra: Record<string, unknown>, upstreamFlags: Record<string, string> = upstreams) =>
    startGateway(configFromObject({ logging: { level: "silent" }, auth: { mode: "off" }, admin: { enabled: false }, ...extra }, { host: "127.0.0.1", port: 0, generated: GENERATED_DIR, upstreams: upstreamFlags }), generated);

  let redis: RedisServer | undefined;
  let sink: OtlpSink | undefined;
  const variants: Variant[] = [];
  try {
    variants.push({ name: "protogate", description: "auth off, no limit", gateway: await start({}), headers: {} });
    // A second, identical gateway: its difference from the first is the noise floor of the method.
    variants.push({ name: "protogate-control", description: "control: auth off, no limit (same as protogate)", gateway: await start({}), headers: {} });
    variants.push({ name: "protogate-metrics", description: "admin listener and Prometheus metrics on", gateway: await start({ admin: { enabled: true, port: 0 } }), headers: {} });
    const auth = await prepareRs256Auth(dir);
    variants.push({ name: "protogate-jwt", description: "auth on, hot RS256 token", gateway: await start(auth.config), headers: auth.headers });
    variants.push({ name: "protogate-limit-memory", description: "one limit, memory store", gateway: await start(MEMORY_LIMIT_CONFIG), headers: {}, expectHeader: LIMIT_HEADER });
    variants.push({ name: "protogate-accesslog", description: "access log, every request, to /dev/null", gateway: await start(ACCESS_LOG_ALL), headers: {} });
    const balanced = Object.fromEntries(backend.services.map((service) => [service, { address: backend.address, ...RESILIENCE_UPSTREAM }]));
    variants.push({ name: "protogate-resilience", description: "balanced upstream: retries, outlier detection, breaker, maxConcurrentCalls", gateway: await start({ upstreams: balanced }, {}), headers: {} });
    // Tracing at sampling 1.0, exporting to a collector stub in a process on the other CPUs.
    sink = await startOtlpSink(otherCpus ? { tasksetPath: "taskset", cpus: otherCpus } : undefined);
    const traced = sink;
    variants.push({
      name: "protogate-tracing",
      description: "tracing, sampling 1.0, OTLP/HTTP export",
      gateway: await start(tracingConfig(sink.endpoint)),
      headers: {},
      // Two spans per request; only full batches leave at once. Waiting for the last partial batch
      // (sent on the sink's 5 s timer) would charge this variant 5 s of the whole process's idle
      // CPU (every gateway's timers): measured as +10-25 µs per request. It leaves with the next
      // round's first full batch instead, inside this variant's window.
      settle: (requestsSoFar) => traced.waitFor(Math.floor((2 * requestsSoFar) / BATCH.maxBatchSpans) * BATCH.maxBatchSpans),
    });
    const availability = redisAvailability();
    if (availability.available) {
      redis = await startRedisServer({ commandPrefix: onOtherCpus([]) });
      variants.push({ name: "protogate-limit-redis", description: "one limit, Redis store", gateway: await start(redisLimitConfig(redis.address)), headers: {}, expectHeader: LIMIT_HEADER });
    } else {
      console.error(`feature-cost: no Redis variant: ${availability.reason}`);
    }

    for (const variant of variants) await runBatch(variant, batch * 2); // warm-up: JIT, connections, caches
    const perRound: number[][] = variants.map(() => []);
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so no gateway always runs right after the same one.
      for (let i = 0; i < variants.length; i++) {
        const index = (i + round) % variants.length;
        perRound[index].push(await runBatch(variants[index], batch));
      }
    }
    const baseline = perRound[0];
    const baselineUsPerRequest = median(baseline);
    const costs = variants.slice(1).map((variant, i): FeatureCost => {
      const samples = perRound[i + 1];
      const added = median(samples.map((value, round) => value - baseline[round]));
      return { variant: variant.name, description: variant.description, addedUsPerRequest: added, shareOfRequest: added / baselineUsPerRequest, usPerRequest: median(samples) };
    });
    return { rounds, batch, concurrency, ratePerSecond, route: route.label, baselineUsPerRequest, costs };
  } finally {
    for (const variant of variants) await variant.gateway.close();
    client.stop();
    await backend.stop();
    await redis?.stop();
    await sink?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const result = await main();
console.log(COST_RESULT_PREFIX + JSON.stringify(result));
// Keep-alive sockets and timers of closed gateways may linger; the result is out.
process.exit(0);

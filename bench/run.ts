// `npm run bench`: req/s and p50/p99 latency of two routes through Protogate (every variant), a
// hand-written proxy and direct grpc-js calls, in one run, measured over several interleaved
// rounds (medians reported). The backend, each server and each load generator run in processes
// of their own, pinned with taskset so that the process under test has a CPU to itself; a run
// with any failed request is reported as failed.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, platform, release } from "node:os";
import { join, resolve } from "node:path";
import { startBenchBackend } from "./bench-backend.js";
import { REPO_ROOT, spawnTs, tail, type CpuAffinity } from "./child-process.js";
import { COST_RESULT_PREFIX, type FeatureCostResult } from "./feature-cost-result.js";
import { parseBenchOptions, USAGE, type BenchOptions } from "./options.js";
import { describePinning, detectPinning, pinSelf } from "./pinning.js";
import { prepareProtogate } from "./protogate-entry.js";
import { formatLatency, type LatencyVerdict } from "./latency-target.js";
import { computeRatios, formatFeatureCost, formatFloor, formatRatios, formatSummaries, formatVariants, formatWorkers, hasFailures, judgeFloor, judgeVariants, summarize, type Measurement } from "./report.js";
import { formatRss, formatRssMinutes, type RssSample, type RssVerdict } from "./rss-target.js";
import { runLatencyTarget, runRssTarget } from "./target-runs.js";
import { runCodegenBench } from "./codegen.js";
import type { CodegenCase } from "./codegen-report.js";
import { BENCH_ROUTES } from "./routes.js";
import { formatStreamThroughput, measureStreamThroughput, type StreamThroughput } from "./stream-throughput.js";
import { allTargets, type BenchTarget, type RunningTarget } from "./targets.js";
import { formatDashboard, measureDashboard, type DashboardResult } from "./dashboard.js";
import { formatGraphql, measureGraphql, type GraphqlResult } from "./graphql.js";

interface Failure {
  readonly target: string;
  readonly route?: string;
  readonly round?: number;
  readonly message: string;
}

/** Whether `--only` entry `entry` selects `target`: its name or family, or with a leading `=` its name alone (`=protogate`: the plain gateway without its variants). */
const selects = (entry: string, target: BenchTarget): boolean => (entry.startsWith("=") ? target.name === entry.slice(1) : target.name === entry || target.family === entry);

/** `--only` entry of the dashboard measurement (not a target of the per-route table: it has its own requests). */
const DASHBOARD = "dashboard";
/** `--only` entry of the GraphQL measurement (its own requests, like the dashboard's). */
const GRAPHQL = "graphql";
const OWN_MEASUREMENTS = [DASHBOARD, GRAPHQL];

function selectTargets(only: readonly string[]): BenchTarget[] {
  const targets = allTargets();
  if (only.length === 0) return targets;
  const unknown = only.filter((entry) => !OWN_MEASUREMENTS.includes(entry) && !targets.some((t) => selects(entry, t)));
  if (unknown.length > 0) throw new Error(`--only: unknown target ${unknown.join(", ")}; known: ${[...new Set(targets.flatMap((t) => [t.family, t.name])), ...OWN_MEASUREMENTS].join(", ")}`);
  return targets.filter((t) => only.some((entry) => selects(entry, t)));
}

async function main(options: BenchOptions, targets: readonly BenchTarget[]): Promise<number> {
  const startedAt = new Date();
  const pinning = detectPinning(options.pin);
  if (pinning.mode === "unpinned" && options.pin) console.warn(`warning: ${pinning.reason}; running unpinned, so the backend and load generators share CPUs with the process under test`);
  console.log(describePinning(pinning));
  pinSelf(pinning);
  const affinity = (which: "serverCpus" | "loadCpus"): CpuAffinity | undefined => (pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning[which] } : undefined);
  const loadAffinity = affinity("loadCpus");

  // Built before anything starts, so a compile error fails the run at once.
  const protogateEntry = prepareProtogate(options.build);
  console.log(`protogate runs from ${options.build === "dist" ? "dist/ (compiled with tsc, as the package)" : "the TypeScript sources (tsx)"}`);
  const backendStarting = startBenchBackend(options.backend, loadAffinity);
  const started: { target: BenchTarget; running: RunningTarget }[] = [];
  let featureCost: FeatureCostResult | undefined;
  let streaming: StreamThroughput | undefined;
  let dashboard: DashboardResult | undefined;
  let graphql: GraphqlResult | undefined;
  let latency: LatencyVerdict[] | undefined;
  let rss: { verdict: RssVerdict; requestsPerSecond: number; samples: RssSample[] } | undefined;
  const notes: string[] = [];
  const measurements: Measurement[] = [];
  const failures: Failure[] = [];
  const backend = await backendStarting;
  try {
    const backendAddress = backend.address;
    const services = backend.services.join(", ");
    const context = { backendAddress, services: backend.services, settings: options, serverAffinity: affinity("serverCpus"), loadAffinity, protogateEntry };
    // Every server is started once, up front, and stays up (and warm) for all rounds.
    for (const target of targets) {
      try {
        started.push({ target, running: await target.start(context) });
      } catch (error) {
        failures.push({ target: target.name, message: `did not start: ${(error as Error).message}` });
        console.log(`  ${target.name}: did not start (${firstLine(error)})`);
      }
    }
    notes.push(...started.flatMap(({ running }) => running.notes ?? []));
    const warmupFor = (round: number, running: RunningTarget) => (round === 1 || !running.staysWarm ? options.warmupSeconds : options.laterWarmupSeconds);
    const plannedSeconds = Array.from({ length: options.rounds }, (_, i) => started.reduce((sum, { running }) => sum + BENCH_ROUTES.length * (warmupFor(i + 1, running) + options.durationSeconds), 0)).reduce((a, b) => a + b, 0);
    console.log(
      `${backend.kind} backend on ${backendAddress}; ${started.length} target(s) x ${BENCH_ROUTES.length} routes x ${options.rounds} round(s), ${options.connections} connections, ` +
        `${options.durationSeconds}s each after ${options.warmupSeconds}s warm-up (${options.laterWarmupSeconds}s in later rounds for servers) (~${Math.ceil(plannedSeconds / 60)} min)`,
    );
    // Round by round, and the targets next to each other per route, so that drift in machine load
    // hits every target alike instead of biasing the ratios.
    for (let round = 1; round <= options.rounds; round++) {
      console.log(`round ${round}/${options.rounds}`);
      for (const route of BENCH_ROUTES) {
        for (const { target, running } of started) {
          try {
            await running.check(route);
            const result = await running.measure(route, warmupFor(round, running));
            measurements.push({ target: target.name, family: target.family, route: route.id, routeLabel: route.label, round, ...result });
            console.log(`  ${target.name.padEnd(12)} ${route.label}: ${result.requestsPerSecond.toFixed(0)} req/s${hasFailures(result) ? " (with failures)" : ""}`);
          } catch (error) {
            failures.push({ target: target.name, route: route.id, round, message: (error as Error).message });
            console.log(`  ${target.name.padEnd(12)} ${route.label}: FAILED (${firstLine(error)})`);
          }
        }
      }
    }
    const plain = started.find(({ target }) => target.name === "protogate");
    if (plain !== undefined && options.latencySeconds > 0) {
      console.log(`latency: protogate and direct grpc-js at half protogate's saturated rate, ${options.latencySeconds}s each`);
      try {
        latency = await runLatencyTarget(plain.running, summarize(measurements.filter((m) => !hasFailures(m))), context, options.latencySeconds);
      } catch (error) {
        failures.push({ target: "latency", message: (error as Error).message });
      }
    }
    for (const { running } of started) await running.stop();
    started.length = 0;
    if (options.rssMinutes > 0 && targets.some((t) => t.name === "protogate")) {
      try {
        rss = await runRssTarget(context, options.rssMinutes);
      } catch (error) {
        failures.push({ target: "rss", message: (error as Error).message });
      }
    }
    if (options.costRounds > 0 && targets.some((t) => t.family === "protogate")) {
      try {
        featureCost = await measureFeatureCost(options.costRounds, backendAddress, services, affinity("serverCpus"), pinning.mode === "pinned" ? pinning.loadCpus : undefined);
      } catch (error) {
        failures.push({ target: "feature-cost", message: (error as Error).message });
      }
    }
    if (options.streamRounds > 0 && targets.some((t) => t.family === "protogate")) {
      try {
        streaming = await measureStreamThroughput(options.streamMessages, options.streamRounds, protogateEntry, affinity("serverCpus"), loadAffinity);
      } catch (error) {
        failures.push({ target: "streaming", message: (error as Error).message });
      }
    }
    if (options.dashboardRounds > 0 && (options.only.length === 0 || options.only.includes(DASHBOARD))) {
      console.log(`dashboard: the mobileDashboard aggregate against its three REST calls, ${options.dashboardRounds} round(s) of ${options.durationSeconds}s each`);
      try {
        dashboard = await measureDashboard(context, options.dashboardRounds, options.warmupSeconds);
        if (dashboard.failed) failures.push({ target: DASHBOARD, message: "requests failed during the measurement (see the rounds in the JSON results)" });
      } catch (error) {
        failures.push({ target: DASHBOARD, message: (error as Error).message });
      }
    }
    if (options.graphqlRounds > 0 && (options.only.length === 0 || options.only.includes(GRAPHQL))) {
      console.log(`graphql: queries against the REST calls they stand for, ${options.graphqlRounds} round(s) of 4 x ${options.durationSeconds}s`);
      try {
        graphql = await measureGraphql(context, options.graphqlRounds, options.warmupSeconds);
        if (graphql.failed) failures.push({ target: GRAPHQL, message: "requests failed during the measurement (see the rounds in the JSON results)" });
      } catch (error) {
        failures.push({ target: GRAPHQL, message: (error as Error).message });
      }
    }
  } finally {
    for (const { running } of started) await running.stop();
    await backend.stop();
  }
  let codegen: CodegenCase[] | undefined;
  if (!options.skipCodegen) {
    try {
      console.log("codegen: generate and cold serve start, demo protos and Compute v1");
      codegen = await runCodegenBench();
    } catch (error) {
      failures.push({ target: "codegen", message: (error as Error).message });
    }
  }

  const summaries = summarize(measurements);
  const ratios = computeRatios(summaries.filter((s) => !hasFailures(s)));
  const floor = judgeFloor(summaries, options.ratePerSecond > 0);
  const variants = judgeVariants(summaries, measurements);
  console.log(`\nmedians over rounds (${describePinning(pinning)})\n${formatSummaries(summaries)}`);
  if (ratios.length > 0) console.log(`\n${formatRatios(ratios, new Map(BENCH_ROUTES.map((r) => [r.id, r.label])))}`);
  if (floor.length > 0) console.log(`\n${formatFloor(floor)}`);
  if (variants.length > 0) console.log(`\n${formatVariants(variants)}`);
  const workers = formatWorkers(summaries);
  if (workers) console.log(`\n${workers}`);
  if (latency) console.log(`\n${formatLatency(latency)}`);
  if (rss) console.log(`\n${formatRss(rss.verdict, rss.requestsPerSecond)}\n${formatRssMinutes(rss.samples)}`);
  if (featureCost) console.log(`\n${formatFeatureCost(featureCost)}`);
  if (streaming) console.log(`\n${formatStreamThroughput(streaming)}`);
  if (dashboard) console.log(`\n${formatDashboard(dashboard)}`);
  if (graphql) console.log(`\n${formatGraphql(graphql)}`);
  if (notes.length > 0) console.log(`\n${notes.join("\n")}`);
  for (const f of failures) console.log(`\nFAILED ${f.target}${f.route ? ` ${f.route}` : ""}${f.round ? ` (round ${f.round})` : ""}: ${f.message}`);

  const outDir = resolve(REPO_ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  const machine = { node: process.version, platform: `${platform()} ${release()}`, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown" };
  const { connections, warmupSeconds, laterWarmupSeconds, durationSeconds, rounds, ratePerSecond } = options;
  const settings = { connections, warmupSeconds, laterWarmupSeconds, durationSeconds, rounds, ratePerSecond, build: options.build, backend: options.backend };
  const report = {
    startedAt: startedAt.toISOString(),
    machine,
    settings,
    pinning,
    targets: targets.map(({ name, family, description }) => ({ name, family, description })),
    routes: BENCH_ROUTES.map(({ id, label, http }) => ({ id, label, method: http.method, path: http.path })),
    summaries,
    ratios,
    floor,
    variants,
    latency,
    rss,
    notes,
    featureCost,
    streaming,
    dashboard,
    graphql,
    codegen,
    measurements,
    failures,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults: ${file}`);
  return failures.length > 0 || measurements.some(hasFailures) ? 1 : 0;
}

/** Runs bench/feature-cost.ts on the server's CPUs against the bench's backend; its Redis and client go on the other CPUs. */
async function measureFeatureCost(rounds: number, backendAddress: string, services: string, affinity: CpuAffinity | undefined, otherCpus: string | undefined): Promise<FeatureCostResult> {
  console.log(`feature cost: ${rounds} rounds, gateways side by side in one process`);
  const args = ["--rounds", String(rounds), "--backend", backendAddress, "--services", services.split(", ").join(",")];
  if (otherCpus !== undefined) args.push("--other-cpus", otherCpus);
  const child = spawnTs("feature-cost", "bench/feature-cost.ts", args, affinity);
  const code = await child.exited;
  const line = child.stdout().split("\n").find((candidate) => candidate.startsWith(COST_RESULT_PREFIX));
  if (code !== 0 || !line) throw new Error(`feature-cost failed (exit ${code}):\n${tail(child.stderr() || child.stdout())}`);
  return JSON.parse(line.slice(COST_RESULT_PREFIX.length)) as FeatureCostResult;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

let options: BenchOptions;
let targets: BenchTarget[];
try {
  options = parseBenchOptions(process.argv.slice(2));
  targets = selectTargets(options.only);
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
} else if (options.codegenOnly) {
  process.exitCode = await runCodegenBench().then(
    () => 0,
    (error: unknown) => {
      console.error(`codegen benchmark failed: ${(error as Error).message}`);
      return 1;
    },
  );
} else {
  process.exitCode = await main(options, targets);
}

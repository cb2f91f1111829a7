// `npm run bench`: req/s and p50/p99 latency of two routes through Protogate (every variant), a
// hand-written proxy and direct grpc-js calls, in one run. The backend, each server and each load
// generator run in processes of their own; a run with any failed request is reported as failed.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, platform, release } from "node:os";
import { join, resolve } from "node:path";
import { REPO_ROOT, spawnTs } from "./child-process.js";
import { parseBenchOptions, USAGE, type BenchOptions } from "./options.js";
import { computeRatios, formatMeasurements, formatRatios, hasFailures, type Measurement } from "./report.js";
import { BENCH_ROUTES } from "./routes.js";
import { allTargets, type BenchTarget } from "./targets.js";

interface Failure {
  readonly target: string;
  readonly route?: string;
  readonly message: string;
}

function selectTargets(only: readonly string[]): BenchTarget[] {
  const targets = allTargets();
  if (only.length === 0) return targets;
  const unknown = only.filter((name) => !targets.some((t) => t.name === name || t.family === name));
  if (unknown.length > 0) throw new Error(`--only: unknown target ${unknown.join(", ")}; known: ${[...new Set(targets.flatMap((t) => [t.family, t.name]))].join(", ")}`);
  return targets.filter((t) => only.includes(t.name) || only.includes(t.family));
}

async function main(options: BenchOptions, targets: readonly BenchTarget[]): Promise<number> {
  const startedAt = new Date();
  const backend = spawnTs("backend", "bench/backend.ts", []);
  const measurements: Measurement[] = [];
  const failures: Failure[] = [];
  try {
    const [, backendAddress, services] = await backend.waitFor(/demo backends listening on (\S+) \(([^)]*)\)/, 30_000);
    const context = { backendAddress, services: services.split(", "), settings: options };
    const perRun = options.warmupSeconds + options.durationSeconds;
    console.log(`backend on ${backendAddress}; ${targets.length} target(s) x ${BENCH_ROUTES.length} routes, ${options.connections} connections, ${options.warmupSeconds}s warm-up + ${options.durationSeconds}s each (~${Math.ceil((targets.length * BENCH_ROUTES.length * perRun) / 60)} min)`);
    for (const target of targets) {
      let running;
      try {
        running = await target.start(context);
      } catch (error) {
        failures.push({ target: target.name, message: `did not start: ${(error as Error).message}` });
        console.log(`  ${target.name}: did not start (${firstLine(error)})`);
        continue;
      }
      try {
        for (const route of BENCH_ROUTES) {
          try {
            await running.check(route);
            const result = await running.measure(route);
            measurements.push({ target: target.name, family: target.family, route: route.id, routeLabel: route.label, ...result });
            console.log(`  ${target.name.padEnd(12)} ${route.label}: ${result.requestsPerSecond.toFixed(0)} req/s${hasFailures(result) ? " (with failures)" : ""}`);
          } catch (error) {
            failures.push({ target: target.name, route: route.id, message: (error as Error).message });
            console.log(`  ${target.name.padEnd(12)} ${route.label}: FAILED (${firstLine(error)})`);
          }
        }
      } finally {
        await running.stop();
      }
    }
  } finally {
    await backend.stop();
  }

  const ratios = computeRatios(measurements.filter((m) => !hasFailures(m)));
  console.log(`\n${formatMeasurements(measurements)}`);
  if (ratios.length > 0) console.log(`\n${formatRatios(ratios, new Map(BENCH_ROUTES.map((r) => [r.id, r.label])))}`);
  for (const failure of failures) console.log(`\nFAILED ${failure.target}${failure.route ? ` ${failure.route}` : ""}: ${failure.message}`);

  const outDir = resolve(REPO_ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  const machine = { node: process.version, platform: `${platform()} ${release()}`, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown" };
  const settings = { connections: options.connections, warmupSeconds: options.warmupSeconds, durationSeconds: options.durationSeconds };
  const report = { startedAt: startedAt.toISOString(), machine, settings, targets: targets.map(({ name, family, description }) => ({ name, family, description })), routes: BENCH_ROUTES.map(({ id, label, http }) => ({ id, label, method: http.method, path: http.path })), measurements, ratios, failures };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults: ${file}`);
  return failures.length > 0 || measurements.some(hasFailures) ? 1 : 0;
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
} else {
  process.exitCode = await main(options, targets);
}

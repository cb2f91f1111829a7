// `npm run soak -- --minutes N`: steady mixed traffic (successes, upstream errors, bad input,
// authentication failures, rate-limited callers) against a real `protogate serve` process in
// front of the demo backend and a redis-server started for the run, each in a process of its own.
// Every few seconds it samples the gateway's RSS and open file descriptors (from /proc), its V8
// heap and event-loop delay (from a probe preloaded into it), then judges the run (verdict.ts),
// writes every sample to bench/results/soak-*.json, draws them to soak-*.png, and exits 1 unless
// memory stayed flat and no request had an unexpected outcome.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, platform, release, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { redisAvailability, startRedisServer, type RedisServer } from "../../test/support/redis-process.js";
import { REPO_ROOT, spawnTs, tail, type ChildHandle, type CpuAffinity } from "../child-process.js";
import { describePinning, detectPinning, pinSelf } from "../pinning.js";
import { renderChart, type ChartPanel } from "./chart.js";
import { createSampler } from "./sampler.js";
import { createSoakAuth, TIER_CLAIM } from "./soak-auth.js";
import { startSoakGateway, type SoakGateway } from "./soak-gateway.js";
import { parseSoakOptions, SOAK_USAGE, type SoakOptions } from "./soak-options.js";
import { heapAfterGcPoints, rssOutsideHeapPoints, summariseMinutes, type MinuteSummary, type SoakSample } from "./soak-sample.js";
import { soakCallers, soakRateLimits, TRAFFIC_CLASSES } from "./traffic-classes.js";
import { createTrafficDriver, type ClassCounts } from "./traffic-driver.js";
import { DEFAULT_BOUNDS, judgeMemory, soakVerdict, type SoakVerdict } from "./verdict.js";

const PROBE_TIMEOUT_MS = 2_000;
const SNAPSHOT_TIMEOUT_MS = 120_000;

const sleepUntil = (at: number) => new Promise((done) => setTimeout(done, Math.max(0, at - performance.now())));
const fixed = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits));

async function main(options: SoakOptions): Promise<number> {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const outDir = resolve(REPO_ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const pinning = detectPinning(options.pin);
  if (pinning.mode === "unpinned" && options.pin) console.warn(`warning: ${pinning.reason}; running unpinned`);
  console.log(describePinning(pinning));
  pinSelf(pinning);
  const affinity = (which: "serverCpus" | "loadCpus"): CpuAffinity | undefined => (pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning[which] } : undefined);
  const loadAffinity = affinity("loadCpus");

  const dir = mkdtempSync(join(tmpdir(), "protogate-soak-"));
  let redis: RedisServer | undefined;
  let backend: ChildHandle | undefined;
  let gateway: SoakGateway | undefined;
  try {
    if (options.redis) {
      const availability = redisAvailability();
      if (!availability.available) throw new Error(`the soak needs redis-server (or --no-redis): ${availability.reason}`);
      redis = await startRedisServer(loadAffinity ? { commandPrefix: [loadAffinity.tasksetPath, "-c", loadAffinity.cpus] } : {});
    }
    backend = spawnTs("backend", "bench/backend.ts", [], loadAffinity);
    const [, backendAddress, services] = await backend.waitFor(/demo backends listening on (\S+) \(([^)]*)\)/, 30_000);
    const auth = await createSoakAuth(dir);
    const rateLimits = { ...soakRateLimits(TIER_CLAIM), store: redis ? "redis" : "memory", ...(redis && { redis: { nodes: [redis.address] } }) };
    gateway = await startSoakGateway({ dir, config: { auth: auth.authConfig, rateLimits }, backendAddress, services: services.split(", "), affinity: affinity("serverCpus") });
    console.log(`gateway pid ${gateway.pid} on ${gateway.url}; backend on ${backendAddress}; rate limits in ${redis ? `redis-server ${redis.address}` : "the memory store"}`);
    console.log(`traffic: ${options.ratePerSecond} req/s for ${options.minutes} min, sampled every ${options.sampleSeconds} s; classes: ${TRAFFIC_CLASSES.map((c) => `${c.name} ${c.weight}`).join(", ")}`);

    const traffic = createTrafficDriver({
      baseUrl: gateway.url,
      classes: TRAFFIC_CLASSES,
      callers: soakCallers(auth),
      ratePerSecond: options.ratePerSecond,
      maxInFlight: options.maxInFlight,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    const sampler = createSampler({ pid: gateway.pid, probe: gateway.probe, totals: traffic.totals, probeTimeoutMs: PROBE_TIMEOUT_MS });
    const snapshots: string[] = [];
    const samples: SoakSample[] = [];
    const durationMs = options.minutes * 60_000;
    const intervalMs = options.sampleSeconds * 1000;
    // A sample of the idle gateway first, at t = 0.
    samples.push(await sampler.sample(0));
    const start = performance.now();
    traffic.start();
    let printedMinutes = 0;
    let snapshotAfterWarmup = options.heapSnapshots && options.warmupMinutes > 0;
    for (let k = 1; k * intervalMs <= durationMs + 1e-6; k++) {
      await sleepUntil(start + k * intervalMs);
      const sample = await sampler.sample((k * intervalMs) / 1000);
      samples.push(sample);
      const minutes = summariseMinutes(samples);
      for (const summary of minutes.slice(printedMinutes, sample.t % 60 === 0 ? undefined : -1)) {
        console.log(formatMinute(summary));
        printedMinutes++;
      }
      if (snapshotAfterWarmup && sample.t >= options.warmupMinutes * 60) {
        snapshotAfterWarmup = false;
        snapshots.push(await gateway.probe.heapSnapshot(join(outDir, `soak-${stamp}-after-warmup.heapsnapshot`), SNAPSHOT_TIMEOUT_MS));
      }
    }
    const trafficSeconds = (performance.now() - start) / 1000;
    const classes = await traffic.stop();
    if (options.heapSnapshots) snapshots.push(await gateway.probe.heapSnapshot(join(outDir, `soak-${stamp}-end.heapsnapshot`), SNAPSHOT_TIMEOUT_MS));
    const minutes = summariseMinutes(samples);
    for (const summary of minutes.slice(printedMinutes)) console.log(formatMinute(summary));

    // The gateway must still be alive, and drain and exit 0 on SIGTERM.
    const failures: string[] = [];
    const missedProbes = samples.filter((s) => !s.probeAnswered).length;
    if (missedProbes > 0) failures.push(`the gateway's probe did not answer ${missedProbes} of ${samples.length} sample requests within ${PROBE_TIMEOUT_MS} ms`);
    if (samples.length < 2) failures.push("no samples were taken during the traffic (is --sample-seconds longer than the run?)");
    const errorLog = gateway.errorLog();
    if (errorLog.count > 0) failures.push(`the gateway logged ${errorLog.count} error(s), the first: ${errorLog.first[0]}`);
    const gatewayProcess = gateway.process;
    gateway = undefined;
    await gatewayProcess.stop(15_000);
    const exitCode = await gatewayProcess.exited;
    if (exitCode !== 0) failures.push(`the gateway exited with ${exitCode} on SIGTERM (expected 0)`);

    const bounds = { ...DEFAULT_BOUNDS, warmupMinutes: options.warmupMinutes };
    const memory = judgeMemory(rssOutsideHeapPoints(samples), heapAfterGcPoints(samples), options.minutes * 60, bounds);
    const unexpected = classes.reduce((sum, c) => sum + c.unexpected, 0);
    const verdict = soakVerdict(memory, unexpected, failures);

    printReport(classes, verdict, samples, trafficSeconds);
    const base = join(outDir, `soak-${stamp}`);
    const report = {
      startedAt: startedAt.toISOString(),
      machine: { node: process.version, platform: `${platform()} ${release()}`, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown" },
      settings: { ...options, rateLimitStore: redis ? "redis" : "memory" },
      pinning,
      bounds,
      trafficSeconds,
      classes: TRAFFIC_CLASSES.map((c, i) => ({ description: c.description, weight: c.weight, ...classes[i] })),
      verdict,
      minutes,
      samples,
      heapSnapshots: snapshots,
      gatewayErrorLog: errorLog,
      gatewayOutputTail: tail(`${gatewayProcess.stdout()}\n${gatewayProcess.stderr()}`, 40),
    };
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.png`, await renderChart(chartPanels(samples), chartOptions(options, verdict, redis !== undefined)));
    console.log(`\nresults: ${base}.json\nchart:   ${base}.png${snapshots.length ? `\nheap snapshots: ${snapshots.join(", ")}` : ""}`);
    return verdict.pass ? 0 : 1;
  } finally {
    await gateway?.process.stop();
    await backend?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function formatMinute(m: MinuteSummary): string {
  return (
    `  min ${String(m.minute).padStart(3)}: rss ${fixed(m.rssMb?.mean)} MB, heap ${fixed(m.heapUsedMb?.min)}-${fixed(m.heapUsedMb?.max)} MB, fds ${m.fdsMax ?? "-"}, ` +
    `loop delay p99 ${fixed(m.eventLoopDelayP99MaxMs, 2)} ms (max ${fixed(m.eventLoopDelayMaxMs, 1)}), cpu ${fixed(m.cpuPercentMean, 0)}%, ${m.requests} requests, ${m.unexpected} unexpected`
  );
}

function printReport(classes: readonly ClassCounts[], verdict: SoakVerdict, samples: readonly SoakSample[], trafficSeconds: number): void {
  console.log(`\nrequests by class (${trafficSeconds.toFixed(0)} s of traffic):`);
  for (const c of classes) {
    const statuses = Object.entries(c.statuses).map(([status, count]) => `${status}: ${count}`).join(", ");
    const latency = c.latencyMs ? `, p50 ${c.latencyMs.p50.toFixed(1)} ms, p99 ${c.latencyMs.p99.toFixed(1)} ms` : "";
    const allowed = c.allowed > 0 ? ` (${c.allowed} within the allowance)` : "";
    console.log(`  ${c.name.padEnd(20)} sent ${String(c.sent).padStart(7)}, expected ${c.expectedStatus}: ${c.expected}${allowed}, unexpected ${c.unexpected} [${statuses}]${latency}`);
    for (const example of c.examples) console.log(`      ${example}`);
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first && last) {
    const fds = samples.map((s) => s.fds).filter((v): v is number => v !== null);
    const p99 = samples.map((s) => s.eventLoopDelayMs?.p99 ?? null).filter((v): v is number => v !== null).sort((a, b) => a - b);
    console.log(
      `\ngateway: rss ${fixed(first.rssMb)} -> ${fixed(last.rssMb)} MB, heap used ${fixed(first.heapUsedMb)} -> ${fixed(last.heapUsedMb)} MB, ` +
        `fds ${Math.min(...fds)}-${Math.max(...fds)}, loop delay p99 median ${fixed(p99[Math.floor(p99.length / 2)], 2)} ms, worst ${fixed(p99[p99.length - 1], 2)} ms`,
    );
  }
  if (verdict.memory.judged) {
    for (const s of verdict.memory.series) {
      console.log(
        `memory ${s.series === "rss" ? "RSS outside the V8 heap" : "live heap (after major GC)"}: slope ${s.slopeMbPerMinute.toFixed(3)} MB/min over ${(s.fitFrom / 60).toFixed(1)}-${(s.fitTo / 60).toFixed(1)} min (bound ${s.maxSlopeMbPerMinute}), ` +
          `first post-warm-up minute ${s.firstMinuteMb.toFixed(1)} MB, last minute ${s.lastMinuteMb.toFixed(1)} MB (${(s.growthShare * 100).toFixed(1)}%, bound ${(s.maxGrowthShare * 100).toFixed(0)}%): ${s.pass ? "flat" : "GROWS"}`,
      );
    }
  } else {
    console.log(`memory: not judged: ${verdict.memory.reason}`);
  }
  console.log(verdict.pass ? "\nVERDICT: PASS" : `\nVERDICT: FAIL\n${verdict.failures.map((f) => `  - ${f}`).join("\n")}`);
}

function chartPanels(samples: readonly SoakSample[]): ChartPanel[] {
  const series = (pick: (s: SoakSample) => number | null) => samples.map((s) => ({ x: s.t / 60, y: pick(s) }));
  return [
    {
      title: "RSS (MB)",
      lines: [
        { label: "RSS", color: "#1f77b4", points: series((s) => s.rssMb) },
        { label: "outside V8 heap", color: "#2ca02c", points: rssOutsideHeapPoints(samples).map((p) => ({ x: p.t / 60, y: p.value })) },
      ],
    },
    {
      title: "V8 heap (MB)",
      lines: [
        { label: "heap used", color: "#d62728", points: series((s) => s.heapUsedMb) },
        { label: "after major GC", color: "#2ca02c", points: heapAfterGcPoints(samples).map((p) => ({ x: p.t / 60, y: p.value })) },
        { label: "external", color: "#9467bd", points: series((s) => s.externalMb) },
      ],
    },
    { title: "open file descriptors", lines: [{ label: "fds", color: "#ff7f0e", points: series((s) => s.fds) }] },
    {
      title: "event-loop delay (ms, per sample interval)",
      lines: [
        { label: "p99", color: "#8c564b", points: series((s) => s.eventLoopDelayMs?.p99 ?? null) },
        { label: "p50", color: "#17becf", points: series((s) => s.eventLoopDelayMs?.p50 ?? null) },
      ],
    },
  ];
}

function chartOptions(options: SoakOptions, verdict: SoakVerdict, redis: boolean) {
  const memory = verdict.memory.judged
    ? verdict.memory.series.map((s) => `${s.series === "rss" ? "RSS outside heap" : "live heap"} ${s.slopeMbPerMinute >= 0 ? "+" : ""}${s.slopeMbPerMinute.toFixed(2)} MB/min, ${s.growthShare >= 0 ? "+" : ""}${(s.growthShare * 100).toFixed(1)}%`).join("; ")
    : "memory not judged (run too short)";
  return {
    title: `Protogate soak: ${verdict.pass ? "PASS" : "FAIL"}`,
    subtitle: [
      `${options.minutes} min at ${options.ratePerSecond} req/s, rate limits in ${redis ? "Redis" : "memory"}, sampled every ${options.sampleSeconds} s; ${verdict.unexpectedErrors} unexpected errors`,
      memory,
    ],
    xMaxMinutes: options.minutes,
    warmupMinutes: options.warmupMinutes,
  };
}

let options: SoakOptions;
try {
  options = parseSoakOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${SOAK_USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(SOAK_USAGE);
} else {
  process.exitCode = await main(options);
}

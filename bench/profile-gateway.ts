// `node bin/run-ts.js bench/profile-gateway.ts`: a CPU profile of Protogate (plain, auth off, as
// the bench's `protogate` target) under steady load on each bench route, and its per-stage
// breakdown (bench/profile-stages.ts). Protogate runs with `node --cpu-prof` pinned to the bench's
// server CPU, one process per route; the backend and the load (autocannon, in this process) run
// on the other CPUs. Only the samples of the measured window count (not start-up or warm-up).
// Usage: profile-gateway.ts [--seconds S] [--warmup S] [--connections N] [--interval-us N] [--out DIR]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { stringify } from "yaml";
import { REPO_ROOT, spawnNode, spawnTs, type CpuAffinity } from "./child-process.js";
import { describePinning, detectPinning, pinSelf } from "./pinning.js";
import { processCpuMs } from "./process-cpu.js";
import { attributeProfile, formatBreakdown, formatTopFrames, STAGES, type CpuProfile } from "./profile-stages.js";
import { BENCH_ROUTES, type BenchRoute } from "./routes.js";
import { BASE_GATEWAY_CONFIG } from "./targets.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
    "interval-us": { type: "string", default: "1000" },
    out: { type: "string", default: "bench/results" },
  },
});
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const connections = Number(values.connections);
const PROTOGATE_BIN = fileURLToPath(new URL("../bin/protogate.js", import.meta.url));
const GENERATED_DIR = fileURLToPath(new URL("../generated", import.meta.url));

/** µs on the clock V8's profiler stamps samples with (CLOCK_MONOTONIC, as process.hrtime). */
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

interface LoadWindow {
  readonly fromUs: number;
  readonly toUs: number;
  /** Successful responses received inside the window. */
  readonly requests: number;
  readonly failures: number;
  /** The gateway's CPU (from /proc) per request over the window, for comparison with the profile's. */
  readonly procCpuUsPerRequest: number | undefined;
}

function load(base: string, route: BenchRoute, durationSeconds: number, serverPid: number): Promise<LoadWindow> {
  return new Promise((done, fail) => {
    let requests = 0;
    let failures = 0;
    const cpuBefore = processCpuMs(serverPid);
    const fromUs = nowUs();
    const instance = autocannon(
      { url: base + route.http.path, method: route.http.method, headers: route.http.headers, body: route.http.body, connections, pipelining: 1, duration: durationSeconds, timeout: 10 },
      (error) => {
        if (error) return fail(error);
        const toUs = nowUs();
        const cpuAfter = processCpuMs(serverPid);
        const procCpuUsPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && requests > 0 ? ((cpuAfter - cpuBefore) * 1000) / requests : undefined;
        done({ fromUs, toUs, requests, failures, procCpuUsPerRequest });
      },
    );
    instance.on("response", (_client, status) => {
      if (status === 200) requests++;
      else failures++;
    });
  });
}

async function profileRoute(route: BenchRoute, backendAddress: string, services: readonly string[], dir: string, outDir: string, affinity: CpuAffinity | undefined) {
  const configFile = join(dir, "gateway.yaml");
  writeFileSync(configFile, stringify(BASE_GATEWAY_CONFIG));
  const profileName = `${route.id}.cpuprofile`;
  const upstreams = services.flatMap((service) => ["--upstream", `${service}=${backendAddress}`]);
  const nodeFlags = ["--cpu-prof", "--cpu-prof-dir", outDir, "--cpu-prof-name", profileName, "--cpu-prof-interval", String(values["interval-us"])];
  const server = spawnNode(`protogate ${route.id}`, [...nodeFlags, PROTOGATE_BIN, "serve", "--config", configFile, "--generated", GENERATED_DIR, ...upstreams, "--host", "127.0.0.1", "--port", "0"], affinity);
  let window: LoadWindow;
  try {
    const [, base] = await server.waitFor(/protogate listening on (http:\/\/\S+)/, 30_000);
    const check = await fetch(base + route.http.path, { method: route.http.method, headers: route.http.headers, body: route.http.body });
    const text = await check.text();
    if (check.status !== 200) throw new Error(`Protogate answered ${route.label} with ${check.status}: ${text.slice(0, 200)}`);
    const pid = server.child.pid ?? 0;
    if (warmupSeconds > 0) await load(base, route, warmupSeconds, pid);
    window = await load(base, route, seconds, pid);
  } finally {
    // The profile is written when the process exits (serve drains and exits 0 on SIGTERM).
    await server.stop(15_000);
  }
  const profile = JSON.parse(readFileSync(join(outDir, profileName), "utf8")) as CpuProfile;
  if (window.fromUs < profile.startTime || window.toUs > profile.endTime) {
    throw new Error(`the load window (${window.fromUs}-${window.toUs} µs) is not inside the profile (${profile.startTime}-${profile.endTime} µs): the clocks differ`);
  }
  const breakdown = attributeProfile(profile, window);
  return { route: route.id, label: route.label, profile: join(outDir, profileName), ...window, breakdown };
}

const pinning = detectPinning(true);
pinSelf(pinning);
const loadAffinity = pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning.loadCpus } : undefined;
const serverAffinity = pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning.serverCpus } : undefined;
const startedAt = new Date();
const outDir = resolve(REPO_ROOT, values.out, `profile-${startedAt.toISOString().replace(/[:.]/g, "-")}`);
mkdirSync(outDir, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), "protogate-profile-"));
const backend = spawnTs("backend", "bench/backend.ts", [], loadAffinity);
const loadBefore = loadavg();
const results = [];
try {
  const [, backendAddress, services] = await backend.waitFor(/demo backends listening on (\S+) \(([^)]*)\)/, 30_000);
  console.log(`${describePinning(pinning)}; ${connections} connections, ${warmupSeconds}s warm-up, ${seconds}s profiled per route; load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`);
  for (const route of BENCH_ROUTES) {
    const result = await profileRoute(route, backendAddress, services.split(", "), dir, outDir, serverAffinity);
    results.push(result);
    const { breakdown, requests, failures, procCpuUsPerRequest } = result;
    console.log(
      `\n${route.label}: ${requests} requests in ${(breakdown.wallUs / 1e6).toFixed(1)} s (${((requests * 1e6) / breakdown.wallUs).toFixed(0)} req/s, ${failures} failed); ` +
        `gateway CPU ${procCpuUsPerRequest === undefined ? "n/a" : procCpuUsPerRequest.toFixed(0)} µs/req from /proc, ${(breakdown.busyUs / requests).toFixed(0)} µs/req sampled`,
    );
    console.log(formatBreakdown(breakdown, requests));
    // What the largest stages (a tenth of the CPU or more) and "other" are made of.
    const readStages = STAGES.filter((stage) => stage === "other" || breakdown.stageUs[stage] >= breakdown.busyUs / 10);
    console.log(formatTopFrames(breakdown, readStages, requests));
  }
} finally {
  await backend.stop();
  rmSync(dir, { recursive: true, force: true });
}
const loadAfter = loadavg();
console.log(`\nload average after: ${loadAfter.map((l) => l.toFixed(2)).join(" ")}; profiles and breakdown.json in ${outDir}`);
writeFileSync(join(outDir, "breakdown.json"), `${JSON.stringify({ startedAt: startedAt.toISOString(), node: process.version, pinning, seconds, warmupSeconds, connections, loadBefore, loadAfter, results }, null, 2)}\n`);

// `node bin/run-ts.js bench/profile-gateway.ts`: a CPU profile of Protogate (plain, auth off, as
// the bench's `protogate` target) under steady load on each bench route, and its per-stage
// breakdown (bench/profile-stages.ts). Protogate runs with `node --cpu-prof` pinned to the bench's
// server CPU, one process per route; the backend and the load (autocannon, in this process) run
// on the other CPUs. Only the samples of the measured window count (not start-up or warm-up).
// With --floor, the bench's floor server (bench/floor-server.ts, replaying the bytes the profiled
// Protogate sent) is profiled the same way after it, for comparison.
// Protogate runs from dist/ (compiled first), as the package does; --sources runs the TypeScript through tsx.
// The backend is the replay backend (bench/bench-backend.ts); --grpc-js-backend uses the grpc-js demo.
// With --variant NAME, Protogate runs as that bench variant (bench/targets.ts: its config, prepared
// files and request headers, e.g. protogate-jwt or protogate-tracing); per-upstream and
// multi-process variants are refused.
// With --rate R the load is paced at R requests/s instead of saturating the gateway.
// Usage: profile-gateway.ts [--seconds S] [--warmup S] [--connections N] [--rate R] [--interval-us N] [--out DIR] [--floor] [--variant NAME] [--sources] [--grpc-js-backend]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { stringify } from "yaml";
import { backendKind, GRPC_JS_BACKEND_FLAG, startBenchBackend } from "./bench-backend.js";
import { REPO_ROOT, spawnNode, type CpuAffinity } from "./child-process.js";
import { captureResponse, type CapturedResponse } from "./floor-responses.js";
import { describePinning, detectPinning, pinSelf } from "./pinning.js";
import { prepareProtogate } from "./protogate-entry.js";
import { processCpuMs } from "./process-cpu.js";
import { attributeProfile, formatBreakdown, formatTopFrames, STAGES, type CpuProfile } from "./profile-stages.js";
import { BENCH_ROUTES, type BenchRoute } from "./routes.js";
import { BASE_GATEWAY_CONFIG, PROTOGATE_VARIANTS, type PreparedVariant, type ProtogateVariant } from "./targets.js";
import { SERVING_NODE_FLAGS } from "../src/cli/node-flags.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
    "interval-us": { type: "string", default: "1000" },
    out: { type: "string", default: "bench/results" },
    floor: { type: "boolean", default: false },
    variant: { type: "string" },
    rate: { type: "string", default: "0" },
    sources: { type: "boolean", default: false },
    [GRPC_JS_BACKEND_FLAG]: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const connections = Number(values.connections);
/** A fixed request rate (all connections together), as the bench's `--rate`; 0: saturated. */
const ratePerSecond = Number(values.rate);
// dist/ (compiled first) unless --sources: see bench/protogate-entry.ts.
const PROTOGATE_BIN = prepareProtogate(values.sources ? "sources" : "dist");
const GENERATED_DIR = fileURLToPath(new URL("../generated", import.meta.url));
const RUN_TS = fileURLToPath(new URL("../bin/run-ts.js", import.meta.url));

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

/** The variant --variant names (undefined: the plain gateway). */
function chosenVariant(name: string | undefined): ProtogateVariant | undefined {
  if (name === undefined) return undefined;
  const variant = PROTOGATE_VARIANTS.find((candidate) => candidate.name === name);
  if (variant === undefined) throw new Error(`--variant: unknown ${name}; known: ${PROTOGATE_VARIANTS.map((candidate) => candidate.name).join(", ")}`);
  if (variant.upstream !== undefined || variant.args !== undefined || variant.allCpus) throw new Error(`--variant ${name}: only config variants can be profiled here`);
  return variant;
}
const variant = chosenVariant(values.variant);
/** Request headers of the variant (its token), set once it is prepared. */
let variantHeaders: Record<string, string> = {};

function load(base: string, route: BenchRoute, durationSeconds: number, serverPid: number): Promise<LoadWindow> {
  return new Promise((done, fail) => {
    let requests = 0;
    let failures = 0;
    const cpuBefore = processCpuMs(serverPid);
    const fromUs = nowUs();
    const instance = autocannon(
      { url: base + route.http.path, method: route.http.method, headers: { ...route.http.headers, ...variantHeaders }, body: route.http.body, connections, pipelining: 1, duration: durationSeconds, timeout: 10, ...(ratePerSecond > 0 && { overallRate: ratePerSecond }) },
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

interface ServerToProfile {
  /** Names the profile file and the report entry, e.g. "protogate" or "floor". */
  readonly name: string;
  /** What follows `node --cpu-prof ...`: the script and its arguments. */
  readonly argv: readonly string[];
  readonly ready: RegExp;
}

/** Starts one server under the profiler, loads one route (warm-up, then the measured window), stops it and attributes the window's samples. */
async function profileServer(server: ServerToProfile, route: BenchRoute, outDir: string, affinity: CpuAffinity | undefined) {
  const profileName = `${server.name}-${route.id}.cpuprofile`;
  // Node writes one profile per thread (tsx's module hooks run on a thread of their own), so each
  // run gets a folder, and the main thread's profile (thread id 0 in the default name) is kept.
  const runDir = join(outDir, `${server.name}-${route.id}`);
  const nodeFlags = ["--cpu-prof", "--cpu-prof-dir", runDir, "--cpu-prof-interval", String(values["interval-us"])];
  const child = spawnNode(`${server.name} ${route.id}`, [...nodeFlags, ...server.argv], affinity);
  let window: LoadWindow;
  let captured: CapturedResponse;
  try {
    const [, base] = await child.waitFor(server.ready, 30_000);
    captured = await captureResponse(await fetch(base + route.http.path, { method: route.http.method, headers: { ...route.http.headers, ...variantHeaders }, body: route.http.body }));
    if (captured.status !== 200) throw new Error(`${server.name} answered ${route.label} with ${captured.status}: ${Buffer.from(captured.bodyBase64, "base64").toString().slice(0, 200)}`);
    const pid = child.child.pid ?? 0;
    if (warmupSeconds > 0) await load(base, route, warmupSeconds, pid);
    window = await load(base, route, seconds, pid);
  } finally {
    // The profile is written when the process exits (both servers close and exit 0 on SIGTERM).
    await child.stop(15_000);
  }
  const mainThread = readdirSync(runDir).find((file) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(file));
  if (mainThread === undefined) throw new Error(`no main-thread profile in ${runDir}: ${readdirSync(runDir).join(", ")}`);
  renameSync(join(runDir, mainThread), join(outDir, profileName));
  rmSync(runDir, { recursive: true, force: true });
  const profile = JSON.parse(readFileSync(join(outDir, profileName), "utf8")) as CpuProfile;
  if (window.fromUs < profile.startTime || window.toUs > profile.endTime) {
    throw new Error(`the load window (${window.fromUs}-${window.toUs} µs) is not inside the profile (${profile.startTime}-${profile.endTime} µs): the clocks differ`);
  }
  const breakdown = attributeProfile(profile, window);
  return { server: server.name, route: route.id, label: route.label, profile: join(outDir, profileName), ...window, breakdown, captured };
}

function report(result: Awaited<ReturnType<typeof profileServer>>): void {
  const { breakdown, requests, failures, procCpuUsPerRequest } = result;
  console.log(
    `\n${result.server} ${result.label}: ${requests} requests in ${(breakdown.wallUs / 1e6).toFixed(1)} s (${((requests * 1e6) / breakdown.wallUs).toFixed(0)} req/s, ${failures} failed); ` +
      `server CPU ${procCpuUsPerRequest === undefined ? "n/a" : procCpuUsPerRequest.toFixed(0)} µs/req from /proc, ${(breakdown.busyUs / requests).toFixed(0)} µs/req sampled`,
  );
  console.log(formatBreakdown(breakdown, requests, procCpuUsPerRequest));
  // What the largest stages (a tenth of the CPU or more) and "other" are made of.
  const readStages = STAGES.filter((stage) => stage === "other" || breakdown.stageUs[stage] >= breakdown.busyUs / 10);
  console.log(formatTopFrames(breakdown, readStages, requests));
}

const pinning = detectPinning(true);
pinSelf(pinning);
const loadAffinity = pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning.loadCpus } : undefined;
const serverAffinity = pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning.serverCpus } : undefined;
const startedAt = new Date();
const outDir = resolve(REPO_ROOT, values.out, `profile-${startedAt.toISOString().replace(/[:.]/g, "-")}`);
mkdirSync(outDir, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), "protogate-profile-"));
const backend = await startBenchBackend(backendKind(values[GRPC_JS_BACKEND_FLAG]), loadAffinity);
const loadBefore = loadavg();
const results = [];
let prepared: PreparedVariant | undefined;
try {
  const [backendAddress, services] = [backend.address, backend.services.join(", ")];
  console.log(`${describePinning(pinning)}; ${backend.kind} backend; ${connections} connections, ${warmupSeconds}s warm-up, ${seconds}s profiled per route and server; load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`);
  const configFile = join(dir, "gateway.yaml");
  const context = { backendAddress, services: backend.services, settings: { connections, durationSeconds: seconds, ratePerSecond: 0 }, serverAffinity, loadAffinity, protogateEntry: PROTOGATE_BIN };
  prepared = variant?.prepare ? await variant.prepare(dir, context) : undefined;
  variantHeaders = prepared?.headers ?? {};
  writeFileSync(configFile, stringify({ ...BASE_GATEWAY_CONFIG, ...variant?.config, ...prepared?.config }));
  const upstreams = services.split(", ").flatMap((service) => ["--upstream", `${service}=${backendAddress}`]);
  const protogate: ServerToProfile = {
    name: variant?.name ?? "protogate",
    argv: [...SERVING_NODE_FLAGS, PROTOGATE_BIN, "serve", "--config", configFile, "--generated", GENERATED_DIR, ...upstreams, "--host", "127.0.0.1", "--port", "0"],
    ready: /protogate listening on (http:\/\/\S+)/,
  };
  const captured: Record<string, CapturedResponse> = {};
  for (const route of BENCH_ROUTES) {
    const result = await profileServer(protogate, route, outDir, serverAffinity);
    captured[route.id] = result.captured;
    results.push(result);
    report(result);
  }
  if (values.floor) {
    // The floor replays the bytes the profiled Protogate sent (see bench/floor-server.ts).
    const responsesFile = join(dir, "responses.json");
    writeFileSync(responsesFile, JSON.stringify(captured));
    const floor: ServerToProfile = { name: "floor", argv: [RUN_TS, join(REPO_ROOT, "bench/floor-server.ts"), "--responses", responsesFile, "--port", "0"], ready: /floor listening on (http:\/\/\S+)/ };
    for (const route of BENCH_ROUTES) {
      const result = await profileServer(floor, route, outDir, serverAffinity);
      results.push(result);
      report(result);
    }
  }
} finally {
  await prepared?.cleanup?.();
  await backend.stop();
  rmSync(dir, { recursive: true, force: true });
}
const loadAfter = loadavg();
console.log(`\nload average after: ${loadAfter.map((l) => l.toFixed(2)).join(" ")}; profiles and breakdown.json in ${outDir}`);
writeFileSync(join(outDir, "breakdown.json"), `${JSON.stringify({ startedAt: startedAt.toISOString(), node: process.version, pinning, seconds, warmupSeconds, connections, loadBefore, loadAfter, results }, null, 2)}\n`);

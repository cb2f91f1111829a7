// `node bin/run-ts.js bench/alloc-profile.ts [--seconds S] [--route get-user|search-users] [--top N] [--sources] [--grpc-js-backend]`: where a
// plain Protogate (as the bench's `protogate` target) allocates, per request, under steady load.
// V8's sampling heap profiler runs inside the gateway (bench/alloc-probe.mjs) over the measured
// window and counts objects already collected too, so the figures are the allocation rate per
// site (what the GC has to clean up), not what stays live. Bytes go to the stage of the innermost
// frame a rule of bench/profile-stages.ts recognises, as the CPU breakdown does.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { stringify } from "yaml";
import { backendKind, GRPC_JS_BACKEND_FLAG, startBenchBackend } from "./bench-backend.js";
import { spawnNode } from "./child-process.js";
import { detectPinning, pinSelf } from "./pinning.js";
import { prepareProtogate } from "./protogate-entry.js";
import { classifyStack, type CallFrame } from "./profile-stages.js";
import { BENCH_ROUTES, type BenchRoute } from "./routes.js";
import { BASE_GATEWAY_CONFIG } from "./targets.js";

interface HeapNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, route: { type: "string", default: "get-user" }, top: { type: "string", default: "25" }, sources: { type: "boolean", default: false }, [GRPC_JS_BACKEND_FLAG]: { type: "boolean", default: false } } });
const route = BENCH_ROUTES.find((r) => r.id === values.route);
if (route === undefined) throw new Error(`--route: one of ${BENCH_ROUTES.map((r) => r.id).join(", ")}`);

function load(base: string, benchRoute: BenchRoute, seconds: number): Promise<number> {
  return new Promise((done, fail) => {
    let ok = 0;
    const instance = autocannon({ url: base + benchRoute.http.path, method: benchRoute.http.method, headers: benchRoute.http.headers, body: benchRoute.http.body, connections: 32, duration: seconds }, (error) =>
      error ? fail(error) : done(ok),
    );
    instance.on("response", (_client, status) => {
      if (status === 200) ok++;
    });
  });
}

/** Bytes per stage and per leaf frame (with its caller), over the whole tree. */
function attribute(root: HeapNode): { stages: Map<string, number>; frames: Map<string, number>; total: number } {
  const stages = new Map<string, number>();
  const frames = new Map<string, number>();
  let total = 0;
  const name = (frame: CallFrame | undefined) => (frame === undefined ? "-" : `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(node_modules|src)\//, "$1/")}:${(frame.lineNumber ?? -1) + 1}`);
  const walk = (node: HeapNode, stack: CallFrame[]) => {
    const here = [node.callFrame, ...stack];
    if (node.selfSize > 0) {
      total += node.selfSize;
      const stage = classifyStack(here);
      stages.set(stage, (stages.get(stage) ?? 0) + node.selfSize);
      const key = `${name(here[0])}  <-  ${name(here[1])}`;
      frames.set(key, (frames.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(root, []);
  return { stages, frames, total };
}

const pinning = detectPinning(true);
pinSelf(pinning);
const affinity = (which: "serverCpus" | "loadCpus") => (pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning[which] } : undefined);
const dir = mkdtempSync(join(tmpdir(), "protogate-alloc-"));
const profileFile = join(dir, "alloc.heapprofile");
const backend = await startBenchBackend(backendKind(values[GRPC_JS_BACKEND_FLAG]), affinity("loadCpus"));
try {
  const [backendAddress, services] = [backend.address, backend.services.join(", ")];
  const configFile = join(dir, "gateway.yaml");
  writeFileSync(configFile, stringify(BASE_GATEWAY_CONFIG));
  const upstreams = services.split(", ").flatMap((service) => ["--upstream", `${service}=${backendAddress}`]);
  const probe = fileURLToPath(new URL("./alloc-probe.mjs", import.meta.url));
  // dist/ (compiled first) unless --sources: see bench/protogate-entry.ts.
  const bin = prepareProtogate(values.sources ? "sources" : "dist");
  const generated = fileURLToPath(new URL("../generated", import.meta.url));
  const gateway = spawnNode("protogate", ["--import", probe, bin, "serve", "--config", configFile, "--generated", generated, ...upstreams, "--host", "127.0.0.1", "--port", "0"], affinity("serverCpus"), {
    env: { ...process.env, ALLOC_PROFILE_FILE: profileFile },
  });
  try {
    const [, base] = await gateway.waitFor(/protogate listening on (http:\/\/\S+)/, 30_000);
    await load(base, route, 3);
    gateway.child.kill("SIGUSR2");
    await gateway.waitFor(/alloc sampling started/, 10_000);
    const requests = await load(base, route, Number(values.seconds));
    gateway.child.kill("SIGUSR2");
    await gateway.waitFor(/alloc profile written/, 60_000);
    const { head } = JSON.parse(readFileSync(profileFile, "utf8")) as { head: HeapNode };
    const { stages, frames, total } = attribute(head);
    const perRequest = (bytes: number) => (bytes / requests).toFixed(0).padStart(7);
    console.log(`${route.label}: ${requests} requests; ${perRequest(total)} bytes allocated per request (sampled)`);
    for (const [stage, bytes] of [...stages].sort((a, b) => b[1] - a[1])) console.log(`  ${perRequest(bytes)} B/req  ${stage}`);
    console.log("largest allocation sites (leaf <- caller):");
    for (const [frame, bytes] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`  ${perRequest(bytes)} B/req  ${frame}`);
  } finally {
    await gateway.stop();
  }
} finally {
  await backend.stop();
  rmSync(dir, { recursive: true, force: true });
}

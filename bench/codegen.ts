// The codegen benchmark (`npm run bench -- --codegen`): `protogate generate` of the demo protos
// (the baseline) and of Compute v1 (3.8 MB of proto, the largest API in google-proto-files), each
// into a temporary folder, then a `serve` of each folder started with an empty $TMPDIR and timed
// to its first answered request, printed against the targets.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, spawnNode, tail } from "./child-process.js";
import { formatCodegen, type CodegenCase } from "./codegen-report.js";
import { treeCpuSeconds, sampleTreeMemory } from "./process-tree-memory.js";

const PROTOGATE = join(REPO_ROOT, "bin", "protogate.js");
const COMPUTE = "google/cloud/compute/v1/compute.proto";

interface ApiUnderTest {
  readonly name: string;
  /** Lays out the API's proto folder under `dir`. */
  prepare(dir: string): void;
  /** A path of one of its GET routes: the gateway must answer it with 503 (no upstream configured), not 404. */
  readonly probePath: string;
}

const APIS: readonly ApiUnderTest[] = [
  { name: "demo", prepare: (dir) => cpSync(join(REPO_ROOT, "proto"), dir, { recursive: true }), probePath: "/v1/users/u1" },
  {
    name: "compute-v1",
    prepare: (dir) => {
      mkdirSync(join(dir, "google/cloud/compute/v1"), { recursive: true });
      cpSync(join(REPO_ROOT, "node_modules/google-proto-files", COMPUTE), join(dir, COMPUTE));
    },
    probePath: "/compute/v1/projects/p/global/networks/n",
  },
];

/** Runs the benchmark, prints its report, and resolves to the measured cases (compute last). */
export async function runCodegenBench(): Promise<CodegenCase[]> {
  const work = mkdtempSync(join(tmpdir(), "protogate-codegen-bench-"));
  try {
    const cases: CodegenCase[] = [];
    for (const api of APIS) {
      const protoDir = join(work, api.name, "proto");
      const outDir = join(work, api.name, "generated");
      api.prepare(protoDir);
      const generated = await timeGenerate(api.name, protoDir, outDir, freshTmp(work));
      console.log(`  ${api.name}: generate ${generated.seconds.toFixed(1)} s`);
      const cacheDir = freshTmp(work);
      const cold = await timeServeStart(api, outDir, cacheDir);
      const warm = await timeServeStart(api, outDir, cacheDir);
      console.log(`  ${api.name}: serve start ${cold.seconds.toFixed(2)} s cold, ${warm.seconds.toFixed(2)} s warm`);
      cases.push({
        name: api.name,
        generateSeconds: generated.seconds,
        generatePeakBytes: generated.peakBytes,
        coldServeSeconds: cold.seconds,
        coldServeCpuSeconds: cold.cpuSeconds,
        warmServeSeconds: warm.seconds,
      });
    }
    console.log(`\n${formatCodegen(cases, cases[cases.length - 1])}`);
    return cases;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let tmpCount = 0;
function freshTmp(work: string): string {
  const dir = join(work, `tmp-${++tmpCount}`);
  mkdirSync(dir);
  return dir;
}

async function timeGenerate(name: string, protoDir: string, outDir: string, tmp: string): Promise<{ seconds: number; peakBytes: number | undefined }> {
  const started = performance.now();
  const child = spawnNode(`generate ${name}`, [PROTOGATE, "generate", "--proto", protoDir, "--out", outDir], undefined, { env: { ...process.env, TMPDIR: tmp } });
  const memory = sampleTreeMemory(child.child.pid ?? -1);
  const code = await child.exited;
  const seconds = (performance.now() - started) / 1000;
  memory.stop();
  if (code !== 0) throw new Error(`generate of ${name} failed (exit ${code}):\n${tail(child.stderr() || child.stdout())}`);
  return { seconds, peakBytes: memory.peakBytes };
}

/** Wall and CPU seconds from spawning `serve` to its first answer (CPU time is what a loaded machine does not inflate). */
async function timeServeStart(api: ApiUnderTest, generatedDir: string, tmp: string): Promise<{ seconds: number; cpuSeconds: number | undefined }> {
  const started = performance.now();
  const server = spawnNode(`serve ${api.name}`, [PROTOGATE, "serve", "--generated", generatedDir, "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--auth", "off"], undefined, {
    env: { ...process.env, TMPDIR: tmp },
  });
  try {
    const [, url] = await server.waitFor(/protogate listening on (\S+)/, 300_000);
    const status = await getStatus(`${url}${api.probePath}`);
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = treeCpuSeconds(server.child.pid ?? -1);
    if (status !== 503) throw new Error(`serve of ${api.name} answered GET ${api.probePath} with ${status}, expected 503 (route found, no upstream)`);
    return { seconds, cpuSeconds };
  } finally {
    await server.stop();
  }
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET" }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

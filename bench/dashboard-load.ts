// Child process: load for the dashboard benchmark (bench/dashboard.ts), one mode per process:
// - `aggregate`: each "dashboard" is one GET of the gateway's mobileDashboard aggregate route;
// - `rest`: each "dashboard" is the three REST calls a client makes itself: GetUser and
//   ListOrders in parallel, then ListRecommendations with the user's region (as the aggregate
//   orders them), over keep-alive connections.
// The same client code drives both, so the ratio compares the gateway's work, not two clients.
// Prints one `BENCH_RESULT {json}` line (a LoadResult: requests are dashboards).
// Usage: dashboard-load.ts --url BASE --mode aggregate|rest --connections N --warmup S --duration S [--server-pid PID]
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";
import { createLatencyRecorder, RESULT_PREFIX, type LoadResult } from "./latency-recorder.js";
import { treeCpuSeconds } from "./process-tree-memory.js";
import { DASHBOARD_PATHS, type DashboardMode } from "./dashboard-paths.js";

const { values } = parseArgs({ options: { url: { type: "string" }, mode: { type: "string" }, connections: { type: "string" }, warmup: { type: "string" }, duration: { type: "string" }, "server-pid": { type: "string" }, rate: { type: "string" } } });
if (!values.url || (values.mode !== "aggregate" && values.mode !== "rest")) throw new Error("--url and --mode aggregate|rest are required");
const base = new URL(values.url);
const mode: DashboardMode = values.mode;
const connections = Number(values.connections ?? 32);
const serverPid = values["server-pid"] === undefined ? undefined : Number(values["server-pid"]);
// Two requests of a REST dashboard are in flight at once: twice the sockets, all kept alive.
const agent = new Agent({ keepAlive: true, maxSockets: connections * 2 });

/** One GET; resolves with its status and JSON body. */
function get(path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    request({ host: base.hostname, port: base.port, path, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) });
        } catch (error) {
          reject(error as Error);
        }
      });
      response.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

/** One dashboard: whether every answer was a 200. */
async function dashboard(): Promise<boolean> {
  if (mode === "aggregate") return (await get(DASHBOARD_PATHS.aggregate)).status === 200;
  const [user, orders] = await Promise.all([get(DASHBOARD_PATHS.user), get(DASHBOARD_PATHS.orders)]);
  const region = (user.body as { region?: string } | null)?.region ?? "";
  const recommendations = await get(DASHBOARD_PATHS.recommendations(region));
  return user.status === 200 && orders.status === 200 && recommendations.status === 200;
}

async function run(seconds: number, record: boolean): Promise<LoadResult> {
  const latencies = createLatencyRecorder();
  let failed = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const endAt = performance.now() + seconds * 1000;
  const cpuBefore = serverPid === undefined ? undefined : treeCpuSeconds(serverPid);
  const worker = async () => {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      try {
        const ok = await dashboard();
        if (!record) continue;
        latencies.record(performance.now() - t0);
        if (!ok) failed++;
      } catch {
        if (record) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const cpuAfter = serverPid === undefined ? undefined : treeCpuSeconds(serverPid);
  const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    requests: latencies.count,
    durationSeconds,
    requestsPerSecond: latencies.count / durationSeconds,
    p50Ms: latencies.percentile(50),
    p99Ms: latencies.percentile(99),
    errors,
    non2xx: failed,
    statusCodes: { ok: latencies.count - failed, failed },
    ...(cpuBefore !== undefined && cpuAfter !== undefined && latencies.count > 0 && { cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1e6) / latencies.count }),
  };
}

const warmupSeconds = Number(values.warmup ?? 2);
if (warmupSeconds > 0) await run(warmupSeconds, false);
const result = await run(Number(values.duration ?? 10), true);
agent.destroy();
console.log(RESULT_PREFIX + JSON.stringify(result));

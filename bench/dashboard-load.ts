// Child process: load for the dashboard benchmark (bench/dashboard.ts), one mode per process:
// - `aggregate`: each "dashboard" is one GET of the gateway's mobileDashboard aggregate route;
// - `rest`: each "dashboard" is the three REST calls a client makes itself: GetUser and
//   ListOrders in parallel, then ListRecommendations with the user's region (as the aggregate
//   orders them), over keep-alive connections.
// The same client code drives both, so the ratio compares the gateway's work, not two clients.
// Prints one `BENCH_RESULT {json}` line (a LoadResult: requests are dashboards).
// Usage: dashboard-load.ts --url BASE --mode aggregate|rest --connections N --warmup S --duration S [--server-pid PID]
import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { runClosedLoop, sendJson } from "./closed-loop.js";
import { RESULT_PREFIX } from "./latency-recorder.js";
import { DASHBOARD_PATHS, type DashboardMode } from "./dashboard-paths.js";

const { values } = parseArgs({ options: { url: { type: "string" }, mode: { type: "string" }, connections: { type: "string" }, warmup: { type: "string" }, duration: { type: "string" }, "server-pid": { type: "string" }, rate: { type: "string" } } });
if (!values.url || (values.mode !== "aggregate" && values.mode !== "rest")) throw new Error("--url and --mode aggregate|rest are required");
const base = new URL(values.url);
const mode: DashboardMode = values.mode;
const connections = Number(values.connections ?? 32);
const serverPid = values["server-pid"] === undefined ? undefined : Number(values["server-pid"]);
// Two requests of a REST dashboard are in flight at once: twice the sockets, all kept alive.
const agent = new Agent({ keepAlive: true, maxSockets: connections * 2 });

const get = (path: string) => sendJson(base, agent, "GET", path);

/** One dashboard: whether every answer was a 200. */
async function dashboard(): Promise<boolean> {
  if (mode === "aggregate") return (await get(DASHBOARD_PATHS.aggregate)).status === 200;
  const [user, orders] = await Promise.all([get(DASHBOARD_PATHS.user), get(DASHBOARD_PATHS.orders)]);
  const region = (user.body as { region?: string } | null)?.region ?? "";
  const recommendations = await get(DASHBOARD_PATHS.recommendations(region));
  return user.status === 200 && orders.status === 200 && recommendations.status === 200;
}

const loop = { connections, serverPid, once: dashboard };

const warmupSeconds = Number(values.warmup ?? 2);
if (warmupSeconds > 0) await runClosedLoop(loop, warmupSeconds, false);
const result = await runClosedLoop(loop, Number(values.duration ?? 10), true);
agent.destroy();
console.log(RESULT_PREFIX + JSON.stringify(result));

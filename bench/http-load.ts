// Child process: HTTP load with autocannon on one route (warm-up, then the measured run);
// prints one `BENCH_RESULT {json}` line.
// Usage: http-load.ts --url BASE --route ID --connections N --warmup S --duration S [--rate R] [--server-pid PID]
// With --server-pid, the server's CPU time (its process tree's) over the measured run is divided by its requests.
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { createLatencyRecorder, RESULT_PREFIX, type LoadResult } from "./latency-recorder.js";
import { treeCpuSeconds } from "./process-tree-memory.js";
import { routeById, type BenchRoute } from "./routes.js";

const { values } = parseArgs({
  options: { url: { type: "string" }, route: { type: "string" }, connections: { type: "string" }, warmup: { type: "string" }, duration: { type: "string" }, header: { type: "string", multiple: true }, "server-pid": { type: "string" }, rate: { type: "string" } },
});
if (!values.url || !values.route) throw new Error("--url and --route are required");
const baseRoute = routeById(values.route);
// `--header name:value` adds a request header (e.g. a variant's bearer token).
const extraHeaders = Object.fromEntries((values.header ?? []).map((h) => [h.slice(0, h.indexOf(":")), h.slice(h.indexOf(":") + 1)]));
const route: BenchRoute = { ...baseRoute, http: { ...baseRoute.http, headers: { ...baseRoute.http.headers, ...extraHeaders } } };
const connections = Number(values.connections ?? 32);
const ratePerSecond = Number(values.rate ?? 0);
const serverPid = values["server-pid"] === undefined ? undefined : Number(values["server-pid"]);
/** The server's CPU in ms, its child processes included (the workers of `serve --workers N`). */
const serverCpuMs = (pid: number): number | undefined => {
  const seconds = treeCpuSeconds(pid);
  return seconds === undefined ? undefined : seconds * 1000;
};

function run(base: string, target: BenchRoute, seconds: number, record: boolean): Promise<LoadResult> {
  const latencies = createLatencyRecorder();
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const cpuBefore = serverPid === undefined ? undefined : serverCpuMs(serverPid);
    const instance = autocannon(
      {
        url: base + target.http.path,
        method: target.http.method,
        headers: target.http.headers,
        body: target.http.body,
        connections,
        pipelining: 1,
        ...(ratePerSecond > 0 && { overallRate: ratePerSecond }),
        duration: seconds,
        timeout: 10,
      },
      (error, result) => {
        if (error) return reject(error);
        const cpuAfter = serverPid === undefined ? undefined : serverCpuMs(serverPid);
        const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
        const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count]));
        resolve({
          requests: latencies.count,
          durationSeconds,
          requestsPerSecond: latencies.count / durationSeconds,
          p50Ms: latencies.percentile(50),
          p99Ms: latencies.percentile(99),
          errors: result.errors,
          non2xx: result.non2xx,
          statusCodes,
          ...(cpuBefore !== undefined && cpuAfter !== undefined && latencies.count > 0 && { cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1000) / latencies.count }),
        });
      },
    );
    // autocannon's own histogram has 1 ms resolution; loopback latencies need better.
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      if (record) latencies.record(responseTime);
    });
  });
}

const warmupSeconds = Number(values.warmup ?? 2);
if (warmupSeconds > 0) await run(values.url, route, warmupSeconds, false);
const result = await run(values.url, route, Number(values.duration ?? 10), true);
console.log(RESULT_PREFIX + JSON.stringify(result));

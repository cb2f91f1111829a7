// Child process: direct grpc-js calls to the backend (no HTTP) with N calls in flight, warm-up
// then the measured run; prints one `BENCH_RESULT {json}` line.
// Usage: direct-load.ts --upstream HOST:PORT --route ID --connections N --warmup S --duration S
import { parseArgs } from "node:util";
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { UserServiceClient } from "../generated/demo/v1/user.js";
import { createLatencyRecorder, RESULT_PREFIX, type LatencyRecorder, type LoadResult } from "./latency-recorder.js";
import { routeById } from "./routes.js";

const { values } = parseArgs({
  options: { upstream: { type: "string" }, route: { type: "string" }, connections: { type: "string" }, warmup: { type: "string" }, duration: { type: "string" }, rate: { type: "string" } },
});
if (!values.upstream || !values.route) throw new Error("--upstream and --route are required");
const route = routeById(values.route);
const concurrency = Number(values.connections ?? 32);
// One client (one HTTP/2 channel), as a proxy in front of the backend would hold.
const client = new UserServiceClient(values.upstream, credentials.createInsecure());

function callOnce(): Promise<{ code: status; response: unknown }> {
  return new Promise((resolve) => {
    route.callGrpc(client, new Metadata(), (error, response) => resolve({ code: error ? error.code : status.OK, response }));
  });
}

const first = await callOnce();
if (first.code !== status.OK || !route.checkJson(first.response)) {
  console.error(`direct ${route.id}: unexpected first response (status ${first.code}): ${JSON.stringify(first.response)}`);
  process.exit(1);
}

async function run(seconds: number, latencies: LatencyRecorder | undefined): Promise<LoadResult> {
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const until = started + BigInt(Math.round(seconds * 1e9));
  const worker = async () => {
    while (process.hrtime.bigint() < until) {
      const begin = process.hrtime.bigint();
      const { code } = await callOnce();
      latencies?.record(Number(process.hrtime.bigint() - begin) / 1e6);
      requests++;
      statusCodes[`grpc-${code}`] = (statusCodes[`grpc-${code}`] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    requests,
    durationSeconds,
    requestsPerSecond: requests / durationSeconds,
    p50Ms: latencies?.percentile(50) ?? Number.NaN,
    p99Ms: latencies?.percentile(99) ?? Number.NaN,
    errors: 0,
    non2xx: requests - (statusCodes[`grpc-${status.OK}`] ?? 0),
    statusCodes,
    // The client is the process under test here.
    ...(requests > 0 && { cpuUsPerRequest: (cpu.user + cpu.system) / requests }),
  };
}

const warmupSeconds = Number(values.warmup ?? 2);
if (warmupSeconds > 0) await run(warmupSeconds, undefined);
const result = await run(Number(values.duration ?? 10), createLatencyRecorder());
client.close();
console.log(RESULT_PREFIX + JSON.stringify(result));

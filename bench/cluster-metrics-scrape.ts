// What a /metrics scrape costs with workers against one gateway, in one process: N worker
// registries filled with the series of R routes (each answered with a few statuses, duration
// histograms, upstream series), then, alternating per round:
// - one gateway: `registry.metrics()` of one of them (what /metrics costs without workers);
// - workers: every worker's `getMetricsAsJSON()`, a structured-clone round trip (what the IPC
//   channel's "advanced" serialization does), and the primary's aggregateClusterMetrics(...).metrics().
// Prints ms per scrape for both and their ratio (medians), the part each worker's event loop
// spends, and the page size.
// Usage: node bin/run-ts.js bench/cluster-metrics-scrape.ts [--workers N] [--routes N] [--rounds N]
import { deserialize, serialize } from "node:v8";
import { parseArgs } from "node:util";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { AnyBinding } from "../src/binding.js";
import { aggregateClusterMetrics } from "../src/cluster/cluster-metrics.js";
import type { WorkerMetric } from "../src/cluster/messages.js";
import { GrpcCode } from "../src/errors/grpc-code.js";
import { STANDARD_METHODS } from "../src/gateway/pipeline.js";
import { ExchangeRecorder } from "../src/observe/exchange-recorder.js";
import { createGatewayMetrics, type GatewayMetrics } from "../src/observe/metrics/gateway-metrics.js";
import { median } from "./report.js";

const { values } = parseArgs({ options: { workers: { type: "string", default: "2" }, routes: { type: "string", default: "50" }, rounds: { type: "string", default: "21" } } });
const workerCount = Number(values.workers);
const routeCount = Number(values.routes);
const rounds = Number(values.rounds);

const bindings = Array.from(
  { length: routeCount },
  (_, i) => ({ service: "bench.v1.Service", method: `Method${i}`, rpcPath: `/bench.v1.Service/Method${i}`, kind: "unary", httpMethod: i % 2 ? "POST" : "GET", pattern: `/v1/things${i}/{id}` }) as unknown as AnyBinding,
);
const OUTCOMES: Array<[number, GrpcCode]> = [
  [200, GrpcCode.OK],
  [404, GrpcCode.NOT_FOUND],
  [400, GrpcCode.INVALID_ARGUMENT],
  [503, GrpcCode.UNAVAILABLE],
];

/** A worker's metrics after traffic on every route with every outcome. */
function worker(): GatewayMetrics {
  const metrics = createGatewayMetrics({ bindings, standardMethods: STANDARD_METHODS });
  let now = 0;
  const recorder = new ExchangeRecorder({ observer: metrics.observer, now: () => now, newRequestId: () => "id" });
  for (const binding of bindings) {
    for (const [status, code] of OUTCOMES) {
      for (let i = 0; i < 5; i++) {
        const exchange = recorder.begin({ method: binding.httpMethod, url: "/", headers: {}, rawHeaders: [], client: { ip: "127.0.0.1", host: "h", protocol: "http" } });
        exchange.binding = binding;
        recorder.upstreamStarted(exchange, []);
        now += 1 + i * 7;
        recorder.upstreamEnded(exchange, code);
        exchange.settle(code);
        exchange.status = status;
        recorder.end(exchange);
      }
    }
  }
  return metrics;
}

const workers = Array.from({ length: workerCount }, worker);
const primary = new Registry();
collectDefaultMetrics({ register: primary });

async function single(): Promise<number> {
  const started = process.hrtime.bigint();
  const text = await workers[0].registry.metrics();
  if (text.length === 0) throw new Error("empty page");
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** What one worker's event loop spends on a scrape: its registry as JSON, and the clone onto the channel. */
async function workerPart(): Promise<number> {
  const started = process.hrtime.bigint();
  serialize(await workers[0].registry.getMetricsAsJSON());
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function cluster(): Promise<{ ms: number; bytes: number }> {
  const started = process.hrtime.bigint();
  const answers = await Promise.all(
    workers.map(async (metrics, index) => ({ worker: index + 1, metrics: deserialize(serialize(await metrics.registry.getMetricsAsJSON())) as WorkerMetric[] })),
  );
  const text = await aggregateClusterMetrics(answers, await primary.getMetricsAsJSON()).metrics();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, bytes: text.length };
}

await single();
await cluster();
const singleMs: number[] = [];
const clusterMs: number[] = [];
const workerMs: number[] = [];
let bytes = 0;
for (let round = 0; round < rounds; round++) {
  singleMs.push(await single());
  workerMs.push(await workerPart());
  const result = await cluster();
  clusterMs.push(result.ms);
  bytes = result.bytes;
}
const a = median(singleMs);
const b = median(clusterMs);
console.log(
  `${routeCount} routes x ${OUTCOMES.length} outcomes: one gateway ${a.toFixed(2)} ms/scrape; ${workerCount} workers summed ${b.toFixed(2)} ms/scrape (${(b / a).toFixed(2)}x), of which each worker ${median(workerMs).toFixed(2)} ms; page ${(bytes / 1024).toFixed(0)} KiB; medians of ${rounds} rounds`,
);

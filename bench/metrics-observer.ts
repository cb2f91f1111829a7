// Micro-benchmark of the metrics observer alone: the recorder's steps for a unary request
// (begin, upstream start and end, settle, end) with the metrics observer and without any, in
// alternating rounds in one process; prints the ns per request each adds and their difference.
// Usage: node bin/run-ts.js bench/metrics-observer.ts [--rounds N] [--requests N]
import { parseArgs } from "node:util";
import { GrpcCode } from "../src/errors/grpc-code.js";
import { STANDARD_METHODS } from "../src/gateway/pipeline.js";
import type { RequestHead } from "../src/gateway/request.js";
import { loadGenerated } from "../src/load-generated.js";
import { ExchangeRecorder } from "../src/observe/exchange-recorder.js";
import { createGatewayMetrics } from "../src/observe/metrics/gateway-metrics.js";
import { median } from "./report.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "15" }, requests: { type: "string", default: "200000" } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const generated = await loadGenerated(new URL("../generated", import.meta.url).pathname);
const bindings = generated.bindings;
const getUser = bindings.find((binding) => binding.rpcPath === "/demo.v1.UserService/GetUser");
if (getUser === undefined) throw new Error("no GetUser binding in generated/");
const metrics = createGatewayMetrics({ bindings, standardMethods: STANDARD_METHODS, processMetrics: false });
const withMetrics = new ExchangeRecorder({ observer: metrics.observer, newRequestId: () => "id" });
const without = new ExchangeRecorder({ newRequestId: () => "id" });
const head: RequestHead = { method: "GET", url: "/v1/users/u-1", headers: {}, rawHeaders: [], client: { ip: "127.0.0.1", host: "localhost", protocol: "http" } };

/** ns per request of `requests` unary exchanges through `recorder`. */
function run(recorder: ExchangeRecorder): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) {
    const exchange = recorder.begin(head);
    exchange.binding = getUser;
    recorder.upstreamStarted(exchange, []);
    recorder.upstreamEnded(exchange, GrpcCode.OK);
    exchange.settle(GrpcCode.OK);
    exchange.status = 200;
    exchange.bytesOut = 120;
    recorder.end(exchange);
  }
  return Number(process.hrtime.bigint() - started) / requests;
}

run(withMetrics);
run(without);
const added: number[] = [];
const plain: number[] = [];
for (let round = 0; round < rounds; round++) {
  const a = run(without);
  const b = run(withMetrics);
  plain.push(a);
  added.push(b - a);
}
// Scraping once proves the counts arrived (and is what a scrape costs with these series).
const page = await metrics.registry.metrics();
const counted = /^protogate_http_requests_total\{.*\} (\d+)$/m.exec(page)?.[1];
console.log(`recorder without observers: ${median(plain).toFixed(0)} ns/request; metrics observer adds ${median(added).toFixed(0)} ns/request (median of ${rounds} rounds of ${requests}); requests counted: ${counted}`);

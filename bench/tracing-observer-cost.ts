// A micro-benchmark of the tracing observer alone (no HTTP): µs of CPU per request for the
// observer's hooks (a SERVER and a CLIENT span written as OTLP protobuf), with the batches handed
// to a collector stand-in that drops them, against the recorder without tracing, in one run.
// Usage: node bin/run-ts.js bench/tracing-observer-cost.ts [--requests N] [--rounds N]
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { AnyBinding } from "../src/binding.js";
import { ExchangeRecorder } from "../src/observe/exchange-recorder.js";
import { createTracing } from "../src/observe/tracing/tracing.js";
import { tracingConfigSchema } from "../src/observe/tracing/tracing-config.js";
import { loadGenerated } from "../src/load-generated.js";
import { median } from "./report.js";

const { values } = parseArgs({ options: { requests: { type: "string", default: "20000" }, rounds: { type: "string", default: "7" } } });
const requests = Number(values.requests);
const rounds = Number(values.rounds);
const generated = await loadGenerated(fileURLToPath(new URL("../generated", import.meta.url)));
const binding: AnyBinding = generated.bindings.find((b) => b.method === "GetUser")!;

/** A collector transport that drops the bodies at once. */
const dropping = { send: async () => undefined, close: () => undefined };

const config = tracingConfigSchema.parse({ otlp: { endpoint: "http://127.0.0.1:1/v1/traces" } });
const tracing = createTracing(config, { transport: dropping });
const variants = [
  { name: "no tracing", recorder: new ExchangeRecorder(), flush: async () => undefined },
  { name: "tracing (OTLP protobuf, sampling 1.0)", recorder: new ExchangeRecorder({ observer: tracing.observer }), flush: tracing.flush },
];
const head = { method: "GET", url: "/v1/users/u-1", headers: { host: "localhost", "user-agent": "bench" }, rawHeaders: [], client: { ip: "127.0.0.1", host: "localhost", protocol: "http" } };

async function run(variant: (typeof variants)[number]): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const exchange = variant.recorder.begin(head);
    exchange.binding = binding;
    variant.recorder.upstreamStarted(exchange, [["x-forwarded-for", "127.0.0.1"]]);
    variant.recorder.upstreamEnded(exchange, 0);
    exchange.settle(0);
    exchange.status = 200;
    variant.recorder.end(exchange);
    // Let the exports run as they would between requests.
    if (i % 512 === 511) await new Promise((resolve) => setImmediate(resolve));
  }
  await variant.flush();
  const cpu = process.cpuUsage(start);
  return (cpu.user + cpu.system) / requests;
}

const samples = variants.map(() => [] as number[]);
for (const variant of variants) await run(variant); // warm-up
for (let round = 0; round < rounds; round++) for (let i = 0; i < variants.length; i++) samples[i].push(await run(variants[i]));
for (let i = 0; i < variants.length; i++) console.log(`${variants[i].name.padEnd(40)} ${median(samples[i]).toFixed(2)} µs/request`);
process.exit(0);

// `node bin/run-ts.js bench/access-log-cost.ts [--lines N] [--rounds R]`: the access log's own CPU
// per line, in this process: its observer's `ended` (build, serialise, append to pino's
// asynchronous destination writing to /dev/null in batches, the write system calls included)
// against the same loop with no observer, interleaved round by round; medians reported. Divide by
// the gateway's CPU per request (feature-cost.ts's baseline) for the share of throughput.
import { parseArgs } from "node:util";
import { Exchange } from "../src/observe/exchange.js";
import { createAccessLog } from "../src/observe/access-log/access-log.js";
import { accessLogConfigSchema } from "../src/observe/access-log/access-log-config.js";
import type { ExchangeObserver } from "../src/observe/observer.js";
import { NO_OBSERVER } from "../src/observe/observer.js";
import { median } from "./report.js";

const { values } = parseArgs({ options: { lines: { type: "string", default: "50000" }, rounds: { type: "string", default: "9" } } });
const lines = Number(values.lines);
const rounds = Number(values.rounds);
/** Requests that end in one event-loop turn (as under load); the destination writes between turns. */
const PER_TURN = 16;

/** A typical ended GET, as the pipeline leaves it. */
function endedExchange(): Exchange {
  const head = { method: "GET", url: "/v1/users/u-1", headers: { "user-agent": "autocannon" }, rawHeaders: [], client: { ip: "127.0.0.1", host: "localhost", protocol: "http" } };
  const exchange = new Exchange("0f8fad5b-d9cb-469f-a165-70867728950e", head, 0);
  exchange.binding = { pattern: "/v1/users/{user_id}", rpcPath: "/demo.v1.UserService/GetUser" } as Exchange["binding"];
  exchange.status = 200;
  exchange.settle(0);
  exchange.durationMs = 0.8123;
  exchange.upstreamMs = 0.5017;
  exchange.bytesOut = 120;
  return exchange;
}

/** CPU µs (this process, all threads) per `ended` call. */
async function cpuPerLine(observer: ExchangeObserver): Promise<number> {
  const exchange = endedExchange();
  const start = process.cpuUsage();
  for (let i = 0; i < lines; i += PER_TURN) {
    for (let j = 0; j < PER_TURN; j++) observer.ended(exchange);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / lines;
}

const log = createAccessLog(accessLogConfigSchema.parse({ mode: "all", destination: "/dev/null" }), { warn: (details, message) => console.error(message, details) });
const errorsOnly = createAccessLog(accessLogConfigSchema.parse({ mode: "errors", destination: "/dev/null" }), { warn: (details, message) => console.error(message, details) });
const variants = { none: NO_OBSERVER, all: log.observers[0], "errors (successes only)": errorsOnly.observers[0] };
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (const observer of Object.values(variants)) await cpuPerLine(observer); // warm-up
for (let round = 0; round < rounds; round++) for (const [name, observer] of Object.entries(variants)) samples[name].push(await cpuPerLine(observer));
const none = samples.none;
for (const name of Object.keys(variants)) {
  const added = median(samples[name].map((value, round) => value - none[round]));
  console.log(`${name.padEnd(24)} ${median(samples[name]).toFixed(3)} µs per call, ${added.toFixed(3)} µs more than no observer`);
}
await log.close();
await errorsOnly.close();

// `node bin/run-ts.js bench/upstream-cost.ts [--transport http2|wire|grpc-js] [--calls N] [--rounds N]
// [--concurrency N]`: the CPU one upstream call costs the calling process, per transport, with
// the demo backend in another process (pinned to another CPU when taskset allows). For
// before/after comparisons of a change to a transport's per-call path: run it on both commits
// and compare the medians (the spread between rounds shows the noise).
import { GetUserRequest } from "../generated/demo/v1/user.js";
import { createGrpcUpstream } from "../src/upstream/grpc-upstream.js";
import { createHttp2Upstream } from "../src/upstream/http2-upstream.js";
import { createWireUpstream } from "../src/upstream/wire-upstream.js";
import type { UpstreamTransport } from "../src/upstream/upstream-options.js";
import type { UnaryCall, Upstream } from "../src/upstream/upstream.js";
import { spawnTs } from "./child-process.js";
import { detectPinning, pinSelf } from "./pinning.js";

interface Options {
  transports: UpstreamTransport[];
  calls: number;
  rounds: number;
  concurrency: number;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { transports: ["http2", "wire", "grpc-js"], calls: 20_000, rounds: 7, concurrency: 16 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--transport" && (value === "http2" || value === "wire" || value === "grpc-js")) options.transports = [value];
    else if (flag === "--calls") options.calls = Number(value);
    else if (flag === "--rounds") options.rounds = Number(value);
    else if (flag === "--concurrency") options.concurrency = Number(value);
    else throw new Error(`unknown flag ${flag} (--transport http2|wire|grpc-js, --calls N, --rounds N, --concurrency N)`);
  }
  return options;
}

/** Runs `calls` calls, `concurrency` at a time; resolves with the process CPU (user + system) in µs. */
async function measure(upstream: Upstream, call: UnaryCall, calls: number, concurrency: number): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (started < calls) {
      started++;
      await upstream.call({ ...call, deadline: Date.now() + 10_000 });
    }
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

/** Each transport's factory. */
const TRANSPORTS: Readonly<Record<UpstreamTransport, (target: { address: string }) => Upstream>> = { http2: createHttp2Upstream, wire: createWireUpstream, "grpc-js": createGrpcUpstream };

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(options: Options): Promise<void> {
  const pinning = detectPinning(true);
  const backend = spawnTs("backend", "bench/backend.ts", [], pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning.loadCpus } : undefined);
  try {
    const [, address] = await backend.waitFor(/demo backends listening on (\S+)/, 30_000);
    // This process is the one under test: keep it on the server CPU, the backend on the others.
    if (pinning.mode === "pinned") pinSelf({ ...pinning, loadCpus: pinning.serverCpus });
    const call: UnaryCall = { rpcPath: "/demo.v1.UserService/GetUser", request: GetUserRequest.encode({ userId: "u-1" }).finish(), metadata: [["x-request-id", "bench"]], deadline: 0 };
    const medians = new Map<UpstreamTransport, number>();
    for (const transport of options.transports) {
      const upstream = TRANSPORTS[transport]({ address });
      try {
        await measure(upstream, call, options.calls, options.concurrency); // warm-up
        const perCall: number[] = [];
        for (let round = 0; round < options.rounds; round++) perCall.push((await measure(upstream, call, options.calls, options.concurrency)) / options.calls);
        const sorted = [...perCall].sort((a, b) => a - b);
        console.log(`${transport}: ${median(perCall).toFixed(1)} µs CPU per call (median of ${options.rounds} rounds of ${options.calls}; range ${sorted[0].toFixed(1)}-${sorted[sorted.length - 1].toFixed(1)})`);
        medians.set(transport, median(perCall));
      } finally {
        upstream.close();
      }
    }
    // Ratios within this run (the machine is noisy between runs): each transport against http2, the default.
    const baseline = medians.get("http2");
    if (baseline !== undefined && medians.size > 1) {
      for (const [transport, value] of medians) console.log(`${transport}: ${(value / baseline).toFixed(2)}x http2's CPU per call (concurrency ${options.concurrency})`);
    }
  } finally {
    await backend.stop();
  }
}

await main(parseOptions(process.argv.slice(2)));

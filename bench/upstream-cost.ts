// `node bin/run-ts.js bench/upstream-cost.ts [--transport http2|wire|grpc-js] [--calls N] [--rounds N]
// [--concurrency N] [--grpc-js-backend | --both-backends]`: the CPU one upstream call costs the
// calling process, per transport, with the bench backend in another process (pinned to another
// CPU when taskset allows), and what it costs the backend process (from /proc). For before/after
// comparisons of a change to a transport's per-call path: run it on both commits and compare the
// medians (the spread between rounds shows the noise). The backend is the replay backend
// (bench/bench-backend.ts); --grpc-js-backend uses the grpc-js demo backend, --both-backends
// measures both in one run and compares the backends' CPU per call.
import { GetUserRequest } from "../generated/demo/v1/user.js";
import { createGrpcUpstream } from "../src/upstream/grpc-upstream.js";
import { createHttp2Upstream } from "../src/upstream/http2-upstream.js";
import { createWireUpstream } from "../src/upstream/wire-upstream.js";
import type { UpstreamTransport } from "../src/upstream/upstream-options.js";
import type { UnaryCall, Upstream } from "../src/upstream/upstream.js";
import { startBenchBackend, type BenchBackendKind } from "./bench-backend.js";
import { detectPinning, pinSelf } from "./pinning.js";
import { processCpuMs } from "./process-cpu.js";

interface Options {
  transports: UpstreamTransport[];
  calls: number;
  rounds: number;
  concurrency: number;
  backends: BenchBackendKind[];
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { transports: ["http2", "wire", "grpc-js"], calls: 20_000, rounds: 7, concurrency: 16, backends: ["replay"] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--grpc-js-backend" || flag === "--both-backends") {
      options.backends = flag === "--grpc-js-backend" ? ["grpc-js"] : ["replay", "grpc-js"];
      i--;
    } else if (flag === "--transport" && (value === "http2" || value === "wire" || value === "grpc-js")) options.transports = [value];
    else if (flag === "--calls") options.calls = Number(value);
    else if (flag === "--rounds") options.rounds = Number(value);
    else if (flag === "--concurrency") options.concurrency = Number(value);
    else throw new Error(`unknown flag ${flag} (--transport http2|wire|grpc-js, --calls N, --rounds N, --concurrency N, --grpc-js-backend, --both-backends)`);
  }
  return options;
}

/** CPU µs per call of this process and of the backend's, over one round. */
interface RoundCost {
  readonly caller: number;
  readonly backend: number;
}

/** Runs `calls` calls, `concurrency` at a time; resolves with the CPU (user + system) per call of this process and of the backend process. */
async function measure(upstream: Upstream, call: UnaryCall, calls: number, concurrency: number, backendPid: number): Promise<RoundCost> {
  let started = 0;
  const worker = async () => {
    while (started < calls) {
      started++;
      await upstream.call({ ...call, deadline: Date.now() + 10_000 });
    }
  };
  const backendBefore = processCpuMs(backendPid) ?? Number.NaN;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(before);
  const backendMs = (processCpuMs(backendPid) ?? Number.NaN) - backendBefore;
  return { caller: (used.user + used.system) / calls, backend: (backendMs * 1000) / calls };
}

/** Each transport's factory. */
const TRANSPORTS: Readonly<Record<UpstreamTransport, (target: { address: string }) => Upstream>> = { http2: createHttp2Upstream, wire: createWireUpstream, "grpc-js": createGrpcUpstream };

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(options: Options): Promise<void> {
  const pinning = detectPinning(true);
  const affinity = pinning.mode === "pinned" ? { tasksetPath: pinning.tasksetPath, cpus: pinning.loadCpus } : undefined;
  // This process is the one under test: keep it on the server CPU, the backend on the others.
  if (pinning.mode === "pinned") pinSelf({ ...pinning, loadCpus: pinning.serverCpus });
  const call: UnaryCall = { rpcPath: "/demo.v1.UserService/GetUser", request: GetUserRequest.encode({ userId: "u-1" }).finish(), metadata: [["x-request-id", "bench"]], deadline: 0 };
  /** Median caller and backend CPU per call, by backend and transport. */
  const medians = new Map<string, RoundCost>();
  for (const kind of options.backends) {
    const backend = await startBenchBackend(kind, affinity);
    const pid = backend.child.child.pid ?? 0;
    try {
      for (const transport of options.transports) {
        const upstream = TRANSPORTS[transport]({ address: backend.address });
        try {
          await measure(upstream, call, options.calls, options.concurrency, pid); // warm-up (and the replay backend's cache)
          const rounds: RoundCost[] = [];
          for (let round = 0; round < options.rounds; round++) rounds.push(await measure(upstream, call, options.calls, options.concurrency, pid));
          const caller = rounds.map((r) => r.caller);
          const sorted = [...caller].sort((a, b) => a - b);
          const cost = { caller: median(caller), backend: median(rounds.map((r) => r.backend)) };
          console.log(
            `${kind} backend, ${transport}: ${cost.caller.toFixed(1)} µs CPU per call (median of ${options.rounds} rounds of ${options.calls}; range ${sorted[0].toFixed(1)}-${sorted[sorted.length - 1].toFixed(1)}); ` +
              `the backend ${cost.backend.toFixed(1)} µs per call (/proc, 10 ms ticks)`,
          );
          medians.set(`${kind} ${transport}`, cost);
        } finally {
          upstream.close();
        }
      }
    } finally {
      await backend.stop();
    }
  }
  // Ratios within this run (the machine is noisy between runs): each transport against http2, the default.
  for (const kind of options.backends) {
    const baseline = medians.get(`${kind} http2`);
    if (baseline === undefined || options.transports.length < 2) continue;
    for (const transport of options.transports) console.log(`${kind} backend, ${transport}: ${((medians.get(`${kind} ${transport}`)?.caller ?? Number.NaN) / baseline.caller).toFixed(2)}x http2's CPU per call (concurrency ${options.concurrency})`);
  }
  if (options.backends.length === 2) {
    for (const transport of options.transports) {
      const [replay, grpcJs] = [medians.get(`replay ${transport}`), medians.get(`grpc-js ${transport}`)];
      if (replay && grpcJs) console.log(`${transport}: the replay backend takes ${(replay.backend / grpcJs.backend).toFixed(2)}x the grpc-js demo backend's CPU per call; the caller ${(replay.caller / grpcJs.caller).toFixed(2)}x`);
    }
  }
}

await main(parseOptions(process.argv.slice(2)));

import { spawnTs, type ChildHandle, type CpuAffinity } from "./child-process.js";

/**
 * Which gRPC backend a benchmark runs against:
 * - `replay` (the default): bench/replay-backend.ts, which answers with the grpc-js demo's own
 *   replies from a cache at a small fraction of its CPU per call, so that the backend (sharing
 *   the load generators' CPU) does not cap what the gateway is measured at;
 * - `grpc-js`: the demo services on grpc-js (bench/backend.ts), as before (`--grpc-js-backend`).
 */
export type BenchBackendKind = "replay" | "grpc-js";

/** The flag every bench script takes to run against the grpc-js demo backend instead of the replay backend. */
export const GRPC_JS_BACKEND_FLAG = "grpc-js-backend";
export const GRPC_JS_BACKEND_USAGE = `--${GRPC_JS_BACKEND_FLAG}  run against the grpc-js demo backend (bench/backend.ts) instead of the replay backend (bench/replay-backend.ts), which answers with its replies at a fraction of its CPU per call`;

const ENTRY: Readonly<Record<BenchBackendKind, string>> = { replay: "bench/replay-backend.ts", "grpc-js": "bench/backend.ts" };

export const backendKind = (grpcJs: boolean | undefined): BenchBackendKind => (grpcJs ? "grpc-js" : "replay");

/** A running bench backend. */
export interface BenchBackend {
  readonly kind: BenchBackendKind;
  readonly child: ChildHandle;
  /** `host:port` to call. */
  readonly address: string;
  /** Fully qualified services it serves. */
  readonly services: string[];
  stop(): Promise<void>;
}

/** Spawns the chosen backend (on `affinity`'s CPUs) and waits until it listens. */
export async function startBenchBackend(kind: BenchBackendKind, affinity?: CpuAffinity): Promise<BenchBackend> {
  const child = spawnTs(`${kind} backend`, ENTRY[kind], [], affinity);
  try {
    const [, address, services] = await child.waitFor(/demo backends listening on (\S+) \(([^)]*)\)/, 30_000);
    return { kind, child, address, services: services.split(", "), stop: () => child.stop() };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

// The tracing variant of `npm run bench`: every request traced (sampling 1.0: a SERVER and a
// CLIENT span each), exported over OTLP/HTTP to a stand-in collector (bench/otlp-sink.ts) started
// for the run on the backend's and load generators' CPUs, next to plain `protogate`.
import { spawnTs, type ChildHandle, type CpuAffinity } from "./child-process.js";
import { BENCH_ROUTES } from "./routes.js";
import type { BenchContext, PreparedVariant, ProtogateVariant } from "./targets.js";

/** The gateway.yaml keys of a traced gateway exporting to `endpoint`. */
export const tracingConfig = (endpoint: string) => ({ tracing: { serviceName: "protogate-bench", samplingRatio: 1, otlp: { endpoint } } });

/** Requests sent at start to see the spans arrive: 800 spans, more than a batch (BATCH in src/observe/tracing/span-sink.ts), so one is exported at once. */
const PROBE_REQUESTS = 400;
const SINK_START_TIMEOUT_MS = 30_000;
/** How long the start-up probe waits for the first export (a full batch leaves at once). */
const FIRST_EXPORT_TIMEOUT_MS = 10_000;
/** How long `waitFor` waits for spans (the batch processor's timer exports a partial batch within 5 s). */
const SPANS_TIMEOUT_MS = 30_000;

export const TRACING_VARIANTS: readonly ProtogateVariant[] = [
  {
    name: "protogate-tracing",
    description: "Protogate serve, auth off, tracing at sampling 1.0 exported over OTLP/HTTP to a local collector stub",
    prepare: prepareTracing,
  },
];

/** A running OTLP sink: its endpoint, its counters, and how to stop it. */
export interface OtlpSink {
  readonly endpoint: string;
  stats(): Promise<{ exports: number; spans: number }>;
  /** Resolves once `spans` spans have arrived in all. */
  waitFor(spans: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startOtlpSink(affinity?: CpuAffinity): Promise<OtlpSink> {
  const child: ChildHandle = spawnTs("otlp-sink", "bench/otlp-sink.ts", [], affinity);
  try {
    const [, endpoint] = await child.waitFor(/otlp sink listening on (http:\/\/\S+)/, SINK_START_TIMEOUT_MS);
    const statsUrl = new URL("/stats", endpoint);
    return {
      endpoint,
      stats: async () => (await (await fetch(statsUrl)).json()) as { exports: number; spans: number },
      waitFor: async (spans) => {
        // Bounded: spans the batch processor dropped (its queue full) would never arrive.
        const response = await fetch(new URL(`/wait?spans=${spans}`, endpoint), { signal: AbortSignal.timeout(SPANS_TIMEOUT_MS) }).catch((error: unknown) => {
          throw new Error(`the collector stub did not receive ${spans} spans within ${SPANS_TIMEOUT_MS} ms (dropped?): ${String(error)}`);
        });
        await response.arrayBuffer();
      },
      stop: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

async function prepareTracing(_dir: string, context: BenchContext): Promise<PreparedVariant> {
  const sink = await startOtlpSink(context.loadAffinity);
  return {
    config: tracingConfig(sink.endpoint),
    headers: {},
    describe: async (base, headers) => [await probeExport(sink, base, headers)],
    cleanup: () => sink.stop(),
  };
}

/** Proof that the variant traces: a burst of requests, then the sink's first export (polled, bounded). */
async function probeExport(sink: OtlpSink, base: string, headers: Record<string, string>): Promise<string> {
  const route = BENCH_ROUTES[0];
  for (let i = 0; i < PROBE_REQUESTS; i++) {
    const response = await fetch(base + route.http.path, { headers });
    await response.arrayBuffer();
  }
  const deadline = Date.now() + FIRST_EXPORT_TIMEOUT_MS;
  for (;;) {
    const stats = await sink.stats();
    if (stats.spans > 0) return `protogate-tracing: the collector stub received ${stats.spans} spans in ${stats.exports} export(s) after ${PROBE_REQUESTS} probe requests`;
    if (Date.now() > deadline) throw new Error(`protogate-tracing: no span reached the collector stub within ${FIRST_EXPORT_TIMEOUT_MS} ms of ${PROBE_REQUESTS} requests`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

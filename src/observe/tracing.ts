import { resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type IdGenerator, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { WarnLog } from "../log-throttle.js";
import type { ExchangeObserver } from "./observer.js";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { withFailureLog } from "./logged-exporter.js";
import { PooledIdGenerator } from "./pooled-id-generator.js";
import type { TracingConfig } from "./tracing-config.js";
import { TracingObserver } from "./tracing-observer.js";

/** Test seams: where spans go instead of OTLP, and the trace/span IDs (which decide ratio sampling). */
export interface TracingSeams {
  readonly exporter?: SpanExporter;
  readonly idGenerator?: IdGenerator;
}

/*
 * The batch processor's bounds. A batch leaves when 1024 spans are waiting (512 requests: few
 * POSTs at load, each body ~1 MB), or 5 s after the first with fewer. The batch size made no
 * difference the bench could see: in bench/feature-cost.ts (one run each, on a busy machine)
 * tracing added 52 µs per request with 1024-span batches, 41 and 54 µs with 128, 43 µs with 64.
 * The queue holds 4096 spans (four batches), so spans keep being accepted while an export is in
 * flight; beyond that they are dropped, never waited for.
 */
export const BATCH = { maxExportBatchSize: 1_024, maxQueueSize: 4_096, scheduledDelayMillis: 5_000 } as const;

/** A gateway's tracing: the observer to add to the recorder, and the shutdown that flushes the last spans. */
export interface Tracing {
  readonly observer: ExchangeObserver;
  /** Exports every span ended so far. */
  flush(): Promise<void>;
  /** Exports what is still buffered, then stops (after the server closed, so every span has ended). */
  close(): Promise<void>;
}

/**
 * Builds the gateway's own tracer provider (never registered globally: several gateways may run
 * in one process, each with its provider): ParentBased(TraceIdRatioBased(samplingRatio)), spans
 * batched and exported over OTLP/HTTP (JSON) to `otlp.endpoint`.
 */
export function createTracing(config: TracingConfig, seams: TracingSeams = {}, log?: WarnLog): Tracing {
  // The library's OTLP/HTTP JSON exporter (retries, gzip-capable). A hand-written one was measured
  // on this path: it built the JSON ~2.5x faster per span, but once encoded the end-to-end cost of
  // tracing did not move beyond the noise, so the library's stays.
  const exporter =
    seams.exporter ??
    withFailureLog(new OTLPTraceExporter({ url: config.otlp.endpoint, headers: { ...config.otlp.headers }, timeoutMillis: config.otlp.timeoutMs }), config.otlp.endpoint, log ?? { warn: () => undefined });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    // At ratio 1 every trace is kept: AlwaysOn decides that without reading the trace ID.
    sampler: new ParentBasedSampler({ root: config.samplingRatio === 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(config.samplingRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, BATCH)],
    idGenerator: seams.idGenerator ?? new PooledIdGenerator(),
  });
  return {
    observer: new TracingObserver(provider.getTracer("protogate")),
    flush: () => provider.forceFlush(),
    close: () => provider.shutdown(),
  };
}

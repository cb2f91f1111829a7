import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type IdGenerator, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { ExchangeObserver } from "./observer.js";
import type { TracingConfig } from "./tracing-config.js";
import { TracingObserver } from "./tracing-observer.js";

/** Test seams: where spans go instead of OTLP, and the trace/span IDs (which decide ratio sampling). */
export interface TracingSeams {
  readonly exporter?: SpanExporter;
  readonly idGenerator?: IdGenerator;
}

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
export function createTracing(config: TracingConfig, seams: TracingSeams = {}): Tracing {
  const exporter = seams.exporter ?? new OTLPTraceExporter({ url: config.otlp.endpoint, headers: config.otlp.headers, timeoutMillis: config.otlp.timeoutMs });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.samplingRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
    ...(seams.idGenerator ? { idGenerator: seams.idGenerator } : {}),
  });
  return {
    observer: new TracingObserver(provider.getTracer("protogate")),
    flush: () => provider.forceFlush(),
    close: () => provider.shutdown(),
  };
}

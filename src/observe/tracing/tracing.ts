import type { WarnLog } from "../../log-throttle.js";
import { packageVersion } from "../../package-root.js";
import type { ExchangeObserver } from "../observer.js";
import { PooledIdGenerator, type TraceIdSource } from "./pooled-id-generator.js";
import type { OtlpTransport } from "./otlp-http.js";
import { SpanSink, type BatchLimits, type SinkTimers } from "./span-sink.js";
import type { TracingConfig } from "./tracing-config.js";
import { TracingObserver } from "./tracing-observer.js";

/** Test seams: the collector's transport, the batch timers and limits, the IDs (which decide ratio sampling), the wall clock's origin. */
export interface TracingSeams {
  readonly transport?: OtlpTransport;
  readonly timers?: SinkTimers;
  readonly limits?: BatchLimits;
  readonly ids?: TraceIdSource;
  /** Epoch ms at which the exchange clock reads 0 (default performance.timeOrigin). */
  readonly timeOrigin?: number;
}

/** A gateway's tracing: the observer to add to the recorder, and the shutdown that flushes the last spans. */
export interface Tracing {
  readonly observer: ExchangeObserver;
  /** Exports every span ended so far; resolves once the collector answered. */
  flush(): Promise<void>;
  /** Exports what is still buffered (after the server closed, so every span has ended). */
  close(): Promise<void>;
}

/**
 * A gateway's own tracing (nothing registered globally: several gateways may run in one
 * process): parent-based sampling with `samplingRatio` for new traces, spans written as OTLP
 * protobuf as they end and exported in batches over OTLP/HTTP to `otlp.endpoint`.
 */
export function createTracing(config: TracingConfig, seams: TracingSeams = {}, log: WarnLog = { warn: () => undefined }): Tracing {
  const sink = new SpanSink({
    source: { serviceName: config.serviceName, scopeName: "protogate", scopeVersion: packageVersion() },
    endpoint: config.otlp.endpoint,
    headers: config.otlp.headers,
    timeoutMs: config.otlp.timeoutMs,
    log,
    limits: seams.limits,
    transport: seams.transport,
    timers: seams.timers,
  });
  const observer = new TracingObserver({ sink, ids: seams.ids ?? new PooledIdGenerator(), samplingRatio: config.samplingRatio, timeOrigin: seams.timeOrigin ?? performance.timeOrigin });
  return { observer, flush: () => sink.flush(), close: () => sink.close() };
}

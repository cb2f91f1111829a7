import { ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { createLogThrottle, type WarnLog } from "../log-throttle.js";

/**
 * The OTLP exporter with its failures logged: the library reports a failed export (after its own
 * retries) only to the batch processor, which drops the spans silently. Here each failure is a
 * warning naming the endpoint, the batch's size and the error, at most once per interval.
 */
export function withFailureLog(inner: SpanExporter, endpoint: string, log: WarnLog, intervalMs = 10_000): SpanExporter {
  const warn = createLogThrottle(log, intervalMs);
  return {
    export(spans: ReadableSpan[], done) {
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          warn("otlp-export", { endpoint, spans: spans.length, reason: result.error?.message ?? "export failed" }, "span export failed; its spans are dropped");
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

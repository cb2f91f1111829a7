import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { withFailureLog } from "../../src/observe/logged-exporter.js";

/** An exporter answering each export with the next scripted result. */
function scripted(results: ExportResult[]): SpanExporter & { exported: number } {
  const exporter = {
    exported: 0,
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      exporter.exported += spans.length;
      done(results.shift() ?? { code: ExportResultCode.SUCCESS });
    },
    shutdown: () => Promise.resolve(),
  };
  return exporter;
}

const spans = (count: number) => Array.from({ length: count }, () => ({}) as ReadableSpan);

describe("withFailureLog", () => {
  it("passes every result through, and warns on failures only, at most once per interval with the count held back", () => {
    const warnings: Array<{ details: object; message: string }> = [];
    const inner = scripted([{ code: ExportResultCode.SUCCESS }, { code: ExportResultCode.FAILED, error: new Error("connect ECONNREFUSED") }, { code: ExportResultCode.FAILED, error: new Error("again") }]);
    const exporter = withFailureLog(inner, "http://127.0.0.1:4318/v1/traces", { warn: (details, message) => warnings.push({ details, message }) });
    const results: number[] = [];
    for (const count of [3, 2, 4]) exporter.export(spans(count), (result) => results.push(result.code));
    expect(results).toEqual([ExportResultCode.SUCCESS, ExportResultCode.FAILED, ExportResultCode.FAILED]);
    expect(inner.exported).toBe(9);
    expect(warnings).toEqual([{ details: { endpoint: "http://127.0.0.1:4318/v1/traces", spans: 2, reason: "connect ECONNREFUSED" }, message: "span export failed; its spans are dropped" }]);
  });
});

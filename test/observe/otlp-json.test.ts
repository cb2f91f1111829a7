import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Span } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { nanos, otlpTraceJson } from "../../src/observe/otlp-json.js";

const REMOTE_PARENT = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState("vendor=abc,other=\"q\"") };

/** Spans from two providers (two resources), one of them with two scopes, covering what a span can hold. */
async function sampleSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = (attributes: Record<string, string>) => new BasicTracerProvider({ resource: resourceFromAttributes(attributes), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const gateway = provider({ "service.name": "protogate", "deployment.environment": "test \"quoted\"\n" });
  const other = provider({ "service.name": "other" });

  const tracer = gateway.getTracer("protogate", "1.2.3");
  const server = tracer.startSpan(
    "GET /v1/users/{user_id}",
    { kind: SpanKind.SERVER, attributes: { "http.request.method": "GET", "url.path": "/v1/ü/\"x\"\\\u0001", emoji: "ok 👍", lone: "x\ud800y", tab: "a\tb", count: 3, ratio: 0.25, big: 2 ** 53 + 2, flag: false, list: ["a", "b"], numbers: [1, 2.5], nan: Number.NaN } },
    trace.setSpanContext(ROOT_CONTEXT, REMOTE_PARENT),
  );
  server.addEvent("retry", { attempt: 2 });
  server.addLink({ context: { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: TraceFlags.NONE }, attributes: { why: "batch" } });
  server.setStatus({ code: SpanStatusCode.ERROR, message: "PG_ERR_UPSTREAM" });
  const client: Span = tracer.startSpan("demo.v1.UserService/GetUser", { kind: SpanKind.CLIENT, attributes: { "rpc.system": "grpc" } }, trace.setSpan(ROOT_CONTEXT, server));
  client.setStatus({ code: SpanStatusCode.OK });
  client.end();
  server.end();
  gateway.getTracer("second-scope").startSpan("internal").end();
  other.getTracer("protogate", "1.2.3").startSpan("elsewhere", { kind: SpanKind.PRODUCER }).end();
  // One more span of the first resource after the other's: grouped with its resource, not in order.
  tracer.startSpan("late").end();
  await Promise.all([gateway.forceFlush(), other.forceFlush()]);
  return exporter.getFinishedSpans();
}

describe("OTLP JSON writer", () => {
  it("writes what the library's JSON serialiser writes, parsed and compared", async () => {
    const spans = await sampleSpans();
    const ours: unknown = JSON.parse(otlpTraceJson(spans));
    const library: unknown = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    expect(ours).toEqual(library);
    // And the comparison has something to compare: every kind of field is there.
    const text = JSON.stringify(library);
    for (const field of ["parentSpanId", "traceState", "events", "links", "doubleValue", "intValue", "boolValue", "arrayValue", "flags"]) expect(text).toContain(field);
    expect((library as { resourceSpans: unknown[] }).resourceSpans).toHaveLength(2);
  });

  it("writes an empty export for no spans", () => {
    expect(JSON.parse(otlpTraceJson([]))).toEqual({ resourceSpans: [] });
  });

  it.each([
    [[0, 0], "0"],
    [[0, 5], "5"],
    [[1, 5], "1000000005"],
    [[1_733_370_000, 123_456_789], "1733370000123456789"],
    [[1_733_370_000, 1], "1733370000000000001"],
  ] as const)("hrtime %j is %s ns", (time, expected) => {
    expect(nanos([time[0], time[1]])).toBe(expected);
  });
});

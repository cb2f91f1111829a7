import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AnyBinding } from "../../../src/binding.js";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { GrpcCode } from "../../../src/errors/grpc-code.js";
import type { RequestHead } from "../../../src/gateway/request.js";
import type { Exchange } from "../../../src/observe/exchange.js";
import { ExchangeRecorder } from "../../../src/observe/exchange-recorder.js";
import type { OutgoingMetadata } from "../../../src/observe/observer.js";
import { BATCH } from "../../../src/observe/tracing/span-sink.js";
import { createTracing, type Tracing, type TracingSeams } from "../../../src/observe/tracing/tracing.js";
import { tracingConfigSchema } from "../../../src/observe/tracing/tracing-config.js";
import type { TraceIdSource } from "../../../src/observe/tracing/pooled-id-generator.js";
import { decodeTraceExport, type DecodedSpan } from "../../support/otlp-decode.js";
import { demoGenerated } from "../../e2e/support/gateway-harness.js";

const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_PARENT = "00f067aa0ba902b7";
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

let getUser: AnyBinding;
beforeAll(async () => {
  const found = (await demoGenerated()).bindings.find((b) => b.method === "GetUser" && b.httpMethod === "GET");
  if (!found) throw new Error("the demo has no GET GetUser binding");
  getUser = found;
});

const head = (headers: Record<string, string> = {}, url = "/v1/users/u-1?api_key=secret"): RequestHead => ({
  method: "GET",
  url,
  headers,
  rawHeaders: Object.entries(headers).flat(),
  client: { ip: "127.0.0.1", host: "localhost", protocol: "http" },
});

/** Trace IDs handed out in order (they decide ratio sampling), span IDs counting up. */
function scriptedIds(traceIds: string[]): TraceIdSource {
  let span = 0;
  return {
    generateTraceId: () => traceIds.shift() ?? "0123456789abcdef0123456789abcdef",
    generateSpanId: () => (++span).toString(16).padStart(16, "0"),
  };
}

const SERVER = 2;
const CLIENT = 3;
const UNSET = 0;
const ERROR = 2;
/** The wall clock (epoch ms) at which the recorder's clock reads 0. */
const TIME_ORIGIN = 1_760_000_000_000;

/** A stand-in for the collector's transport that keeps every export body. */
function collector() {
  const bodies: Uint8Array[] = [];
  const transport = {
    send: async (body: Buffer) => void bodies.push(body),
    close: () => undefined,
  };
  return { transport, bodies, spans: () => bodies.flatMap((body) => decodeTraceExport(body)) };
}

let open: Tracing | undefined;
function setUp(samplingRatio = 1, traceIds: string[] = [], seams: TracingSeams = {}) {
  const sink = collector();
  const tracing = createTracing(tracingConfigSchema.parse({ samplingRatio, otlp: { endpoint: "http://127.0.0.1:1/v1/traces" } }), { transport: sink.transport, ids: scriptedIds(traceIds), timeOrigin: TIME_ORIGIN, ...seams });
  open = tracing;
  let clock = 0;
  const recorder = new ExchangeRecorder({ observer: tracing.observer, newRequestId: () => "req-1", now: () => (clock += 1.5) });
  const spans = async (): Promise<DecodedSpan[]> => {
    await tracing.flush();
    return sink.spans();
  };
  return { recorder, spans, sink };
}
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/** Runs one unary request through the recorder: routed, the upstream call, the response. */
function unary(recorder: ExchangeRecorder, headers: Record<string, string>, upstreamCode = 0, status = 200): { exchange: Exchange; metadata: OutgoingMetadata } {
  const exchange = recorder.begin(head(headers));
  exchange.binding = getUser;
  const metadata = recorder.upstreamStarted(exchange, [["authorization", "Bearer x"], ...Object.entries(headers).filter(([k]) => k === "traceparent" || k === "tracestate")]);
  recorder.upstreamEnded(exchange, upstreamCode);
  if (upstreamCode === 0) exchange.settle(0);
  else recorder.failed(exchange, new GatewayError(upstreamCode, "PG_ERR_UPSTREAM", "upstream said no"));
  exchange.status = status;
  recorder.end(exchange);
  return { exchange, metadata };
}

const entries = (metadata: OutgoingMetadata, key: string) => metadata.filter(([k]) => k === key).map(([, v]) => String(v));
const byKind = (spans: DecodedSpan[], kind: number) => spans.filter((s) => s.kind === kind);

describe("tracing observer", () => {
  it("continues the client's trace: SERVER span child of the client's parent, CLIENT span its child, the upstream told of the CLIENT span (once)", async () => {
    const { recorder, spans } = setUp();
    const { exchange, metadata } = unary(recorder, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`, tracestate: "vendor=abc" });
    const [server] = byKind(await spans(), SERVER);
    const [client] = byKind(await spans(), CLIENT);
    expect(server.traceId).toBe(CLIENT_TRACE);
    expect(server.parentSpanId).toBe(CLIENT_PARENT);
    expect(client.traceId).toBe(CLIENT_TRACE);
    expect(client.parentSpanId).toBe(server.spanId);
    expect(exchange.trace?.traceId).toBe(CLIENT_TRACE);

    expect(entries(metadata, "traceparent")).toEqual([`00-${CLIENT_TRACE}-${client.spanId}-01`]);
    expect(entries(metadata, "tracestate")).toEqual(["vendor=abc"]);
    expect(entries(metadata, "authorization")).toEqual(["Bearer x"]);
    expect(entries(metadata, "x-request-id")).toEqual(["req-1"]);
  });

  it("times are the exchange's own on the wall clock; flags carry the sampled bit and whether the parent is remote", async () => {
    const { recorder, spans } = setUp();
    // The recorder's clock reads 1.5 at arrival, 3 and 4.5 around the upstream call, 6 at the end.
    unary(recorder, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01` });
    unary(recorder, {});
    const nanos = (ms: number) => BigInt(Math.round((TIME_ORIGIN + ms) * 1e6));
    expect((await spans()).map((s) => [s.kind, s.startTimeUnixNano, s.endTimeUnixNano, s.flags.toString(16)])).toEqual([
      [CLIENT, nanos(3), nanos(4.5), "101"],
      [SERVER, nanos(1.5), nanos(6), "301"],
      [CLIENT, nanos(9), nanos(10.5), "101"],
      [SERVER, nanos(7.5), nanos(12), "101"],
    ]);
  });

  it("names and describes the spans by the route template, never the query string", async () => {
    const { recorder, spans } = setUp();
    unary(recorder, {});
    const all = await spans();
    const [server] = byKind(all, SERVER);
    const [client] = byKind(all, CLIENT);
    expect(all).toHaveLength(2);
    expect(server.name).toBe("GET /v1/users/{user_id}");
    expect(server.attributes).toEqual({
      "http.request.method": "GET",
      "url.path": "/v1/users/u-1",
      "url.scheme": "http",
      "protogate.request_id": "req-1",
      "http.route": "/v1/users/{user_id}",
      "http.response.status_code": 200,
      "rpc.service": "demo.v1.UserService",
      "rpc.method": "GetUser",
      "rpc.grpc.status_code": 0,
    });
    expect(server.statusCode).toBe(UNSET);
    expect(client.name).toBe("demo.v1.UserService/GetUser");
    expect(client.attributes).toEqual({ "rpc.system": "grpc", "rpc.service": "demo.v1.UserService", "rpc.method": "GetUser", "rpc.grpc.status_code": 0 });
    expect(JSON.stringify(all.map((s) => s.attributes))).not.toContain("secret");
  });

  it("an upstream error: both spans ERROR, with the gRPC code and the gateway's reason", async () => {
    const { recorder, spans } = setUp();
    unary(recorder, {}, GrpcCode.NOT_FOUND, 404);
    const all = await spans();
    const [server] = byKind(all, SERVER);
    const [client] = byKind(all, CLIENT);
    expect({ status: [server.statusCode, server.statusMessage], code: server.attributes["rpc.grpc.status_code"], type: server.attributes["error.type"] }).toEqual({
      status: [ERROR, "PG_ERR_UPSTREAM"],
      code: 5,
      type: "PG_ERR_UPSTREAM",
    });
    expect({ status: client.statusCode, code: client.attributes["rpc.grpc.status_code"] }).toEqual({ status: ERROR, code: 5 });
  });

  it("an unmatched request: one SERVER span named `METHOD unmatched`, no route attribute", async () => {
    const { recorder, spans } = setUp();
    const exchange = recorder.begin(head({}, "/nowhere"));
    recorder.failed(exchange, new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", "no route"));
    exchange.status = 404;
    recorder.end(exchange);
    const all = await spans();
    expect(all.map((s) => s.name)).toEqual(["GET unmatched"]);
    expect(all[0].attributes["http.route"]).toBeUndefined();
    expect(all[0].statusCode).toBe(ERROR);
  });

  it.each([
    ["no traceparent", {}],
    ["a malformed traceparent", { traceparent: "00-not-a-trace-01" }],
    ["an all-zero trace id", { traceparent: `00-${"0".repeat(32)}-${CLIENT_PARENT}-01` }],
    ["two traceparent values", { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01, 00-${CLIENT_TRACE}-${CLIENT_PARENT}-01` }],
  ])("%s: a new trace (root SERVER span), propagated upstream in place of the client's header", async (_name, headers: Record<string, string>) => {
    const { recorder, spans } = setUp(1, ["abcdef0123456789abcdef0123456789"]);
    const { metadata } = unary(recorder, headers);
    const [server] = byKind(await spans(), SERVER);
    const [client] = byKind(await spans(), CLIENT);
    expect(server.traceId).toBe("abcdef0123456789abcdef0123456789");
    expect(server.parentSpanId).toBeUndefined();
    expect(entries(metadata, "traceparent")).toEqual([`00-abcdef0123456789abcdef0123456789-${client.spanId}-01`]);
  });

  it.each([
    // TraceIdRatioBased compares the trace id (its 32-bit words XORed) with ratio * 2^32.
    { ratio: 1, traceId: "ffffffffffffffffffffffffffffff00", sampled: true },
    { ratio: 0, traceId: "00000000000000000000000000000001", sampled: false },
    { ratio: 0.5, traceId: "00000000000000000000000000000001", sampled: true },
    { ratio: 0.5, traceId: "f0000000000000000000000000000001", sampled: false },
  ])("new trace at ratio $ratio, trace id $traceId: sampled $sampled, propagated either way", async ({ ratio, traceId, sampled }) => {
    const { recorder, spans } = setUp(ratio, [traceId]);
    const { exchange, metadata } = unary(recorder, {});
    const [traceparent] = entries(metadata, "traceparent");
    const [, propagatedTrace, , flags] = TRACEPARENT.exec(traceparent) ?? [];
    expect({ propagatedTrace, flags, traceId: exchange.trace?.traceId }).toEqual({ propagatedTrace: traceId, flags: sampled ? "01" : "00", traceId });
    expect(await spans()).toHaveLength(sampled ? 2 : 0);
  });

  it.each([
    { flags: "01", ratio: 0, exported: 2 },
    { flags: "00", ratio: 1, exported: 0 },
  ])("the client's decision wins (flags $flags at ratio $ratio)", async ({ flags, ratio, exported }) => {
    const { recorder, spans } = setUp(ratio);
    const { metadata } = unary(recorder, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-${flags}` });
    const [, trace, parent, sentFlags] = TRACEPARENT.exec(entries(metadata, "traceparent")[0]) ?? [];
    expect({ trace, sentFlags, notClientParent: parent !== CLIENT_PARENT }).toEqual({ trace: CLIENT_TRACE, sentFlags: flags, notClientParent: true });
    expect(await spans()).toHaveLength(exported);
  });

  it("a stream: the CLIENT span lasts until the upstream ends, messages in between", async () => {
    const { recorder, spans } = setUp();
    const exchange = recorder.begin(head());
    exchange.binding = getUser;
    recorder.upstreamStarted(exchange, []);
    recorder.streamMessage(exchange, "received");
    recorder.streamMessage(exchange, "received");
    expect(await spans()).toHaveLength(0);
    recorder.upstreamEnded(exchange, 0);
    expect((await spans()).map((s) => s.kind)).toEqual([CLIENT]);
    exchange.settle(0);
    exchange.status = 200;
    recorder.end(exchange);
    expect((await spans()).map((s) => s.kind)).toEqual([CLIENT, SERVER]);
  });

  it("a response abandoned before the upstream ended: both spans still end, the client span with the outcome", async () => {
    const { recorder, spans } = setUp();
    const exchange = recorder.begin(head());
    exchange.binding = getUser;
    recorder.upstreamStarted(exchange, []);
    recorder.failed(exchange, new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", "gone"));
    exchange.status = 499;
    recorder.end(exchange);
    const all = await spans();
    expect(all.map((s) => [s.kind, s.attributes["rpc.grpc.status_code"]])).toEqual([
      [CLIENT, GrpcCode.CANCELLED],
      [SERVER, GrpcCode.CANCELLED],
    ]);
    expect(all.every((s) => s.endTimeUnixNano >= s.startTimeUnixNano)).toBe(true);
  });
});

describe("tracing batches", () => {
  it("exports in batches of at most maxBatchSpans spans, every span once", async () => {
    const { recorder, spans, sink } = setUp();
    const requests = BATCH.maxBatchSpans + 7;
    for (let i = 0; i < requests; i++) unary(recorder, {});
    expect(await spans()).toHaveLength(2 * requests);
    const sizes = sink.bodies.map((body) => decodeTraceExport(body).length);
    // Two spans per request: two full batches as they fill, the rest on flush.
    expect(sizes).toEqual([BATCH.maxBatchSpans, BATCH.maxBatchSpans, 2 * requests - 2 * BATCH.maxBatchSpans]);
  });
});

describe("tracing config", () => {
  it.each([
    [{ otlp: { endpoint: "http://127.0.0.1:4318/v1/traces" } }, { enabled: true, serviceName: "protogate", samplingRatio: 1, otlp: { endpoint: "http://127.0.0.1:4318/v1/traces", timeoutMs: 10000 } }],
    [
      { enabled: false, serviceName: "edge", samplingRatio: 0.25, otlp: { endpoint: "https://otel.example/v1/traces", headers: { "x-api-key": "k" }, timeoutMs: 500 } },
      { enabled: false, serviceName: "edge", samplingRatio: 0.25, otlp: { endpoint: "https://otel.example/v1/traces", headers: { "x-api-key": "k" }, timeoutMs: 500 } },
    ],
  ])("accepts %j", (input, expected) => {
    expect(tracingConfigSchema.parse(input)).toEqual(expected);
  });

  it.each([
    ["a ratio above 1", { samplingRatio: 1.5, otlp: { endpoint: "http://c/v1/traces" } }],
    ["a negative ratio", { samplingRatio: -0.1, otlp: { endpoint: "http://c/v1/traces" } }],
    ["no endpoint", { otlp: {} }],
    ["no otlp block", {}],
    ["an endpoint that is not a URL", { otlp: { endpoint: "collector:4318" } }],
    ["a non-http endpoint", { otlp: { endpoint: "ftp://c/v1/traces" } }],
    ["an unknown key", { otlp: { endpoint: "http://c/v1/traces" }, sampling: 1 }],
    ["an empty service name", { serviceName: "", otlp: { endpoint: "http://c/v1/traces" } }],
  ])("refuses %s", (_name, input) => {
    expect(tracingConfigSchema.safeParse(input).success).toBe(false);
  });
});

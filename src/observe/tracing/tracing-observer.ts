import { isSpanContextValid, ROOT_CONTEXT, trace, type SpanContext, type TextMapGetter } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from "@opentelemetry/semantic-conventions";
import type { IncomingHttpHeaders } from "node:http";
import { pathOf } from "../../gateway/request-path.js";
import { cut, MAX_PATH_LENGTH } from "../access-log/access-line.js";
import type { Exchange, ExchangeTrace, RouteIdentity } from "../exchange.js";
import type { ExchangeObserver, OutgoingMetadata } from "../observer.js";
import { attributeKey, encodeAttributes, SPAN_FLAGS_HAS_IS_REMOTE, SPAN_FLAGS_IS_REMOTE, SpanKind, StatusCode, type SpanHead } from "./otlp-spans.js";
import type { TraceIdSource } from "./pooled-id-generator.js";
import type { SpanSink } from "./span-sink.js";

/*
 * The gRPC attributes as the (widely supported) RPC conventions name them; they are still
 * "incubating" in @opentelemetry/semantic-conventions, whose docs advise copying such names
 * rather than importing the unstable entry point.
 */
export const ATTR_RPC_SYSTEM = "rpc.system";
export const ATTR_RPC_SERVICE = "rpc.service";
export const ATTR_RPC_METHOD = "rpc.method";
export const ATTR_RPC_GRPC_STATUS_CODE = "rpc.grpc.status_code";
/** The gateway's request ID (x-request-id) on the server span, to find a request's trace from its logs and back. */
export const ATTR_REQUEST_ID = "protogate.request_id";

const KEY_METHOD = attributeKey(ATTR_HTTP_REQUEST_METHOD);
const KEY_URL_PATH = attributeKey(ATTR_URL_PATH);
const KEY_URL_SCHEME = attributeKey(ATTR_URL_SCHEME);
const KEY_REQUEST_ID = attributeKey(ATTR_REQUEST_ID);
const KEY_STATUS = attributeKey(ATTR_HTTP_RESPONSE_STATUS_CODE);
const KEY_GRPC_CODE = attributeKey(ATTR_RPC_GRPC_STATUS_CODE);
const KEY_ERROR_TYPE = attributeKey(ATTR_ERROR_TYPE);

const TRACEPARENT = "traceparent";
const TRACESTATE = "tracestate";
const SAMPLED = 0x01;

/** Reads the W3C headers from Node's header object (a repeated header arrives as an array). */
const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

/** What a route's spans share, encoded once per binding. */
interface RouteSpans {
  /** `METHOD template`, for requests with the binding's own method. */
  readonly serverName: string;
  readonly serverAttributes: Uint8Array;
  readonly clientName: string;
  readonly clientAttributes: Uint8Array;
}

export interface TracingObserverOptions {
  readonly sink: SpanSink;
  readonly ids: TraceIdSource;
  /** The fraction of new traces recorded (0..1). */
  readonly samplingRatio: number;
  /** Epoch ms of the exchange clock's zero (performance.timeOrigin for performance.now()). */
  readonly timeOrigin: number;
}

/**
 * Traces every request: a SERVER span from arrival to the end of the response, continuing the
 * client's W3C trace context (`traceparent`/`tracestate`; a malformed one is ignored and a new
 * trace starts), and a CLIENT span, its child, for the upstream call (for a stream: as long as
 * the stream). The upstream receives exactly one `traceparent`, naming the CLIENT span as its
 * parent, in place of whatever the client sent. Sampling is parent-based: a client's decision is
 * followed, a new trace is kept with the configured ratio; an unsampled request records nothing
 * and still propagates its context (flags 00). Spans are written to the sink as they end; their
 * times are the exchange's own, so tracing reads no clock.
 */
export class TracingObserver implements ExchangeObserver {
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly routes = new WeakMap<RouteIdentity, RouteSpans>();
  /** Refilled for every span (one span is written at a time). */
  private readonly head: SpanHead = { traceId: "", spanId: "", parentSpanId: undefined, traceState: undefined, flags: 0, kind: 0, name: "", startUnixNano: 0, endUnixNano: 0 };
  private readonly sink: SpanSink;
  private readonly ids: TraceIdSource;
  private readonly upperBound: number;
  private readonly samplingRatio: number;
  private readonly timeOrigin: number;

  constructor(options: TracingObserverOptions) {
    this.sink = options.sink;
    this.ids = options.ids;
    this.samplingRatio = options.samplingRatio;
    this.upperBound = Math.floor(options.samplingRatio * 0xffff_ffff);
    this.timeOrigin = options.timeOrigin;
  }

  started(exchange: Exchange): void {
    const { headers } = exchange.head;
    const parent = headers[TRACEPARENT] === undefined ? undefined : this.remoteParent(headers);
    const traceId = parent?.traceId ?? this.ids.generateTraceId();
    const state: ExchangeTrace = {
      traceId,
      spanId: this.ids.generateSpanId(),
      parentSpanId: parent?.spanId,
      traceState: parent?.traceState?.serialize(),
      sampled: parent === undefined ? this.sampleNew(traceId) : (parent.traceFlags & SAMPLED) === SAMPLED,
      remoteParent: parent !== undefined,
      clientSpanId: undefined,
      clientStartedAt: 0,
    };
    exchange.trace = state;
  }

  upstreamStarted(exchange: Exchange, metadata: OutgoingMetadata): void {
    const state = exchange.trace;
    if (state === undefined || exchange.binding === undefined || exchange.upstreamStartedAt === undefined) return;
    // A second call of the same request (none today) ends the first one's span where it starts.
    if (state.clientSpanId !== undefined) this.endClientSpan(exchange, state, exchange.upstreamStartedAt, undefined);
    state.clientSpanId = this.ids.generateSpanId();
    state.clientStartedAt = exchange.upstreamStartedAt;
    // The client's own trace headers (forwarded by default) give way to the gateway's context.
    removeTraceContext(metadata);
    metadata.push([TRACEPARENT, `00-${state.traceId}-${state.clientSpanId}-${state.sampled ? "01" : "00"}`]);
    if (state.traceState !== undefined && state.traceState !== "") metadata.push([TRACESTATE, state.traceState]);
  }

  upstreamEnded(exchange: Exchange): void {
    const state = exchange.trace;
    if (state?.clientSpanId === undefined) return;
    this.endClientSpan(exchange, state, state.clientStartedAt + (exchange.upstreamMs ?? 0), exchange.upstreamCode);
  }

  streamMessage(): void {}

  ended(exchange: Exchange): void {
    const state = exchange.trace;
    if (state === undefined) return;
    const endedAt = exchange.startedAt + (exchange.durationMs ?? 0);
    // An upstream call that never reported its end (the response was abandoned first).
    if (state.clientSpanId !== undefined) this.endClientSpan(exchange, state, endedAt, exchange.upstreamCode ?? exchange.grpcCode);
    if (state.sampled) this.writeServerSpan(exchange, state, endedAt);
  }

  /** The client's span context, or undefined when its `traceparent` is malformed or invalid (all-zero IDs). */
  private remoteParent(headers: IncomingHttpHeaders): SpanContext | undefined {
    const context = trace.getSpanContext(this.propagator.extract(ROOT_CONTEXT, headers, headerGetter));
    return context !== undefined && isSpanContextValid(context) ? context : undefined;
  }

  /** Ratio sampling of a new trace by its ID (the 32-bit words XORed, against ratio * 2^32), so every replica decides alike. */
  private sampleNew(traceId: string): boolean {
    if (this.samplingRatio >= 1) return true;
    if (this.samplingRatio <= 0) return false;
    let accumulated = 0;
    for (let at = 0; at < traceId.length; at += 8) accumulated = (accumulated ^ Number.parseInt(traceId.slice(at, at + 8), 16)) >>> 0;
    return accumulated < this.upperBound;
  }

  private route(binding: RouteIdentity): RouteSpans {
    let route = this.routes.get(binding);
    if (route === undefined) {
      const rpc: Array<[string, string]> = [
        [ATTR_RPC_SERVICE, binding.service],
        [ATTR_RPC_METHOD, binding.method],
      ];
      route = {
        serverName: `${binding.httpMethod} ${binding.pattern}`,
        serverAttributes: encodeAttributes([[ATTR_HTTP_ROUTE, binding.pattern], ...rpc]),
        clientName: binding.rpcPath.slice(1),
        clientAttributes: encodeAttributes([[ATTR_RPC_SYSTEM, "grpc"], ...rpc]),
      };
      this.routes.set(binding, route);
    }
    return route;
  }

  private unixNano(ms: number): number {
    return Math.round((this.timeOrigin + ms) * 1e6);
  }

  private endClientSpan(exchange: Exchange, state: ExchangeTrace, endedAt: number, grpcCode: number | undefined): void {
    const spanId = state.clientSpanId;
    state.clientSpanId = undefined;
    const binding = exchange.binding;
    if (!state.sampled || spanId === undefined || binding === undefined) return;
    const route = this.route(binding);
    const head = this.head;
    head.traceId = state.traceId;
    head.spanId = spanId;
    head.parentSpanId = state.spanId;
    head.traceState = state.traceState;
    head.flags = SAMPLED | SPAN_FLAGS_HAS_IS_REMOTE;
    head.kind = SpanKind.Client;
    head.name = route.clientName;
    head.startUnixNano = this.unixNano(state.clientStartedAt);
    head.endUnixNano = this.unixNano(endedAt);
    const batch = this.sink.batch;
    batch.begin(head);
    batch.attributes(route.clientAttributes);
    if (grpcCode !== undefined) {
      batch.intAttribute(KEY_GRPC_CODE, grpcCode);
      if (grpcCode !== 0) batch.status(StatusCode.Error);
    }
    batch.end();
    this.sink.spanWritten();
  }

  /** The SERVER span: its name, attributes and status, once the request is over. */
  private writeServerSpan(exchange: Exchange, state: ExchangeTrace, endedAt: number): void {
    const { head: request, binding, status, grpcCode } = exchange;
    const route = binding === undefined ? undefined : this.route(binding);
    const head = this.head;
    head.traceId = state.traceId;
    head.spanId = state.spanId;
    head.parentSpanId = state.parentSpanId;
    head.traceState = state.traceState;
    head.flags = SAMPLED | SPAN_FLAGS_HAS_IS_REMOTE | (state.remoteParent ? SPAN_FLAGS_IS_REMOTE : 0);
    head.kind = SpanKind.Server;
    // Named by the route template, never the raw path (unbounded names break trace backends).
    // (A WebSocket upgrade is a GET to a route of another method.)
    head.name = route === undefined ? `${request.method} unmatched` : request.method === binding?.httpMethod ? route.serverName : `${request.method} ${binding?.pattern}`;
    head.startUnixNano = this.unixNano(exchange.startedAt);
    head.endUnixNano = this.unixNano(endedAt);
    const batch = this.sink.batch;
    batch.begin(head);
    batch.stringAttribute(KEY_METHOD, request.method);
    // The path only: the query string may carry credentials (an API key, a token).
    batch.stringAttribute(KEY_URL_PATH, cut(pathOf(request.url), MAX_PATH_LENGTH));
    batch.stringAttribute(KEY_URL_SCHEME, request.client.protocol);
    batch.stringAttribute(KEY_REQUEST_ID, exchange.requestId);
    if (route !== undefined) batch.attributes(route.serverAttributes);
    if (status !== 0) batch.intAttribute(KEY_STATUS, status);
    if (grpcCode !== undefined) batch.intAttribute(KEY_GRPC_CODE, grpcCode);
    if ((grpcCode !== undefined && grpcCode !== 0) || status >= 500) {
      // The reason (PG_ERR_*) names the failure without repeating a message that may quote input.
      const reason = exchange.error?.reason ?? (grpcCode !== undefined && grpcCode !== 0 ? String(grpcCode) : String(status));
      batch.stringAttribute(KEY_ERROR_TYPE, reason);
      batch.status(StatusCode.Error, reason);
    }
    batch.end();
    this.sink.spanWritten();
  }
}

/** Takes every `traceparent`/`tracestate` entry out of `metadata`, in place. */
function removeTraceContext(metadata: OutgoingMetadata): void {
  let kept = 0;
  for (const entry of metadata) {
    if (entry[0] !== TRACEPARENT && entry[0] !== TRACESTATE) metadata[kept++] = entry;
  }
  metadata.length = kept;
}

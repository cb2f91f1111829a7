import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TextMapGetter, type TextMapPropagator, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH, ATTR_URL_SCHEME } from "@opentelemetry/semantic-conventions";
import type { IncomingHttpHeaders } from "node:http";
import { pathOf } from "../gateway/request-path.js";
import type { Exchange } from "./exchange.js";
import type { ExchangeObserver, OutgoingMetadata } from "./observer.js";

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

const TRACEPARENT = "traceparent";
const TRACESTATE = "tracestate";

/** Reads the W3C headers from Node's header object (a repeated header arrives as an array). */
const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

/**
 * Traces every request: a SERVER span from arrival to the end of the response, continuing the
 * client's W3C trace context (`traceparent`/`tracestate`; a malformed one is ignored and a new
 * trace starts), and a CLIENT span, its child, for the upstream call (for a stream: as long as
 * the stream). The upstream receives exactly one `traceparent`, naming the CLIENT span as its
 * parent, in place of whatever the client sent. Sampling is the tracer's: an unsampled request
 * gets non-recording spans, and still propagates its context (flags 00).
 */
export class TracingObserver implements ExchangeObserver {
  private readonly propagator: TextMapPropagator = new W3CTraceContextPropagator();

  constructor(private readonly tracer: Tracer) {}

  /*
   * Per request work is kept to what the spans need (measured with bench/tracing-observer-cost.ts):
   * no context is extracted when the client sent no `traceparent`, the attributes are set once,
   * when the span ends and only if it records, and the upstream's `traceparent` is written
   * directly from the CLIENT span's context rather than through a Context and the propagator.
   */
  started(exchange: Exchange): void {
    const { head } = exchange;
    const parent = head.headers[TRACEPARENT] === undefined ? ROOT_CONTEXT : this.propagator.extract(ROOT_CONTEXT, head.headers, headerGetter);
    // Named when it ends, once the route is known (the name must not hold the raw path).
    const server = this.tracer.startSpan(`${head.method} unmatched`, { kind: SpanKind.SERVER }, parent);
    exchange.trace = { traceId: server.spanContext().traceId, server, client: undefined };
  }

  upstreamStarted(exchange: Exchange, metadata: OutgoingMetadata): void {
    const state = exchange.trace;
    const binding = exchange.binding;
    if (state === undefined || binding === undefined) return;
    if (state.client !== undefined) endClientSpan(state.client, exchange, undefined);
    const client = this.tracer.startSpan(binding.rpcPath.slice(1), { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, state.server));
    state.client = client;
    // The client's own trace headers (forwarded by default) give way to the gateway's context.
    removeTraceContext(metadata);
    // What W3CTraceContextPropagator.inject writes, for a span context the SDK made (always valid).
    const context = client.spanContext();
    metadata.push([TRACEPARENT, `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, "0")}`]);
    if (context.traceState !== undefined) metadata.push([TRACESTATE, context.traceState.serialize()]);
  }

  upstreamEnded(exchange: Exchange): void {
    const state = exchange.trace;
    if (state?.client === undefined) return;
    endClientSpan(state.client, exchange, exchange.upstreamCode);
    state.client = undefined;
  }

  streamMessage(): void {}

  ended(exchange: Exchange): void {
    const state = exchange.trace;
    if (state === undefined) return;
    // An upstream call that never reported its end (the response was abandoned first).
    if (state.client !== undefined) {
      endClientSpan(state.client, exchange, exchange.upstreamCode ?? exchange.grpcCode);
      state.client = undefined;
    }
    const { server } = state;
    if (server.isRecording()) describeServerSpan(server, exchange);
    server.end();
  }
}

/** The SERVER span's name, attributes and status, once the request is over. */
function describeServerSpan(server: Span, exchange: Exchange): void {
  const { head, binding, status, grpcCode } = exchange;
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: head.method,
    // The path only: the query string may carry credentials (an API key, a token).
    [ATTR_URL_PATH]: pathOf(head.url),
    [ATTR_URL_SCHEME]: head.client.protocol,
    [ATTR_REQUEST_ID]: exchange.requestId,
  };
  if (binding !== undefined) {
    server.updateName(`${head.method} ${binding.pattern}`);
    attributes[ATTR_HTTP_ROUTE] = binding.pattern;
    attributes[ATTR_RPC_SERVICE] = binding.service;
    attributes[ATTR_RPC_METHOD] = binding.method;
  }
  if (status !== 0) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
  if (grpcCode !== undefined) attributes[ATTR_RPC_GRPC_STATUS_CODE] = grpcCode;
  if ((grpcCode !== undefined && grpcCode !== 0) || status >= 500) {
    // The reason (PG_ERR_*) names the failure without repeating a message that may quote input.
    const reason = exchange.error?.reason ?? (grpcCode !== undefined && grpcCode !== 0 ? String(grpcCode) : String(status));
    attributes[ATTR_ERROR_TYPE] = reason;
    server.setStatus({ code: SpanStatusCode.ERROR, message: reason });
  }
  server.setAttributes(attributes);
}

function endClientSpan(client: Span, exchange: Exchange, grpcCode: number | undefined): void {
  const binding = exchange.binding;
  if (client.isRecording() && binding !== undefined) {
    const attributes: Attributes = { [ATTR_RPC_SYSTEM]: "grpc", [ATTR_RPC_SERVICE]: binding.service, [ATTR_RPC_METHOD]: binding.method };
    if (grpcCode !== undefined) {
      attributes[ATTR_RPC_GRPC_STATUS_CODE] = grpcCode;
      if (grpcCode !== 0) client.setStatus({ code: SpanStatusCode.ERROR });
    }
    client.setAttributes(attributes);
  }
  client.end();
}

/** Takes every `traceparent`/`tracestate` entry out of `metadata`, in place. */
function removeTraceContext(metadata: OutgoingMetadata): void {
  let kept = 0;
  for (const entry of metadata) {
    if (entry[0] !== TRACEPARENT && entry[0] !== TRACESTATE) metadata[kept++] = entry;
  }
  metadata.length = kept;
}

import type { Caller } from "../auth/caller.js";
import type { GatewayError } from "../errors/gateway-error.js";
import type { RequestHead } from "../gateway/request.js";
import type { AnyBinding } from "../binding.js";

/**
 * What observers know of a request's route: a binding of the route table, or an aggregate route
 * (service `aggregate`, rpc `/aggregate/NAME`), which has no single RPC of its own.
 */
export type RouteIdentity = Pick<AnyBinding, "service" | "method" | "rpcPath" | "kind" | "httpMethod" | "pattern">;

/** Which way a stream message went: from the client to the upstream, or back. */
export type StreamDirection = "sent" | "received";

/**
 * One request (or WebSocket call) as the gateway's observers see it: created by the adapter when
 * the request arrives, filled in by the pipeline as the request flows (route, caller, upstream
 * timing, outcome), handed to the observers when the response is over. A plain typed value that
 * travels with the request, never stored on the framework's request object.
 */
export class Exchange {
  /** The matched route (service, rpc, template): a binding, or an aggregate's identity; undefined when no route matched. */
  binding: RouteIdentity | undefined = undefined;
  /** The authenticated caller, once known. */
  caller: Caller | undefined = undefined;
  /** The gRPC code of the outcome: 0 on success, the error's code otherwise; undefined until known. */
  grpcCode: number | undefined = undefined;
  /** The error the request was answered with, if any (its reason says why: auth, limit, ...). */
  error: GatewayError | undefined = undefined;
  /** The HTTP status written (101 for an accepted WebSocket). */
  status = 0;
  /** Response body bytes written. */
  bytesOut = 0;
  /** When the upstream call (or stream) started and how long it took, in ms on the gateway's clock. */
  upstreamStartedAt: number | undefined = undefined;
  upstreamMs: number | undefined = undefined;
  /** The gRPC code the upstream call ended with (undefined when none was made). */
  upstreamCode: number | undefined = undefined;
  /** From arrival to the end of the response, in ms; set when the exchange ends. */
  durationMs: number | undefined = undefined;
  /** Tracing's view of the request, when tracing is on. */
  trace: ExchangeTrace | undefined = undefined;

  constructor(
    readonly requestId: string,
    readonly head: RequestHead,
    /** When the request arrived, in ms on the gateway's clock (performance.now() in production). */
    readonly startedAt: number,
  ) {}

  /** Records the outcome (first one wins: a stream's end does not overwrite an earlier failure). */
  settle(grpcCode: number, error?: GatewayError): void {
    if (this.grpcCode !== undefined) return;
    this.grpcCode = grpcCode;
    this.error = error;
  }
}

/** What tracing keeps per request; the access log reads the trace id. */
export interface ExchangeTrace {
  readonly traceId: string;
  /** The request's SERVER span. */
  readonly spanId: string;
  /** The client's span, when the request continued its trace. */
  readonly parentSpanId: string | undefined;
  /** The client's W3C tracestate, passed on as it came. */
  readonly traceState: string | undefined;
  /** Whether the trace is recorded (spans exported); propagated either way. */
  readonly sampled: boolean;
  readonly remoteParent: boolean;
  /** The upstream call's CLIENT span, while it runs, and when it started (exchange clock, ms). */
  clientSpanId: string | undefined;
  clientStartedAt: number;
}

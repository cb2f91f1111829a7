import type { ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import { GrpcCode } from "../errors/grpc-code.js";
import { frameMessage } from "./grpc-frames.js";
import { metadataFromHeaders } from "./grpc-wire-metadata.js";
import { Http2Exchange, type Failure, type Http2Context } from "./http2-exchange.js";
import { UpstreamConnection } from "./http2-session.js";
import { Http2Stream } from "./http2-stream.js";
import { PROTOCOL_VIOLATION } from "./protocol-violation.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, type ReconnectBackoff, type UpstreamOptions } from "./upstream-options.js";
import type { UnaryCall, UnaryResult, Upstream } from "./upstream.js";

export interface Http2UpstreamOptions extends UpstreamOptions {
  /** Pause before connecting again after a failed attempt; default `DEFAULT_RECONNECT_BACKOFF`. */
  reconnectBackoff?: ReconnectBackoff;
  /** Longest connection attempt (until the upstream's SETTINGS); default `DEFAULT_CONNECT_TIMEOUT_MS`. */
  connectTimeoutMs?: number;
  /** Random source in [0, 1) for the backoff's jitter (tests fix it). */
  random?: () => number;
}

/**
 * An upstream over one long-lived `node:http2` session to `target.address` (plaintext, or TLS
 * with ALPN h2), speaking gRPC's protocol itself (unary and streaming calls): no grpc-js on the
 * hot path. Like the
 * grpc-js transport, calls do not wait for a connection: a refused or reset one fails at once
 * with UNAVAILABLE, and so do calls during the reconnection backoff after it. Failures reject
 * with an `UpstreamError` saying where the call failed (connection, deadline, client cancel,
 * the upstream's status, a protocol violation, a size limit).
 */
export function createHttp2Upstream(target: { address: string }, options: Http2UpstreamOptions = {}): Upstream {
  const connection = new UpstreamConnection(target.address, {
    ...(options.reconnectBackoff !== undefined && { backoff: options.reconnectBackoff }),
    ...(options.connectTimeoutMs !== undefined && { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.now !== undefined && { now: options.now }),
    ...(options.random !== undefined && { random: options.random }),
    ...(options.tls !== undefined && { tls: options.tls }),
    ...(options.keepaliveTimeMs !== undefined && { keepaliveTimeMs: options.keepaliveTimeMs }),
    ...(options.keepaliveTimeoutMs !== undefined && { keepaliveTimeoutMs: options.keepaliveTimeoutMs }),
  });
  const context: Http2Context = {
    connection,
    maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    maxSendMessageBytes: options.maxSendMessageBytes ?? Number.POSITIVE_INFINITY,
    authority: options.tls?.serverName,
    now: options.now ?? Date.now,
    timers: options.timers,
  };
  return {
    call: (unary) => new Promise<UnaryResult>((resolve, reject) => new Http2Call(context, unary, resolve, reject)),
    stream: (call) => new Http2Stream(context, call),
    close: () => connection.close(),
  };
}

/**
 * One unary call in flight: one framed request message, exactly one response message. The wire
 * (headers, status, resets, deadline, cancel) is read by `Http2Exchange`.
 */
class Http2Call extends Http2Exchange {
  private response: Buffer | undefined;
  private messageCount = 0;
  /** The framed request, kept for a transparent retry. */
  private frame: Buffer | undefined;

  constructor(
    upstream: Http2Context,
    private readonly unary: UnaryCall,
    private readonly resolve: (result: UnaryResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    super(upstream, unary);
    this.begin(this.refusal());
  }

  /** Why the call must not start for its request, if it must not. */
  private refusal(): Failure | undefined {
    const size = this.unary.request.byteLength;
    const maxBytes = this.upstream.maxSendMessageBytes;
    if (size > maxBytes) return ["limit", GrpcCode.RESOURCE_EXHAUSTED, `Sent message larger than max (${size} vs. ${maxBytes})`, { limit: { direction: "request", bytes: size, maxBytes } }];
    return undefined;
  }

  protected send(stream: ClientHttp2Stream): void {
    stream.end((this.frame ??= frameMessage(this.unary.request)));
  }

  protected canResend(): boolean {
    return true;
  }

  onMessage(message: Buffer): void {
    if (this.done) return;
    if (++this.messageCount === 1) this.response = message;
    else this.failAndCancel("protocol", GrpcCode.UNIMPLEMENTED, PROTOCOL_VIOLATION.tooManyMessages);
  }

  protected succeed(trailers: IncomingHttpHeaders): void {
    if (this.response === undefined) return this.fail("protocol", GrpcCode.UNIMPLEMENTED, PROTOCOL_VIOLATION.noMessage);
    this.settle();
    this.resolve({ response: this.response, headers: this.responseHeaders, trailers: metadataFromHeaders(trailers, true) });
  }

  protected failed(error: unknown): void {
    this.reject(error);
  }
}

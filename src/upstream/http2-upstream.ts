import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type OutgoingHttpHeaders } from "node:http2";
import { GrpcCode } from "../errors/grpc-code.js";
import { GrpcMessageDecoder, frameMessage, type FrameProblem, type MessageSink } from "./grpc-frames.js";
import { addMetadataHeaders, metadataFromHeaders } from "./grpc-wire-metadata.js";
import { decodeGrpcMessage, formatGrpcTimeout, grpcCodeForHttpStatus, grpcCodeForRstCode, isGrpcContentType, parseGrpcStatus } from "./grpc-wire-status.js";
import { gatewayDeadlineReached } from "./deadline.js";
import { PROTOCOL_VIOLATION, resetViolation } from "./protocol-violation.js";
import { UpstreamError, failedCall, knownGrpcCode, statusDetails, type MessageLimit, type UpstreamErrorOrigin } from "./upstream-error.js";
import { UpstreamConnection } from "./http2-session.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, type ReconnectBackoff, type UpstreamOptions } from "./upstream-options.js";
import type { MetadataEntries, UnaryCall, UnaryResult, Upstream } from "./upstream.js";

const USER_AGENT = "protogate";
const NO_METADATA: MetadataEntries = Object.freeze([]);
const REQUEST_OPTIONS = Object.freeze({ endStream: false });
/** Refused streams sent again per call, as grpc-js does. */
const MAX_TRANSPARENT_RETRIES = 1;

/** What every call of one upstream shares. */
interface UpstreamContext {
  readonly connection: UpstreamConnection;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** `:authority` when the TLS server name overrides the address; Node's default otherwise. */
  readonly authority: string | undefined;
  readonly now: () => number;
}

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
 * with ALPN h2), speaking gRPC's unary protocol itself: no grpc-js on the hot path. Like the
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
  const context: UpstreamContext = {
    connection,
    maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    maxSendMessageBytes: options.maxSendMessageBytes ?? Number.POSITIVE_INFINITY,
    authority: options.tls?.serverName,
    now: options.now ?? Date.now,
  };
  return {
    call: (unary) => new Promise<UnaryResult>((resolve, reject) => new Http2Call(context, unary, resolve, reject)),
    close: () => connection.close(),
  };
}

/** A failure decided by the transport: where, the gRPC code a client reports for it, and what happened. */
type Failure = [origin: UpstreamErrorOrigin, code: GrpcCode, message: string, extra?: FailureExtra];

/** What an error carries besides its status, when there is more. */
interface FailureExtra {
  readonly metadata?: MetadataEntries;
  readonly details?: UpstreamError["details"];
  readonly limit?: MessageLimit;
}

/** The call a stream belongs to; the stream listeners are shared functions that look it up. */
const CALL = Symbol("protogate.http2Call");
type CallStream = ClientHttp2Stream & { [CALL]?: Http2Call };

/**
 * One unary call in flight. A class with shared stream listeners rather than closures: this runs
 * once per request, and per-call closures cost measurable throughput.
 */
class Http2Call implements MessageSink {
  private readonly start: number;
  private readonly decoder: GrpcMessageDecoder;
  private session: ClientHttp2Session | undefined;
  private stream: CallStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private onAbort: (() => void) | undefined;
  private done = false;
  private httpStatus = 0;
  private headers: MetadataEntries = NO_METADATA;
  /** The trailers, or the headers of a trailers-only response. */
  private statusHeaders: IncomingHttpHeaders | undefined;
  private response: Buffer | undefined;
  private messageCount = 0;
  /** The session failed under the stream (refused, reset, TLS, closed), rather than the upstream resetting it. */
  private connectionError: Error | undefined;
  /** The framed request, kept for a transparent retry. */
  private frame: Buffer | undefined;
  private transparentRetries = 0;

  constructor(
    private readonly upstream: UpstreamContext,
    private readonly unary: UnaryCall,
    private readonly resolve: (result: UnaryResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.start = upstream.now();
    this.decoder = new GrpcMessageDecoder(upstream.maxReceiveMessageBytes, this);
    const refused = this.refusal(unary.deadline - this.start);
    if (refused !== undefined) {
      this.fail(...refused);
      return;
    }
    this.timer = setTimeout(onDeadline, unary.deadline - this.start, this);
    if (unary.signal) {
      this.onAbort = Http2Call.prototype.handleAbort.bind(this);
      unary.signal.addEventListener("abort", this.onAbort, { once: true });
    }
    this.open(frameMessage(unary.request));
  }

  /** Sends the request on a new stream of the upstream's current connection. */
  private open(frame: Buffer): void {
    const session = this.upstream.connection.session();
    if ("unavailable" in session) {
      this.fail("connection", GrpcCode.UNAVAILABLE, session.unavailable);
      return;
    }
    this.session = session;
    let stream: CallStream;
    try {
      stream = session.request(this.requestHeaders(this.unary.deadline - this.upstream.now()), REQUEST_OPTIONS);
    } catch (error) {
      // Invalid header values: a gateway bug, mapped to INTERNAL like grpc-js's invalid metadata.
      this.settle();
      this.reject(error);
      return;
    }
    this.frame = frame;
    this.stream = stream;
    stream[CALL] = this;
    stream.on("response", onStreamResponse);
    stream.on("data", onStreamData);
    stream.on("trailers", onStreamTrailers);
    stream.on("error", onStreamError);
    stream.on("close", onStreamClose);
    stream.end(frame);
  }

  /**
   * Sends the call again, once, after the upstream refused its stream (REFUSED_STREAM, also what
   * a graceful GOAWAY gives the streams above its last stream id): the upstream did not process
   * it, so even a non-idempotent call may go again (RFC 9113, 8.7; grpc-js's transparent retry).
   */
  private retryRefused(): boolean {
    const frame = this.frame;
    if (frame === undefined || this.transparentRetries >= MAX_TRANSPARENT_RETRIES || this.httpStatus !== 0 || this.upstream.now() >= this.unary.deadline) return false;
    this.transparentRetries++;
    this.connectionError = undefined;
    this.open(frame);
    return true;
  }

  /** Why the call must not start, if it must not. */
  private refusal(remainingMs: number): Failure | undefined {
    if (this.unary.signal?.aborted) return ["cancelled", GrpcCode.CANCELLED, "Cancelled before the call started"];
    if (remainingMs <= 0) return ["deadline", GrpcCode.DEADLINE_EXCEEDED, "Deadline exceeded before the call started"];
    const size = this.unary.request.byteLength;
    const maxBytes = this.upstream.maxSendMessageBytes;
    if (size > maxBytes) return ["limit", GrpcCode.RESOURCE_EXHAUSTED, `Sent message larger than max (${size} vs. ${maxBytes})`, { limit: { direction: "request", bytes: size, maxBytes } }];
    return undefined;
  }

  private requestHeaders(remainingMs: number): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": this.unary.rpcPath,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": USER_AGENT,
      "grpc-timeout": formatGrpcTimeout(remainingMs),
    };
    if (this.upstream.authority !== undefined) headers[":authority"] = this.upstream.authority;
    addMetadataHeaders(headers, this.unary.metadata);
    return headers;
  }

  handleResponse(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
    this.httpStatus = headers[":status"] ?? 0;
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      this.statusHeaders = headers;
      return;
    }
    this.headers = metadataFromHeaders(headers, false);
    // A 200 that is not gRPC (a web server or proxy answering in the upstream's place) cannot be
    // read as messages; other statuses are mapped from the HTTP status once the stream ends.
    if (this.httpStatus === 200 && !isGrpcContentType(headers["content-type"])) this.failAndCancel("protocol", GrpcCode.UNKNOWN, PROTOCOL_VIOLATION.notGrpc);
  }

  handleData(chunk: Buffer): void {
    // A non-200 body is not gRPC (an intermediary's error page, say): the HTTP status decides.
    if (this.done || this.httpStatus !== 200) return;
    const problem = this.decoder.push(chunk);
    if (problem !== undefined && !this.done) this.failAndCancel(...frameFailure(problem));
  }

  onMessage(message: Buffer): void {
    if (this.done) return;
    if (++this.messageCount === 1) this.response = message;
    else this.failAndCancel("protocol", GrpcCode.UNIMPLEMENTED, PROTOCOL_VIOLATION.tooManyMessages);
  }

  handleTrailers(trailers: IncomingHttpHeaders): void {
    this.statusHeaders = trailers;
  }

  handleError(error: Error & { code?: string }): void {
    // ERR_HTTP2_STREAM_ERROR is the upstream's RST_STREAM, read from `rstCode` on close.
    if (error.code !== "ERR_HTTP2_STREAM_ERROR") this.connectionError = error;
  }

  handleClose(): void {
    if (this.done) return;
    const stream = this.stream as CallStream;
    if (this.statusHeaders !== undefined) return this.finishWithStatus(this.statusHeaders);
    const rstCode = stream.rstCode ?? constants.NGHTTP2_NO_ERROR;
    if (rstCode === constants.NGHTTP2_REFUSED_STREAM && this.retryRefused()) return;
    if (this.connectionError !== undefined) return this.fail("connection", GrpcCode.UNAVAILABLE, `Connection failed: ${this.connectionError.message}`);
    // REFUSED_STREAM: no processing occurred (a GOAWAY, say), so the upstream was not reached.
    if (rstCode === constants.NGHTTP2_REFUSED_STREAM) return this.fail("connection", GrpcCode.UNAVAILABLE, "stream refused by the upstream (RST_STREAM REFUSED_STREAM)");
    // Node resets the streams of a session that died without an error with CANCEL (or NO_ERROR).
    if (this.session?.destroyed && (rstCode === constants.NGHTTP2_CANCEL || rstCode === constants.NGHTTP2_NO_ERROR)) {
      return this.fail("connection", GrpcCode.UNAVAILABLE, "The connection closed before the call completed");
    }
    if (rstCode === constants.NGHTTP2_NO_ERROR) {
      // A non-gRPC answer (an intermediary's error page): the HTTP status says what happened (http-grpc-status-mapping.md).
      if (this.httpStatus !== 0 && this.httpStatus !== 200) return this.fail("upstream", grpcCodeForHttpStatus(this.httpStatus), `Received HTTP status code ${this.httpStatus}`);
      return this.fail("protocol", GrpcCode.INTERNAL, PROTOCOL_VIOLATION.noStatus);
    }
    this.fail("protocol", grpcCodeForRstCode(rstCode), resetViolation(rstCode));
  }

  handleAbort(): void {
    this.failAndCancel("cancelled", GrpcCode.CANCELLED, "Cancelled by the client");
  }

  handleDeadline(): void {
    this.failAndCancel("deadline", GrpcCode.DEADLINE_EXCEEDED, "Deadline exceeded");
  }

  /** The call's outcome from its trailers (or trailers-only headers). */
  private finishWithStatus(trailers: IncomingHttpHeaders): void {
    const status = trailers["grpc-status"];
    const code = typeof status === "string" ? parseGrpcStatus(status) : undefined;
    if (code !== GrpcCode.OK) {
      const trailerMetadata = metadataFromHeaders(trailers, true);
      const metadata = this.headers.length === 0 ? trailerMetadata : [...this.headers, ...trailerMetadata];
      if (typeof status !== "string") {
        // No gRPC status at all: from a gRPC server (200) a protocol violation; otherwise an
        // intermediary's answer, which the HTTP status describes (http-grpc-status-mapping.md).
        if (this.httpStatus === 200) return this.fail("protocol", GrpcCode.UNKNOWN, PROTOCOL_VIOLATION.noStatus, { metadata });
        return this.fail("upstream", grpcCodeForHttpStatus(this.httpStatus), `Received HTTP status code ${this.httpStatus} without a grpc-status`, { metadata });
      }
      if (code === undefined) return this.fail("protocol", GrpcCode.UNKNOWN, PROTOCOL_VIOLATION.badStatus, { metadata });
      const known = knownGrpcCode(code);
      const raw = trailers["grpc-message"];
      const message = typeof raw === "string" ? decodeGrpcMessage(raw) : "";
      const deadlinePassed = known === GrpcCode.DEADLINE_EXCEEDED && gatewayDeadlineReached(this.unary, this.upstream.now());
      return this.fail(deadlinePassed ? "deadline" : "upstream", known, message, { metadata, details: statusDetails(trailerMetadata, known) });
    }
    if (this.decoder.partial) return this.fail("protocol", GrpcCode.INTERNAL, PROTOCOL_VIOLATION.truncated);
    if (this.response === undefined) return this.fail("protocol", GrpcCode.UNIMPLEMENTED, PROTOCOL_VIOLATION.noMessage);
    this.settle();
    this.resolve({ response: this.response, headers: this.headers, trailers: metadataFromHeaders(trailers, true) });
  }

  private failAndCancel(origin: UpstreamErrorOrigin, code: GrpcCode, message: string, extra?: FailureExtra): void {
    if (this.done) return;
    this.fail(origin, code, message, extra);
    const stream = this.stream;
    if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  }

  /** Rejects the call (once) with an `UpstreamError`; the metadata defaults to the response headers received. */
  private fail(origin: UpstreamErrorOrigin, code: GrpcCode, message: string, extra?: FailureExtra): void {
    if (this.done) return;
    this.settle();
    this.reject(
      new UpstreamError(failedCall(this.unary, this.start), {
        origin,
        code,
        message,
        metadata: extra?.metadata ?? this.headers,
        ...(extra?.details !== undefined && { details: extra.details }),
        ...(extra?.limit !== undefined && { limit: extra.limit }),
      }),
    );
  }

  private settle(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.unary.signal?.removeEventListener("abort", this.onAbort);
  }
}

function frameFailure(problem: FrameProblem): Failure {
  switch (problem.kind) {
    case "tooLarge":
      return ["limit", GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (${problem.length} vs. ${problem.limit})`, { limit: { direction: "response", bytes: problem.length, maxBytes: problem.limit } }];
    case "compressed":
      return ["protocol", GrpcCode.INTERNAL, PROTOCOL_VIOLATION.compressed];
    case "badFlag":
      return ["protocol", GrpcCode.INTERNAL, PROTOCOL_VIOLATION.badFlag];
  }
}

function callOf(stream: CallStream): Http2Call {
  return stream[CALL] as Http2Call;
}

function onStreamResponse(this: CallStream, headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
  callOf(this).handleResponse(headers, flags);
}
function onStreamData(this: CallStream, chunk: Buffer): void {
  callOf(this).handleData(chunk);
}
function onStreamTrailers(this: CallStream, trailers: IncomingHttpHeaders): void {
  callOf(this).handleTrailers(trailers);
}
function onStreamError(this: CallStream, error: Error): void {
  callOf(this).handleError(error);
}
function onStreamClose(this: CallStream): void {
  callOf(this).handleClose();
}
function onDeadline(call: Http2Call): void {
  call.handleDeadline();
}

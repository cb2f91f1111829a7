import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type OutgoingHttpHeaders } from "node:http2";
import { GrpcCode } from "../errors/grpc-code.js";
import { MAX_TIMER_MS, gatewayDeadlineReached } from "./deadline.js";
import { GrpcMessageDecoder, type FrameProblem, type MessageSink } from "./grpc-frames.js";
import { addMetadataHeaders, metadataFromHeaders } from "./grpc-wire-metadata.js";
import { decodeGrpcMessage, formatGrpcTimeout, grpcCodeForHttpStatus, grpcCodeForRstCode, isGrpcContentType, parseGrpcStatus } from "./grpc-wire-status.js";
import type { UpstreamConnection } from "./http2-session.js";
import { PROTOCOL_VIOLATION, resetViolation } from "./protocol-violation.js";
import { UpstreamError, failedCall, knownGrpcCode, statusDetails, type MessageLimit, type UpstreamErrorOrigin } from "./upstream-error.js";
import type { UpstreamTimers } from "./upstream-options.js";
import type { MetadataEntries, StreamCall } from "./upstream.js";

const USER_AGENT = "protogate";
export const NO_METADATA: MetadataEntries = Object.freeze([]);
const REQUEST_OPTIONS = Object.freeze({ endStream: false });
/** Refused streams sent again per call, as grpc-js does. */
const MAX_TRANSPARENT_RETRIES = 1;

/** What every call of one upstream shares. */
export interface Http2Context {
  readonly connection: UpstreamConnection;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** `:authority` when the TLS server name overrides the address; Node's default otherwise. */
  readonly authority: string | undefined;
  readonly now: () => number;
  /** Injected deadline timers; Node's own (without a closure per call) when undefined. */
  readonly timers: UpstreamTimers | undefined;
}

/** A failure decided by the transport: where, the gRPC code a client reports for it, and what happened. */
export type Failure = [origin: UpstreamErrorOrigin, code: GrpcCode, message: string, extra?: FailureExtra];

/** What an error carries besides its status, when there is more. */
interface FailureExtra {
  readonly metadata?: MetadataEntries;
  readonly details?: UpstreamError["details"];
  readonly limit?: MessageLimit;
}

/** The call a stream belongs to; the stream listeners are shared functions that look it up. */
const CALL = Symbol("protogate.http2Call");
type CallStream = ClientHttp2Stream & { [CALL]?: Http2Exchange };

/**
 * One gRPC call on one HTTP/2 stream of the upstream's connection, whatever its kind: the
 * request headers, the response headers, messages decoded from DATA frames, the status from the
 * trailers (or a trailers-only response), resets, connection loss, the gateway's deadline and
 * the client's cancel signal, all mapped to one `UpstreamError`. A unary call
 * (http2-upstream.ts) and a streaming one (http2-stream.ts) differ only in what they send and
 * what they do with messages and the outcome (the abstract members), so both read the wire the
 * same way. A class with shared stream listeners rather than closures: this runs once per
 * request, and per-call closures cost measurable throughput.
 */
export abstract class Http2Exchange implements MessageSink {
  protected readonly start: number;
  protected readonly decoder: GrpcMessageDecoder;
  private session: ClientHttp2Session | undefined;
  protected stream: CallStream | undefined;
  private timer: unknown;
  private onAbort: (() => void) | undefined;
  /** The outcome is decided (resolved, rejected); nothing the upstream sends counts any more. */
  protected done = false;
  protected httpStatus = 0;
  /** The response header metadata. */
  protected responseHeaders: MetadataEntries = NO_METADATA;
  /** The trailers, or the headers of a trailers-only response. */
  protected statusHeaders: IncomingHttpHeaders | undefined;
  /** The session failed under the stream (refused, reset, TLS, closed), rather than the upstream resetting it. */
  private connectionError: Error | undefined;
  private transparentRetries = 0;

  constructor(
    protected readonly upstream: Http2Context,
    /** A unary call or a stream: what both have (a stream's deadline is optional). */
    protected readonly call: StreamCall,
  ) {
    this.start = upstream.now();
    this.decoder = new GrpcMessageDecoder(upstream.maxReceiveMessageBytes, this);
  }

  /** Writes the request on a newly opened stream (again, after a transparent retry). */
  protected abstract send(stream: ClientHttp2Stream): void;
  /** Whether what was sent can be sent again (a refused stream is retried only then). */
  protected abstract canResend(): boolean;
  /** A decoded response message. */
  abstract onMessage(message: Buffer): void;
  /** The call ended with OK (no partial message left): its trailers, or trailers-only headers. */
  protected abstract succeed(trailers: IncomingHttpHeaders): void;
  /** The call failed: an `UpstreamError`, or a gateway bug (invalid header values). Called once. */
  protected abstract failed(error: unknown): void;
  /** The response headers of a gRPC response arrived (not a trailers-only one). */
  protected receivedHeaders(): void {}

  /**
   * Starts the call: fails it at once when it must not start (`refusal`, an aborted signal, a
   * deadline already passed), else arms the deadline, listens to the signal and opens the stream.
   * Subclasses call it last in their constructors, once their own fields exist.
   */
  protected begin(refusal: Failure | undefined): void {
    const call = this.call;
    const deadline = call.deadline;
    if (call.signal?.aborted) return this.fail("cancelled", GrpcCode.CANCELLED, "Cancelled before the call started");
    if (deadline !== undefined && deadline - this.start <= 0) return this.fail("deadline", GrpcCode.DEADLINE_EXCEEDED, "Deadline exceeded before the call started");
    if (refusal !== undefined) return this.fail(...refusal);
    if (deadline !== undefined) {
      const timers = this.upstream.timers;
      const ms = Math.min(deadline - this.start, MAX_TIMER_MS);
      this.timer = timers === undefined ? setTimeout(onDeadline, ms, this) : timers.setTimeout(() => this.handleDeadline(), ms);
    }
    if (call.signal) {
      this.onAbort = Http2Exchange.prototype.handleAbort.bind(this);
      call.signal.addEventListener("abort", this.onAbort, { once: true });
    }
    this.open();
  }

  /** Sends the request on a new stream of the upstream's current connection. */
  private open(): void {
    const session = this.upstream.connection.session();
    if ("unavailable" in session) {
      this.fail("connection", GrpcCode.UNAVAILABLE, session.unavailable);
      return;
    }
    this.session = session;
    let stream: CallStream;
    try {
      stream = session.request(this.requestHeaders(), REQUEST_OPTIONS);
    } catch (error) {
      // Invalid header values: a gateway bug, mapped to INTERNAL like grpc-js's invalid metadata.
      this.settle();
      this.failed(error);
      return;
    }
    this.stream = stream;
    stream[CALL] = this;
    stream.on("response", onStreamResponse);
    stream.on("data", onStreamData);
    stream.on("trailers", onStreamTrailers);
    stream.on("error", onStreamError);
    stream.on("close", onStreamClose);
    this.send(stream);
  }

  /**
   * Sends the call again, once, after the upstream refused its stream (REFUSED_STREAM, also what
   * a graceful GOAWAY gives the streams above its last stream id): the upstream did not process
   * it, so even a non-idempotent call may go again (RFC 9113, 8.7; grpc-js's transparent retry).
   */
  private retryRefused(): boolean {
    const deadline = this.call.deadline;
    if (!this.canResend() || this.transparentRetries >= MAX_TRANSPARENT_RETRIES || this.httpStatus !== 0) return false;
    if (deadline !== undefined && this.upstream.now() >= deadline) return false;
    this.transparentRetries++;
    this.connectionError = undefined;
    this.open();
    return true;
  }

  private requestHeaders(): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": this.call.rpcPath,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": USER_AGENT,
    };
    // Without a deadline (a stream with none configured) the upstream gets none either.
    if (this.call.deadline !== undefined) headers["grpc-timeout"] = formatGrpcTimeout(this.call.deadline - this.upstream.now());
    if (this.upstream.authority !== undefined) headers[":authority"] = this.upstream.authority;
    addMetadataHeaders(headers, this.call.metadata);
    return headers;
  }

  handleResponse(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
    this.httpStatus = headers[":status"] ?? 0;
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      this.statusHeaders = headers;
      return;
    }
    this.responseHeaders = metadataFromHeaders(headers, false);
    // A 200 that is not gRPC (a web server or proxy answering in the upstream's place) cannot be
    // read as messages; other statuses are mapped from the HTTP status once the stream ends.
    if (this.httpStatus === 200 && !isGrpcContentType(headers["content-type"])) this.failAndCancel("protocol", GrpcCode.UNKNOWN, PROTOCOL_VIOLATION.notGrpc);
    else if (this.httpStatus === 200) this.receivedHeaders();
  }

  handleData(chunk: Buffer): void {
    // A non-200 body is not gRPC (an intermediary's error page, say): the HTTP status decides.
    if (this.done || this.httpStatus !== 200) return;
    const problem = this.decoder.push(chunk);
    if (problem !== undefined && !this.done) this.failAndCancel(...frameFailure(problem));
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

  /**
   * The upstream ended its side while ours may still be open (a streaming call it answered with a
   * status before the client half-closed): the status is the outcome, and our side is closed too
   * (Node reports 'close' only once both sides are).
   */
  handleRemoteEnd(): void {
    if (this.done || this.statusHeaders === undefined) return;
    this.finishWithStatus(this.statusHeaders);
    const stream = this.stream;
    if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
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
      const metadata = this.responseHeaders.length === 0 ? trailerMetadata : [...this.responseHeaders, ...trailerMetadata];
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
      const deadlinePassed = known === GrpcCode.DEADLINE_EXCEEDED && gatewayDeadlineReached(this.call, this.upstream.now());
      return this.fail(deadlinePassed ? "deadline" : "upstream", known, message, { metadata, details: statusDetails(trailerMetadata, known) });
    }
    if (this.decoder.partial) return this.fail("protocol", GrpcCode.INTERNAL, PROTOCOL_VIOLATION.truncated);
    this.succeed(trailers);
  }

  /** Fails the call (once) and resets its stream with CANCEL, so the upstream stops. */
  protected failAndCancel(origin: UpstreamErrorOrigin, code: GrpcCode, message: string, extra?: FailureExtra): void {
    if (this.done) return;
    this.fail(origin, code, message, extra);
    const stream = this.stream;
    if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  }

  /** Fails the call (once) with an `UpstreamError`; the metadata defaults to the response headers received. */
  protected fail(origin: UpstreamErrorOrigin, code: GrpcCode, message: string, extra?: FailureExtra): void {
    if (this.done) return;
    this.settle();
    this.failed(this.error(origin, code, message, extra));
  }

  protected error(origin: UpstreamErrorOrigin, code: GrpcCode, message: string, extra?: FailureExtra): UpstreamError {
    return new UpstreamError(failedCall(this.call, this.start), {
      origin,
      code,
      message,
      metadata: extra?.metadata ?? this.responseHeaders,
      ...(extra?.details !== undefined && { details: extra.details }),
      ...(extra?.limit !== undefined && { limit: extra.limit }),
    });
  }

  /** The outcome is decided: the deadline timer and the signal's listener go. */
  protected settle(): void {
    this.done = true;
    if (this.timer !== undefined) {
      const timers = this.upstream.timers;
      if (timers === undefined) clearTimeout(this.timer as NodeJS.Timeout);
      else timers.clearTimeout(this.timer);
    }
    if (this.onAbort !== undefined) this.call.signal?.removeEventListener("abort", this.onAbort);
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

function callOf(stream: CallStream): Http2Exchange {
  return stream[CALL] as Http2Exchange;
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
/** 'end' of a streaming call's response (see handleRemoteEnd). */
export function onStreamEnd(this: CallStream): void {
  callOf(this).handleRemoteEnd();
}
function onStreamClose(this: CallStream): void {
  callOf(this).handleClose();
}
function onDeadline(call: Http2Exchange): void {
  call.handleDeadline();
}

/** The exchange a stream of this module belongs to (for the subclasses' own listeners). */
export function exchangeOf<T extends Http2Exchange>(stream: ClientHttp2Stream): T {
  return (stream as CallStream)[CALL] as T;
}

import type { IncomingHttpHeaders } from "node:http2";
import { GrpcCode } from "../errors/grpc-code.js";
import { MAX_TIMER_MS, gatewayDeadlineReached } from "./deadline.js";
import { GrpcMessageDecoder, type FrameProblem, type MessageSink } from "./grpc-frames.js";
import { metadataFromHeaders } from "./grpc-wire-metadata.js";
import { decodeGrpcMessage, formatGrpcTimeout, grpcCodeForHttpStatus, grpcCodeForRstCode, isGrpcContentType, parseGrpcStatus } from "./grpc-wire-status.js";
import { PROTOCOL_VIOLATION, resetViolation } from "./protocol-violation.js";
import { UpstreamError, failedCall, knownGrpcCode, statusDetails, type MessageLimit, type UpstreamErrorOrigin } from "./upstream-error.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, type UpstreamOptions, type UpstreamTimers } from "./upstream-options.js";
import type { MetadataEntries, StreamCall } from "./upstream.js";

export const NO_METADATA: MetadataEntries = Object.freeze([]);
/** Refused streams sent again per call, as grpc-js does. */
const MAX_TRANSPARENT_RETRIES = 1;

/** HTTP/2 error codes the exchange reads or sends (RFC 9113, 7). */
export const H2_NO_ERROR = 0x0;
export const H2_REFUSED_STREAM = 0x7;
export const H2_CANCEL = 0x8;

/** What a call asks of the transport's request headers; the transport adds the fixed gRPC ones. */
export interface RequestHead {
  readonly path: string;
  /** `grpc-timeout`, when the call has a deadline. */
  readonly timeout: string | undefined;
  readonly metadata: MetadataEntries;
}

/** Why no stream can be opened right now; the call fails with UNAVAILABLE and this text. */
export interface SessionUnavailable {
  readonly unavailable: string;
}

/**
 * One HTTP/2 stream as an exchange drives it, whatever HTTP/2 client is under it (node:http2's
 * `ClientHttp2Stream`, or Protogate's own wire client).
 */
export interface ExchangeStream {
  /** Sends request bytes; false when the transport wants the exchange to wait for `handleDrain` (or the stream is gone). */
  write(bytes: Buffer): boolean;
  /** Half-closes (END_STREAM), after `bytes` when given. Nothing once the stream is gone. */
  end(bytes?: Buffer): void;
  /** Resets the stream with `code` unless it is closed already. */
  reset(code: number): void;
  /** Stops taking response DATA (so flow control stops the upstream), and starts again. */
  pause(): void;
  resume(): void;
}

/** Opens streams for exchanges: one per transport and upstream. */
export interface ExchangeTransport {
  /**
   * A new stream on the upstream's current connection for `exchange`, whose events it reports
   * to the exchange's `handle*` methods; why not, when there is no connection to be had. May
   * throw on header values the transport cannot send (a gateway bug).
   */
  open(exchange: GrpcExchange, head: RequestHead): ExchangeStream | SessionUnavailable;
}

/** What every call of one upstream shares. */
export interface ExchangeContext {
  readonly transport: ExchangeTransport;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly now: () => number;
  /** Injected deadline timers; Node's own (without a closure per call) when undefined. */
  readonly timers: UpstreamTimers | undefined;
}

/** The context of an upstream's calls on `transport`, from the options every transport shares. */
export function exchangeContext(transport: ExchangeTransport, options: UpstreamOptions): ExchangeContext {
  return {
    transport,
    maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    maxSendMessageBytes: options.maxSendMessageBytes ?? Number.POSITIVE_INFINITY,
    now: options.now ?? Date.now,
    timers: options.timers,
  };
}

/** A failure decided by the transport: where, the gRPC code a client reports for it, and what happened. */
export type Failure = [origin: UpstreamErrorOrigin, code: GrpcCode, message: string, extra?: FailureExtra];

/** What an error carries besides its status, when there is more. */
interface FailureExtra {
  readonly metadata?: MetadataEntries;
  readonly details?: UpstreamError["details"];
  readonly limit?: MessageLimit;
  /** The upstream provably did not process the call (see `UpstreamError.unprocessed`). */
  readonly unprocessed?: boolean;
}

/** What a failure that never reached the upstream carries. */
const UNPROCESSED: FailureExtra = Object.freeze({ unprocessed: true });

/** How a stream ended without a status, as its transport saw it. */
export interface StreamEnd {
  /** The RST_STREAM code (NO_ERROR when the stream closed without one). */
  readonly rstCode: number;
  /** The connection failed under the stream (refused, reset, TLS, protocol error), rather than the upstream resetting it. */
  readonly connectionError: Error | undefined;
  /** The connection is gone (closed or destroyed) by the time the stream closed. */
  readonly connectionGone: boolean;
  /** The transport found the upstream breaking HTTP/2 on this stream (and reset it): what it did. */
  readonly violation?: string;
  /**
   * Nothing of the stream left the gateway: it was still waiting for a slot, or its connection
   * failed before the socket connected. Absent: the transport cannot tell (it may have been sent).
   */
  readonly unsent?: boolean;
}

/**
 * One gRPC call on one HTTP/2 stream, whatever its kind and whatever HTTP/2 client carries it:
 * the request head, the response headers, messages decoded from DATA, the status from the
 * trailers (or a trailers-only response), resets, connection loss, the gateway's deadline and
 * the client's cancel signal, all mapped to one `UpstreamError`. A unary call (grpc-call.ts)
 * and a streaming one (grpc-stream.ts) differ only in what they send and what they do with
 * messages and the outcome (the abstract members); the transports (http2-transport.ts on
 * node:http2, wire-transport.ts on Protogate's own HTTP/2 client) only report what their stream
 * saw, so every transport reads the wire the same way. A class with methods rather than
 * closures: this runs once per request, and per-call closures cost measurable throughput.
 */
export abstract class GrpcExchange implements MessageSink {
  protected readonly start: number;
  protected readonly decoder: GrpcMessageDecoder;
  protected stream: ExchangeStream | undefined;
  private timer: unknown;
  private onAbort: (() => void) | undefined;
  /** The outcome is decided (resolved, rejected); nothing the upstream sends counts any more. */
  protected done = false;
  protected httpStatus = 0;
  /** The response header metadata. */
  protected responseHeaders: MetadataEntries = NO_METADATA;
  /** The trailers, or the headers of a trailers-only response. */
  protected statusHeaders: IncomingHttpHeaders | undefined;
  /** A gRPC response's headers arrived (not a trailers-only answer): the response has begun. */
  private responseStarted = false;
  private transparentRetries = 0;
  /** A streaming call: its transport reports `handleRemoteEnd` and `handleDrain` too. */
  readonly streaming: boolean = false;

  constructor(
    protected readonly upstream: ExchangeContext,
    /** A unary call or a stream: what both have (a stream's deadline is optional). */
    protected readonly call: StreamCall,
  ) {
    this.start = upstream.now();
    this.decoder = new GrpcMessageDecoder(upstream.maxReceiveMessageBytes, this);
  }

  /** Writes the request on a newly opened stream (again, after a transparent retry). */
  protected abstract send(stream: ExchangeStream): void;
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
  /** The transport can take more request bytes again. */
  handleDrain(): void {}

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
      this.onAbort = GrpcExchange.prototype.handleAbort.bind(this);
      call.signal.addEventListener("abort", this.onAbort, { once: true });
    }
    this.open();
  }

  /** Sends the request on a new stream of the upstream's current connection. */
  private open(): void {
    // Without a deadline (a stream with none configured) the upstream gets none either.
    const deadline = this.call.deadline;
    const head: RequestHead = { path: this.call.rpcPath, timeout: deadline === undefined ? undefined : formatGrpcTimeout(deadline - this.upstream.now()), metadata: this.call.metadata };
    let stream: ExchangeStream | SessionUnavailable;
    try {
      stream = this.upstream.transport.open(this, head);
    } catch (error) {
      // Invalid header values: a gateway bug, mapped to INTERNAL like grpc-js's invalid metadata.
      this.settle();
      this.failed(error);
      return;
    }
    if ("unavailable" in stream) return this.fail("connection", GrpcCode.UNAVAILABLE, stream.unavailable, UNPROCESSED);
    this.stream = stream;
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
    this.open();
    return true;
  }

  /** The response headers (`endStream`: a trailers-only response). */
  handleResponse(headers: IncomingHttpHeaders, endStream: boolean): void {
    this.httpStatus = Number(headers[":status"] ?? 0);
    if (endStream) {
      this.statusHeaders = headers;
      return;
    }
    this.responseHeaders = metadataFromHeaders(headers, false);
    // A 200 that is not gRPC (a web server or proxy answering in the upstream's place) cannot be
    // read as messages; other statuses are mapped from the HTTP status once the stream ends.
    if (this.httpStatus === 200 && !isGrpcContentType(headers["content-type"])) this.failAndCancel("protocol", GrpcCode.UNKNOWN, PROTOCOL_VIOLATION.notGrpc);
    else if (this.httpStatus === 200) {
      this.responseStarted = true;
      this.receivedHeaders();
    }
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

  /** The stream is closed both ways: the outcome, from the status if one came, else from how it ended. */
  handleClose(end: StreamEnd): void {
    if (this.done) return;
    if (this.statusHeaders !== undefined) return this.finishWithStatus(this.statusHeaders);
    const rstCode = end.rstCode;
    if (rstCode === H2_REFUSED_STREAM && this.retryRefused()) return;
    if (end.connectionError !== undefined) return this.fail("connection", GrpcCode.UNAVAILABLE, `Connection failed: ${end.connectionError.message}`, end.unsent === true ? UNPROCESSED : undefined);
    if (end.violation !== undefined) return this.fail("protocol", GrpcCode.INTERNAL, end.violation);
    // REFUSED_STREAM: no processing occurred (a GOAWAY, say), so the upstream was not reached.
    if (rstCode === H2_REFUSED_STREAM) return this.fail("connection", GrpcCode.UNAVAILABLE, "stream refused by the upstream (RST_STREAM REFUSED_STREAM)", UNPROCESSED);
    // The streams of a connection that died without an error end with CANCEL (or NO_ERROR).
    if (end.connectionGone && (rstCode === H2_CANCEL || rstCode === H2_NO_ERROR)) {
      return this.fail("connection", GrpcCode.UNAVAILABLE, "The connection closed before the call completed", end.unsent === true ? UNPROCESSED : undefined);
    }
    if (rstCode === H2_NO_ERROR) {
      // A non-gRPC answer (an intermediary's error page): the HTTP status says what happened (http-grpc-status-mapping.md).
      if (this.httpStatus !== 0 && this.httpStatus !== 200) return this.fail("upstream", grpcCodeForHttpStatus(this.httpStatus), `Received HTTP status code ${this.httpStatus}`);
      return this.fail("protocol", GrpcCode.INTERNAL, PROTOCOL_VIOLATION.noStatus);
    }
    this.fail("protocol", grpcCodeForRstCode(rstCode), resetViolation(rstCode));
  }

  /**
   * The upstream ended its side while ours may still be open (a streaming call it answered with a
   * status before the client half-closed): the status is the outcome, and our side is closed too.
   */
  handleRemoteEnd(): void {
    if (this.done || this.statusHeaders === undefined) return;
    this.finishWithStatus(this.statusHeaders);
    this.stream?.reset(H2_NO_ERROR);
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
    this.stream?.reset(H2_CANCEL);
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
      unprocessed: extra?.unprocessed === true,
      responseStarted: this.responseStarted,
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

function onDeadline(call: GrpcExchange): void {
  call.handleDeadline();
}

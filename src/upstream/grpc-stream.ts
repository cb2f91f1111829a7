import type { IncomingHttpHeaders } from "node:http2";
import { GrpcCode } from "../errors/grpc-code.js";
import { frameMessage } from "./grpc-frames.js";
import { metadataFromHeaders } from "./grpc-wire-metadata.js";
import { GrpcExchange, NO_METADATA, type ExchangeContext, type ExchangeStream } from "./grpc-exchange.js";
import { HeadersPromise, ResponseQueue, WriteWait, type ReadSwitch } from "./stream-flow.js";
import type { MetadataEntries, StreamCall, UpstreamStream } from "./upstream.js";

/**
 * How many bytes of request messages a stream keeps for a transparent retry. A refused stream
 * (REFUSED_STREAM, or above a GOAWAY's last stream id) was not processed by the upstream, so it
 * may go again with everything written on it (RFC 9113, 8.7), as long as the messages are still
 * at hand: enough for the request of a server-streaming call or the first messages of a bidi one,
 * without keeping a long client stream in memory. Past the bound, or once the response headers
 * came, a refusal fails the call with UNAVAILABLE.
 */
export const STREAM_RESEND_BYTES = 64 * 1024;

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One streaming call (server, client or bidi: the wire is the same) on one HTTP/2 stream.
 * Writes are length-prefix framed as unary requests are and wait for the transport's drain when
 * it cannot take more (the upstream's flow-control window is closed); response messages go to a
 * small `ResponseQueue` that pauses the stream when full, so the transport stops giving flow-
 * control window back and the upstream stops sending. Everything else (status, resets,
 * connection loss, deadline, cancel signal) is read by `GrpcExchange` as for a unary call.
 */
export class GrpcStream extends GrpcExchange implements UpstreamStream {
  override readonly streaming = true;
  readonly headers: Promise<MetadataEntries>;
  private readonly headerPromise = new HeadersPromise<MetadataEntries>();
  private readonly queue: ResponseQueue;
  private readonly writeWait = new WriteWait();
  /** The call's failure, once it failed. */
  private failure: { readonly error: unknown } | undefined;
  /** `end()` was called. */
  private ended = false;
  /** The frames written so far, for a transparent retry; undefined once they may not be sent again. */
  private sent: Buffer[] | undefined = [];
  private sentBytes = 0;
  private trailerMetadata: MetadataEntries | undefined;

  constructor(upstream: ExchangeContext, call: StreamCall) {
    super(upstream, call);
    const flow: ReadSwitch = {
      pause: () => this.stream?.pause(),
      resume: () => this.stream?.resume(),
    };
    this.queue = new ResponseQueue(flow);
    this.headers = this.headerPromise.promise;
    this.begin(undefined);
  }

  read(): Promise<Uint8Array | undefined> {
    return this.queue.read();
  }

  trailers(): MetadataEntries {
    const statusHeaders = this.statusHeaders;
    if (statusHeaders === undefined) return NO_METADATA;
    return (this.trailerMetadata ??= metadataFromHeaders(statusHeaders, true));
  }

  write(message: Uint8Array): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    // Ended with OK: the upstream reads no more, as gRPC drops what a client sends after the status.
    if (this.done) return RESOLVED;
    if (this.ended) return Promise.reject(new Error("UpstreamStream.write after end()"));
    const size = message.byteLength;
    const maxBytes = this.upstream.maxSendMessageBytes;
    if (size > maxBytes) {
      // A message the upstream would refuse: the call cannot go on without it.
      this.failAndCancel("limit", GrpcCode.RESOURCE_EXHAUSTED, `Sent message larger than max (${size} vs. ${maxBytes})`, { limit: { direction: "request", bytes: size, maxBytes } });
      return Promise.reject(this.failureError());
    }
    const frame = frameMessage(message);
    this.keepForResend(frame);
    // Not done, so the stream is open (or closing: its close then settles the waiting write).
    if ((this.stream as ExchangeStream).write(frame)) return RESOLVED;
    return this.writeWait.wait();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.done) this.stream?.end();
  }

  cancel(): void {
    this.failAndCancel("cancelled", GrpcCode.CANCELLED, "Cancelled by the gateway");
    // Also after the call ended: what was not read yet is dropped.
    this.queue.discard(this.failure === undefined ? this.error("cancelled", GrpcCode.CANCELLED, "Cancelled by the gateway") : this.failure.error);
  }

  override handleDrain(): void {
    this.writeWait.release();
  }

  protected send(stream: ExchangeStream): void {
    // A retry: what was written on the refused stream goes again (nothing on the first attempt).
    let drained = true;
    for (const frame of this.sent ?? []) drained = stream.write(frame);
    if (this.ended) stream.end();
    // Writes waiting for the refused stream's drain wait for this one's, if it needs one.
    if (drained) this.writeWait.release();
  }

  protected canResend(): boolean {
    return this.sent !== undefined;
  }

  onMessage(message: Buffer): void {
    if (!this.done) this.queue.push(message);
  }

  protected override receivedHeaders(): void {
    // The upstream is processing the call: a refusal can no longer come.
    this.sent = undefined;
    this.headerPromise.resolve(this.responseHeaders);
  }

  protected succeed(trailers: IncomingHttpHeaders): void {
    this.settle();
    this.sent = undefined;
    this.trailerMetadata = metadataFromHeaders(trailers, true);
    // A trailers-only OK (no messages) has no header metadata: all of it is in the trailers.
    this.headerPromise.resolve(NO_METADATA);
    this.queue.end();
    this.writeWait.release();
  }

  protected failed(error: unknown): void {
    this.failure = { error };
    this.sent = undefined;
    this.headerPromise.reject(error);
    this.queue.fail(error);
    this.writeWait.fail(error);
  }

  /** The call's failure (after `fail`, which TypeScript cannot see has set it). */
  private failureError(): unknown {
    return this.failure?.error;
  }

  private keepForResend(frame: Buffer): void {
    const sent = this.sent;
    if (sent === undefined) return;
    if (this.sentBytes + frame.byteLength > STREAM_RESEND_BYTES) {
      this.sent = undefined;
      return;
    }
    sent.push(frame);
    this.sentBytes += frame.byteLength;
  }
}

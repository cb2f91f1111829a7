import { status as GrpcStatus, type ClientDuplexStream, type Metadata, type StatusObject } from "@grpc/grpc-js";
import { GrpcCode } from "../errors/grpc-code.js";
import { MAX_TIMER_MS } from "./deadline.js";
import { GrpcJsCall, NO_METADATA, deserialize, entriesOf, grpcMetadata, ignoreError, serialize, type GrpcContext } from "./grpc-js-call.js";
import { HeadersPromise, ResponseQueue, WriteWait } from "./stream-flow.js";
import type { MetadataEntries, StreamCall, UpstreamStream } from "./upstream.js";

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One streaming call over grpc-js. Every kind (server, client, bidi) is opened as a bidi call
 * with identity (de)serializers: the wire is the same, and the gateway decides how many messages
 * go each way. Reading: messages go to the same `ResponseQueue` as the http2 transport's, which
 * pauses the duplex stream when full; grpc-js then stops asking for messages once the duplex's own
 * buffer is full (16 messages, its object-mode high-water mark) and pauses its HTTP/2 stream, so
 * flow control stops the upstream. Writing waits for 'drain' when the duplex's buffer is full.
 * The final status becomes an `UpstreamError` as for a unary call (`GrpcJsCall.statusError`).
 */
export class GrpcJsStream extends GrpcJsCall implements UpstreamStream {
  readonly headers: Promise<MetadataEntries>;
  private readonly headerPromise = new HeadersPromise<MetadataEntries>();
  private readonly queue: ResponseQueue;
  private readonly writeWait = new WriteWait();
  private readonly duplex: ClientDuplexStream<Uint8Array, Buffer> | undefined;
  /** The outcome is decided; nothing grpc-js reports counts any more. */
  private done = false;
  private failure: { readonly error: unknown } | undefined;
  private ended = false;
  private trailerMetadata: MetadataEntries = NO_METADATA;
  private timer: unknown;
  private readonly onAbort = (): void => this.failAndCancel(this.error({ origin: "cancelled", code: GrpcCode.CANCELLED, message: "Cancelled by the client" }));

  constructor(context: GrpcContext, call: StreamCall) {
    super(context, call);
    this.queue = new ResponseQueue({ pause: () => this.duplex?.pause(), resume: () => this.duplex?.resume() });
    this.headers = this.headerPromise.promise;
    const deadline = call.deadline;
    if (call.signal?.aborted) {
      this.fail(this.error({ origin: "cancelled", code: GrpcCode.CANCELLED, message: "Cancelled before the call started" }));
      return;
    }
    if (deadline !== undefined && deadline - this.start <= 0) {
      this.fail(this.error({ origin: "deadline", code: GrpcCode.DEADLINE_EXCEEDED, message: "Deadline exceeded before the call started" }));
      return;
    }
    try {
      // grpc-js sends grpc-timeout from the deadline, and ends the call on it too; the gateway's own
      // timer (below) decides first, on the injected timers, that the deadline was the gateway's.
      this.duplex = context.client.makeBidiStreamRequest(call.rpcPath, serialize, deserialize, grpcMetadata(call.metadata), deadline === undefined ? {} : { deadline });
    } catch (error) {
      this.fail(error); // Invalid metadata or a closed channel: a gateway bug, mapped to INTERNAL.
      return;
    }
    const duplex = this.duplex;
    duplex.on("metadata", (metadata: Metadata) => this.receivedMetadata(metadata));
    duplex.on("data", (message: Buffer) => this.received(message));
    duplex.on("drain", () => this.writeWait.release());
    duplex.on("error", ignoreError);
    // Emitted last, with the trailers: the call's outcome is decided there.
    duplex.on("status", (status: StatusObject) => this.receivedStatus(status));
    if (deadline !== undefined) {
      const expire = () => this.failAndCancel(this.error({ origin: "deadline", code: GrpcCode.DEADLINE_EXCEEDED, message: "Deadline exceeded" }));
      const ms = Math.min(deadline - this.start, MAX_TIMER_MS);
      this.timer = context.timers === undefined ? setTimeout(expire, ms) : context.timers.setTimeout(expire, ms);
    }
    call.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  read(): Promise<Uint8Array | undefined> {
    return this.queue.read();
  }

  trailers(): MetadataEntries {
    return this.trailerMetadata;
  }

  write(message: Uint8Array): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    // Ended with OK: the upstream reads no more, as gRPC drops what a client sends after the status.
    if (this.done) return RESOLVED;
    if (this.ended) return Promise.reject(new Error("UpstreamStream.write after end()"));
    const size = message.byteLength;
    const maxBytes = this.context.maxSendMessageBytes;
    if (size > maxBytes) {
      // Checked here rather than by grpc-js, whose refusal reads like an upstream's own RESOURCE_EXHAUSTED.
      const error = this.error({ origin: "limit", code: GrpcCode.RESOURCE_EXHAUSTED, message: `Sent message larger than max (${size} vs. ${maxBytes})`, limit: { direction: "request", bytes: size, maxBytes } });
      this.failAndCancel(error);
      return Promise.reject(error);
    }
    // Not done, so the duplex exists.
    if ((this.duplex as ClientDuplexStream<Uint8Array, Buffer>).write(message)) return RESOLVED;
    return this.writeWait.wait();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.done) this.duplex?.end();
  }

  cancel(): void {
    const error = this.failure?.error ?? this.error({ origin: "cancelled", code: GrpcCode.CANCELLED, message: "Cancelled by the gateway" });
    this.failAndCancel(error);
    // Also after the call ended: what was not read yet is dropped.
    this.queue.discard(error);
  }

  private receivedMetadata(metadata: Metadata): void {
    this.handleMetadata(metadata);
    // A reply that is not gRPC fails with its status; it has no headers to show.
    if (!this.notGrpc) this.headerPromise.resolve(this.responseHeaders);
  }

  private received(message: Buffer): void {
    // A reply that is not gRPC is not read as messages (its status says what it was).
    if (!this.done && !this.notGrpc) this.queue.push(message);
  }

  private receivedStatus(status: StatusObject): void {
    if (this.done) return;
    // Messages grpc-js handed over before its status may still sit in the paused duplex's buffer:
    // `read()` emits 'data' for each, so they are queued ahead of the outcome.
    const duplex = this.duplex as ClientDuplexStream<Uint8Array, Buffer>;
    while (duplex.read() !== null);
    this.trailerMetadata = entriesOf(status.metadata);
    if (status.code === GrpcStatus.OK && !this.notGrpc && this.violation === undefined) this.succeed();
    else this.fail(this.statusError(status));
  }

  private succeed(): void {
    this.settle();
    // A trailers-only OK (no messages) has no header metadata: all of it is in the trailers.
    this.headerPromise.resolve(NO_METADATA);
    this.queue.end();
    this.writeWait.release();
  }

  /** Fails the call with `error` and cancels it, so the upstream stops. */
  private failAndCancel(error: unknown): void {
    if (this.done) return;
    this.fail(error);
    this.duplex?.cancel();
  }

  private fail(error: unknown): void {
    if (this.done) return;
    this.settle();
    this.failure = { error };
    this.headerPromise.reject(error);
    this.queue.fail(error);
    this.writeWait.fail(error);
  }

  private settle(): void {
    this.done = true;
    if (this.timer !== undefined) {
      const timers = this.context.timers;
      if (timers === undefined) clearTimeout(this.timer as NodeJS.Timeout);
      else timers.clearTimeout(this.timer);
    }
    this.call.signal?.removeEventListener("abort", this.onAbort);
  }
}

import type { IncomingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  Flag,
  FrameReader,
  FrameType,
  H2Error,
  MAX_ALLOWED_FRAME_SIZE,
  MAX_WINDOW,
  SETTINGS_ACK,
  Setting,
  frameHeader,
  goawayFrame,
  pingFrame,
  rstStreamFrame,
  settingsFrame,
  unpad,
  windowUpdateFrame,
  type FrameSink,
} from "../../src/upstream/h2-frames.js";
import { FrameOutbox } from "../../src/upstream/frame-outbox.js";
import { HpackDecoder } from "../../src/upstream/hpack.js";
import { headerFieldFrames, type EncodedReply } from "./encoded-reply.js";

/** The connection's receive window: given back as DATA arrives (the request bodies are small and read at once). */
const CONNECTION_WINDOW = 16 * 1024 * 1024;
const HEADER_TABLE_SIZE = 4096;
const MAX_HEADER_LIST_SIZE = 64 * 1024;
const MAX_HEADER_BLOCK_BYTES = 4 * MAX_HEADER_LIST_SIZE;
/** A request body beyond this resets its stream (grpc-js's default receive limit is 4 MB). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024 + 5;
/** Streams open at once beyond this are refused (bounds a connection's state). */
const MAX_STREAMS = 10_000;

/** A complete request: its `:path`, headers and body (the length-prefixed message, as received). */
export interface ServerRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Valid only during the call when the body came in one DATA frame (a view of the socket's chunk): copy what is kept. */
  readonly body: Buffer;
}

/** Answers a request, now or later, with a reply and extra response header fields (flattened pairs). */
export type Respond = (reply: EncodedReply, extraHeaders?: readonly string[]) => void;
export type RequestHandler = (request: ServerRequest, respond: Respond) => void;

/** One request stream. */
class ServerStream {
  readonly parts: Buffer[] = [];
  size = 0;
  /** Request bytes taken since the last WINDOW_UPDATE of the stream. */
  unacknowledged = 0;
  remoteEnded = false;
  /** The response frames not yet sent for want of window: DATA still to go, then the trailers. */
  pendingData: Buffer | undefined;
  pendingTrailers: readonly string[] | undefined;

  constructor(
    readonly id: number,
    readonly headers: IncomingHttpHeaders,
    public sendWindow: number,
  ) {}
}

/**
 * The server side of one plaintext HTTP/2 connection (prior knowledge, as gRPC clients connect),
 * on Protogate's own frame layer and HPACK: the preface, SETTINGS and their ACK, PING answers,
 * WINDOW_UPDATEs for the request bytes it reads, HEADERS (+ CONTINUATION), DATA, RST_STREAM both
 * ways, flow control of the response DATA, and GOAWAY on close or on a connection error. The
 * frames written in one event-loop turn go out in one socket write. Request trailers, priorities
 * and server push are not used by gRPC unary calls and are ignored.
 */
export class H2ServerConnection implements FrameSink {
  private readonly reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE, this);
  private readonly decoder = new HpackDecoder(HEADER_TABLE_SIZE, MAX_HEADER_LIST_SIZE);
  private readonly streams = new Map<number, ServerStream>();
  /** Streams with response bytes waiting for flow-control window. */
  private readonly blocked = new Set<ServerStream>();
  private prefaceSeen = 0;
  private lastStreamId = 0;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private sendWindow = DEFAULT_WINDOW;
  private receiveWindow = CONNECTION_WINDOW;
  private headerBlock: { streamId: number; endStream: boolean; parts: Buffer[]; size: number } | undefined;
  private readonly outbox: FrameOutbox;
  private destroyed = false;

  constructor(
    private readonly socket: Socket,
    private readonly handler: RequestHandler,
    private readonly onClosed: (connection: H2ServerConnection) => void,
  ) {
    this.outbox = new FrameOutbox(socket);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => this.teardown());
    this.queue(settingsFrame([[Setting.MAX_CONCURRENT_STREAMS, MAX_STREAMS], [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_SIZE]]));
    this.queue(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
  }

  /** Streams open now (requests read or being read, responses not yet ended). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Ends the connection gracefully: GOAWAY (no error, the last stream seen), then the socket ends. */
  close(): void {
    if (this.destroyed) return;
    this.end(goawayFrame(this.lastStreamId, H2Error.NO_ERROR));
  }

  // --- Writing -------------------------------------------------------------------------------

  private queue(bytes: Buffer): void {
    if (!this.destroyed) this.outbox.queue(bytes);
  }

  /** Writes what is queued (then `last`, a GOAWAY) and ends the socket. */
  private end(last?: Buffer): void {
    this.destroyed = true;
    this.outbox.end(last);
  }

  private respond(stream: ServerStream, reply: EncodedReply, extraHeaders: readonly string[] | undefined): void {
    // The client reset the stream (or went away) while the reply was being fetched.
    if (this.destroyed || this.streams.get(stream.id) !== stream) return;
    const dataBytes = reply.data.length;
    if (extraHeaders === undefined && reply.oneCopy && dataBytes <= stream.sendWindow && dataBytes <= this.sendWindow) {
      // The common case: the encoded frames as they are, with this stream's id.
      const frames = Buffer.from(reply.frames);
      for (const at of reply.idOffsets) frames.writeUInt32BE(stream.id, at);
      this.sendWindow -= dataBytes;
      this.queue(frames);
      this.streams.delete(stream.id);
      return;
    }
    const headers = extraHeaders === undefined ? reply.headerFields : [...reply.headerFields, ...extraHeaders];
    for (const bytes of headerFieldFrames(stream.id, headers, false, this.peerMaxFrameSize)) this.queue(bytes);
    stream.pendingData = dataBytes > 0 ? reply.data : undefined;
    stream.pendingTrailers = reply.trailerFields;
    this.sendPending(stream);
  }

  /** Sends the stream's response DATA as far as the windows allow, then its trailers. */
  private sendPending(stream: ServerStream): void {
    let data = stream.pendingData;
    while (data !== undefined) {
      const room = Math.min(stream.sendWindow, this.sendWindow, this.peerMaxFrameSize);
      if (room <= 0) {
        this.blocked.add(stream);
        stream.pendingData = data;
        return;
      }
      const size = Math.min(room, data.length);
      stream.sendWindow -= size;
      this.sendWindow -= size;
      this.queue(frameHeader(size, FrameType.DATA, 0, stream.id));
      this.queue(data.subarray(0, size));
      data = size === data.length ? undefined : data.subarray(size);
    }
    stream.pendingData = undefined;
    this.blocked.delete(stream);
    const trailers = stream.pendingTrailers;
    if (trailers === undefined) return;
    for (const bytes of headerFieldFrames(stream.id, trailers, true, this.peerMaxFrameSize)) this.queue(bytes);
    this.streams.delete(stream.id);
  }

  // --- Reading -------------------------------------------------------------------------------

  private receive(chunk: Buffer): void {
    if (this.destroyed) return;
    if (this.prefaceSeen < CLIENT_PREFACE.length) {
      const take = Math.min(CLIENT_PREFACE.length - this.prefaceSeen, chunk.length);
      if (!chunk.subarray(0, take).equals(CLIENT_PREFACE.subarray(this.prefaceSeen, this.prefaceSeen + take))) return this.fail(H2Error.PROTOCOL_ERROR);
      this.prefaceSeen += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    if (!this.reader.push(chunk)) this.fail(H2Error.FRAME_SIZE_ERROR);
  }

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.destroyed) return;
    if (this.headerBlock !== undefined && (type !== FrameType.CONTINUATION || streamId !== this.headerBlock.streamId)) return this.fail(H2Error.PROTOCOL_ERROR);
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, payload);
      case FrameType.RST_STREAM:
        if (payload.length !== 4 || streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR);
        return this.forget(streamId);
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (payload.length !== 8 || streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR);
        if ((flags & Flag.ACK) === 0) this.queue(pingFrame(true, Buffer.from(payload)));
        return;
      case FrameType.GOAWAY:
        // The client opens no more streams; those open are still answered, and it closes the socket.
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE:
        return this.fail(H2Error.PROTOCOL_ERROR);
      default:
      // PRIORITY and unknown frame types are ignored.
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR);
    const length = payload.length;
    if (length > this.receiveWindow) return this.fail(H2Error.FLOW_CONTROL_ERROR);
    this.receiveWindow -= length;
    if (this.receiveWindow <= CONNECTION_WINDOW / 2) {
      this.queue(windowUpdateFrame(0, CONNECTION_WINDOW - this.receiveWindow));
      this.receiveWindow = CONNECTION_WINDOW;
    }
    const data = unpad(flags, payload, 0);
    if (data === undefined) return this.fail(H2Error.PROTOCOL_ERROR);
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      // A stream never opened is a connection error; one reset or answered already is ignored.
      if (streamId > this.lastStreamId) this.fail(H2Error.PROTOCOL_ERROR);
      return;
    }
    if (stream.remoteEnded) return this.resetStream(stream, H2Error.STREAM_CLOSED);
    stream.size += data.length;
    if (stream.size > MAX_REQUEST_BYTES) return this.resetStream(stream, H2Error.ENHANCE_YOUR_CALM);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (endStream && stream.parts.length === 0) return this.requestComplete(stream, data);
    if (data.length > 0) stream.parts.push(Buffer.from(data));
    if (endStream) return this.requestComplete(stream, Buffer.concat(stream.parts, stream.size));
    // The stream's window goes back in batches of half of it (the sender may then go on).
    stream.unacknowledged += length;
    if (stream.unacknowledged >= DEFAULT_WINDOW / 2) {
      this.queue(windowUpdateFrame(streamId, stream.unacknowledged));
      stream.unacknowledged = 0;
    }
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR);
    const fragment = unpad(flags, payload, flags & Flag.PRIORITY ? 5 : 0);
    if (fragment === undefined) return this.fail(H2Error.PROTOCOL_ERROR);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (flags & Flag.END_HEADERS) return this.onHeaderBlock(streamId, endStream, fragment);
    this.headerBlock = { streamId, endStream, parts: [Buffer.from(fragment)], size: fragment.length };
  }

  private onContinuation(flags: number, payload: Buffer): void {
    const block = this.headerBlock;
    if (block === undefined) return this.fail(H2Error.PROTOCOL_ERROR);
    block.size += payload.length;
    if (block.size > MAX_HEADER_BLOCK_BYTES) return this.fail(H2Error.ENHANCE_YOUR_CALM);
    block.parts.push(Buffer.from(payload));
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.headerBlock = undefined;
    this.onHeaderBlock(block.streamId, block.endStream, Buffer.concat(block.parts, block.size));
  }

  private onHeaderBlock(streamId: number, endStream: boolean, block: Buffer): void {
    // Decoded whatever happens next: the dynamic table must stay in step.
    const decoded = this.decoder.decode(block);
    if (decoded === undefined) return this.fail(H2Error.COMPRESSION_ERROR);
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Request trailers: gRPC clients send none, but they end the request all the same.
      if (!endStream || existing.remoteEnded) return this.resetStream(existing, H2Error.PROTOCOL_ERROR);
      return this.requestComplete(existing, Buffer.concat(existing.parts, existing.size));
    }
    if (streamId % 2 === 0 || streamId <= this.lastStreamId) return this.fail(H2Error.PROTOCOL_ERROR);
    this.lastStreamId = streamId;
    const stream = new ServerStream(streamId, decoded.headers, this.peerInitialWindow);
    if (decoded.tooLarge || typeof decoded.headers[":path"] !== "string") return void this.queue(rstStreamFrame(streamId, H2Error.PROTOCOL_ERROR));
    if (this.streams.size >= MAX_STREAMS) return void this.queue(rstStreamFrame(streamId, H2Error.REFUSED_STREAM));
    this.streams.set(streamId, stream);
    if (endStream) this.requestComplete(stream, Buffer.alloc(0));
  }

  private requestComplete(stream: ServerStream, body: Buffer): void {
    stream.remoteEnded = true;
    stream.parts.length = 0;
    const request: ServerRequest = { path: stream.headers[":path"] as string, headers: stream.headers, body };
    this.handler(request, (reply, extraHeaders) => this.respond(stream, reply, extraHeaders));
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR);
    if (flags & Flag.ACK) return;
    if (payload.length % 6 !== 0) return this.fail(H2Error.FRAME_SIZE_ERROR);
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) return this.fail(H2Error.FLOW_CONTROL_ERROR);
        // The change applies to every open stream's window (RFC 9113, 6.9.2).
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_ALLOWED_FRAME_SIZE) return this.fail(H2Error.PROTOCOL_ERROR);
        this.peerMaxFrameSize = value;
      }
      // HEADER_TABLE_SIZE bounds a dynamic table the encoder does not use; the rest do not concern a server.
    }
    this.queue(SETTINGS_ACK);
    this.sendBlocked();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(H2Error.FRAME_SIZE_ERROR);
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) return this.fail(H2Error.FLOW_CONTROL_ERROR);
      return this.sendBlocked();
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    stream.sendWindow += increment;
    if (stream.pendingData !== undefined) this.sendPending(stream);
  }

  private sendBlocked(): void {
    for (const stream of [...this.blocked]) {
      if (this.sendWindow <= 0) return;
      this.sendPending(stream);
    }
  }

  private resetStream(stream: ServerStream, code: number): void {
    this.queue(rstStreamFrame(stream.id, code));
    this.forget(stream.id);
  }

  private forget(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    this.streams.delete(streamId);
    this.blocked.delete(stream);
  }

  /** A connection error: GOAWAY with `code`, then the socket ends. */
  private fail(code: number): void {
    if (this.destroyed) return;
    this.reader.stop();
    this.end(goawayFrame(this.lastStreamId, code));
  }

  private teardown(): void {
    this.destroyed = true;
    this.outbox.discard();
    this.reader.stop();
    this.streams.clear();
    this.blocked.clear();
    this.onClosed(this);
  }
}

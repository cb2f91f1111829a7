import type { IncomingHttpHeaders } from "node:http2";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import type { ExchangeStream, GrpcExchange, RequestHead, StreamEnd } from "./grpc-exchange.js";
import { metadataFieldValue } from "./grpc-wire-metadata.js";
import { rstCodeName } from "./grpc-wire-status.js";
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  FRAME_HEADER_BYTES,
  Flag,
  FrameReader,
  FrameType,
  H2Error,
  MAX_ALLOWED_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW,
  SETTINGS_ACK,
  Setting,
  frameHeader,
  goawayFrame,
  headerFrames,
  pingFrame,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
  unpad,
  type FrameSink,
} from "./h2-frames.js";
import { FrameOutbox } from "./frame-outbox.js";
import { StreamTable } from "./stream-table.js";
import { HpackDecoder, RequestHeaderEncoder } from "./hpack.js";
import { DEFAULT_KEEPALIVE_TIMEOUT_MS, USER_AGENT, type UpstreamTls } from "./upstream-options.js";

/** Each stream's receive window (what the upstream may send ahead of the gateway's reads), as node:http2's default. */
export const STREAM_WINDOW = DEFAULT_WINDOW;
/**
 * The connection's receive window. Connection-level window is given back as DATA arrives, not
 * as it is read: the per-stream windows already bound what a slow reader holds, and a paused
 * stream must not stall the others (head-of-line blocking on the connection window).
 */
const CONNECTION_WINDOW = 16 * 1024 * 1024;
const HEADER_TABLE_SIZE = 4096;
export const MAX_HEADER_LIST_SIZE = 64 * 1024;
/** A header block (HEADERS and its CONTINUATIONs) larger than this fails the connection: nothing legitimate comes near. */
const MAX_HEADER_BLOCK_BYTES = 4 * MAX_HEADER_LIST_SIZE;
/** Streams opened before the upstream's SETTINGS say how many it takes (RFC 9113 recommends allowing at least 100). */
const STREAMS_BEFORE_SETTINGS = 100;
/** A stream's request bytes not yet sent (closed flow-control window) above which `write` asks the caller to wait (Node's writable default). */
const WRITE_HIGH_WATER = 16 * 1024;

export interface WireConnectionOptions {
  readonly tls?: UpstreamTls;
  readonly connectTimeoutMs: number;
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** The first stream id (tests start near the end of the id space). */
  readonly firstStreamId?: number;
}

/** What the connection tells its owner. */
export interface ConnectionOwner {
  /** The handshake completed (`failure` undefined: the upstream's SETTINGS came) or failed before it. */
  handshake(connection: WireConnection, failure: string | undefined): void;
  /** The connection takes no new streams any more (GOAWAY, stream ids used up, closed). */
  retired(connection: WireConnection): void;
  /** The socket closed. */
  closed(connection: WireConnection): void;
}

/** A response event waiting in a paused stream's inbox behind the DATA before it. */
type Inbound = Buffer | typeof REMOTE_END;
const REMOTE_END = Symbol("remote end");
/** How a stream ends when both sides ended it (or the gateway reset it): one object for every call. */
const CLOSED: StreamEnd = Object.freeze({ rstCode: H2Error.NO_ERROR, connectionError: undefined, connectionGone: false });

/**
 * One HTTP/2 connection to an upstream, written by hand on a `net.Socket` (or a `tls.TLSSocket`
 * negotiating h2 by ALPN): the client preface and SETTINGS exchange, many concurrent streams
 * within the peer's MAX_CONCURRENT_STREAMS (the rest wait in order), flow control both ways
 * (send windows per stream and connection; receive windows given back as the gateway reads),
 * PING answers and keepalive pings, GOAWAY (refused streams go back to their exchanges, which
 * retry them on a new connection), RST_STREAM both ways, and connection errors answered with
 * GOAWAY. Frames of every stream are collected and written once per event-loop turn, so calls
 * started together share one socket write.
 *
 * Why not node:http2: a profile of the gateway under load shows its per-stream machinery (stream
 * objects, header object conversion both ways, async resources, emitters) as the largest single
 * cost of a request; this client does what a gRPC call needs and nothing else.
 */
export class WireConnection implements FrameSink {
  private readonly socket: Socket;
  private readonly reader: FrameReader;
  private readonly decoder = new HpackDecoder(HEADER_TABLE_SIZE, MAX_HEADER_LIST_SIZE);
  readonly encoder: RequestHeaderEncoder;
  private readonly streams = new StreamTable<WireStream>();
  /** Streams waiting for a free slot under the peer's MAX_CONCURRENT_STREAMS, in order. */
  private readonly queued: WireStream[] = [];
  /** Streams with request bytes waiting for flow-control window. */
  private readonly blocked = new Set<WireStream>();
  private nextStreamId: number;
  private peerMaxStreams = STREAMS_BEFORE_SETTINGS;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private sendWindow = DEFAULT_WINDOW;
  private receiveWindow = CONNECTION_WINDOW;
  /** A header block being collected over CONTINUATION frames. */
  private headerBlock: { streamId: number; endStream: boolean; parts: Buffer[]; size: number } | undefined;
  private readonly outbox: FrameOutbox;
  private handshaken = false;
  /** The socket connected (TLS: its handshake completed), so bytes written may have reached the upstream. */
  private connected = false;
  /** The upstream acknowledged our SETTINGS. */
  private settingsAcked = false;
  /** No new streams (GOAWAY received, ids used up, failing). */
  private retired = false;
  private destroyed = false;
  private connectionError: Error | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingWatchdog: NodeJS.Timeout | undefined;

  constructor(
    address: string,
    private readonly owner: ConnectionOwner,
    private readonly options: WireConnectionOptions,
  ) {
    const { host, port } = splitAddress(address);
    const tls = options.tls;
    this.nextStreamId = options.firstStreamId ?? 1;
    this.encoder = new RequestHeaderEncoder(tls ? "https" : "http", tls?.serverName ?? address, USER_AGENT);
    this.reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE, this);
    this.socket = tls
      ? tlsConnect({
          host,
          port,
          ALPNProtocols: ["h2"],
          ...(tls.ca !== undefined && { ca: tls.ca }),
          ...(tls.cert !== undefined && { cert: tls.cert }),
          ...(tls.key !== undefined && { key: tls.key }),
          // The certificate is verified against `servername` (SNI); without it, against the host.
          servername: tls.serverName ?? host,
        })
      : netConnect({ host, port });
    const socket = this.socket;
    this.outbox = new FrameOutbox(socket);
    socket.setNoDelay(true);
    // An idle connection must not keep the process alive; a call in flight has its deadline timer.
    socket.unref();
    if (tls) {
      socket.once("secureConnect", () => {
        this.connected = true;
        this.checkAlpn(socket as TLSSocket);
      });
    } else socket.once("connect", () => void (this.connected = true));
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error: Error) => void (this.connectionError ??= error));
    socket.on("close", () => this.teardown());
    // The handshake is the upstream's SETTINGS and its ACK of ours, both within the connect timeout.
    // On Node's timers even when a call's deadline runs on injected ones: a test advancing its
    // clock right after a request arrives would otherwise fire it before the ACK's bytes are read.
    this.connectTimer = setTimeout(() => this.handshakeTimedOut(), options.connectTimeoutMs);
    this.connectTimer.unref();
    // The preface and our SETTINGS go at once (the socket holds them until it connects).
    this.queue(CLIENT_PREFACE);
    this.queue(
      settingsFrame([
        [Setting.ENABLE_PUSH, 0],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
        [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_SIZE],
      ]),
    );
    this.queue(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    if (options.keepaliveTimeMs !== undefined) this.keepAlive(options.keepaliveTimeMs);
  }

  /** Whether new streams may be opened here. */
  get usable(): boolean {
    return !this.retired && !this.destroyed;
  }

  /** Opens a stream for `exchange` (started now, or once a slot under the peer's limit frees up). */
  open(exchange: GrpcExchange, head: RequestHead): WireStream {
    const stream = new WireStream(this, exchange, this.headerBlockOf(head));
    if (this.queued.length === 0 && this.streams.size < this.peerMaxStreams) this.start(stream);
    else this.queued.push(stream);
    return stream;
  }

  /** Ends the connection: streams in flight fail, as the connection is gone. */
  destroy(error?: Error): void {
    if (this.destroyed) return;
    if (error !== undefined) this.connectionError ??= error;
    this.destroyed = true;
    this.socket.destroy();
    // 'close' follows and tears down; the owner learns at once that nothing new goes here.
    this.retire();
  }

  // --- Streams -------------------------------------------------------------------------------

  private headerBlockOf(head: RequestHead): Buffer {
    const fields: string[] = [];
    if (head.timeout !== undefined) fields.push("grpc-timeout", head.timeout);
    for (const [key, value] of head.metadata) {
      const text = metadataFieldValue(key, value);
      if (text !== undefined) fields.push(key, text);
    }
    return this.encoder.encode(head.path, fields, FRAME_HEADER_BYTES);
  }

  /** Gives `stream` its id and sends its HEADERS (and whatever it wrote meanwhile). */
  private start(stream: WireStream): void {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    // The last id: later calls need a new connection (RFC 9113, 5.1.1).
    if (this.nextStreamId > MAX_STREAM_ID) this.retire();
    stream.id = id;
    stream.sendWindow = this.peerInitialWindow;
    this.streams.add(stream);
    this.writeHeaders(id, stream.headerBlock, stream.endPending && stream.outboundBytes === 0);
    stream.headerBlock = EMPTY;
    if (stream.endPending && stream.outboundBytes === 0) stream.localEnded();
    else this.sendData(stream);
  }

  /** HEADERS (+ CONTINUATION) frames for a block encoded after FRAME_HEADER_BYTES of headroom. */
  private writeHeaders(id: number, framed: Buffer, endStream: boolean): void {
    for (const bytes of headerFrames(id, framed, endStream, this.peerMaxFrameSize)) this.queue(bytes);
  }

  /** Sends what `stream` has to send as far as the flow-control windows allow. */
  sendData(stream: WireStream): void {
    if (stream.id === 0 || stream.closed) return;
    const outbound = stream.outbound;
    while (outbound.length > 0) {
      const room = Math.min(stream.sendWindow, this.sendWindow, this.peerMaxFrameSize);
      if (room <= 0) {
        this.blocked.add(stream);
        break;
      }
      const chunk = outbound[0];
      const size = Math.min(room, chunk.length);
      const last = size === chunk.length && outbound.length === 1;
      const endStream = last && stream.endPending;
      if (size === chunk.length) outbound.shift();
      else outbound[0] = chunk.subarray(size);
      stream.outboundBytes -= size;
      stream.sendWindow -= size;
      this.sendWindow -= size;
      this.queue(frameHeader(size, FrameType.DATA, endStream ? Flag.END_STREAM : 0, stream.id));
      if (size > 0) this.queue(size === chunk.length ? chunk : chunk.subarray(0, size));
      if (endStream) return stream.localEnded();
    }
    if (outbound.length === 0) {
      this.blocked.delete(stream);
      if (stream.endPending && !stream.localClosed) {
        this.queue(frameHeader(0, FrameType.DATA, Flag.END_STREAM, stream.id));
        stream.localEnded();
        return;
      }
    }
    stream.maybeDrained();
  }

  resetStream(stream: WireStream, code: number): void {
    if (stream.id !== 0) this.queue(rstStreamFrame(stream.id, code));
  }

  /** The stream is closed: its slot frees up for a queued one. */
  forget(stream: WireStream): void {
    if (stream.id === 0) {
      const index = this.queued.indexOf(stream);
      if (index >= 0) this.queued.splice(index, 1);
    } else {
      this.streams.delete(stream.id);
    }
    this.blocked.delete(stream);
    this.startQueued();
    if (this.retired && this.streams.size === 0 && this.queued.length === 0 && !this.destroyed) this.closeGracefully();
  }

  /** Gives receive window back for `bytes` the stream's reader took. */
  windowUpdate(streamId: number, bytes: number): void {
    this.queue(windowUpdateFrame(streamId, bytes));
  }

  private startQueued(): void {
    while (this.queued.length > 0 && this.streams.size < this.peerMaxStreams && !this.retired) this.start(this.queued.shift() as WireStream);
  }

  // --- Writing -------------------------------------------------------------------------------

  /** Queues bytes for the next flush (once per event-loop turn, see frame-outbox.ts). */
  queue(bytes: Buffer): void {
    if (!this.destroyed) this.outbox.queue(bytes);
  }

  // --- Reading -------------------------------------------------------------------------------

  private receive(chunk: Buffer): void {
    if (!this.reader.push(chunk) && !this.destroyed) this.fail(H2Error.FRAME_SIZE_ERROR, `a frame larger than ${DEFAULT_MAX_FRAME_SIZE} bytes`);
  }

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.destroyed) return;
    if (this.headerBlock !== undefined && (type !== FrameType.CONTINUATION || streamId !== this.headerBlock.streamId)) {
      return this.fail(H2Error.PROTOCOL_ERROR, "a frame inside a header block");
    }
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, streamId, payload);
      case FrameType.PRIORITY:
        if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, "PRIORITY on stream 0");
        if (payload.length !== 5) this.streamError(streamId, H2Error.FRAME_SIZE_ERROR, "a PRIORITY frame of the wrong size");
        return;
      case FrameType.RST_STREAM:
        return this.onRstStream(streamId, payload);
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PUSH_PROMISE:
        return this.fail(H2Error.PROTOCOL_ERROR, "PUSH_PROMISE with push disabled");
      case FrameType.PING:
        return this.onPing(flags, streamId, payload);
      case FrameType.GOAWAY:
        return this.onGoaway(streamId, payload);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      default:
      // Unknown frame types are ignored (RFC 9113, 4.1).
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, "DATA on stream 0");
    const length = payload.length;
    if (length > this.receiveWindow) return this.fail(H2Error.FLOW_CONTROL_ERROR, "DATA beyond the connection's flow-control window");
    this.receiveWindow -= length;
    if (this.receiveWindow <= CONNECTION_WINDOW / 2) {
      this.queue(windowUpdateFrame(0, CONNECTION_WINDOW - this.receiveWindow));
      this.receiveWindow = CONNECTION_WINDOW;
    }
    const data = unpad(flags, payload, 0);
    if (data === undefined) return this.fail(H2Error.PROTOCOL_ERROR, "DATA with more padding than payload");
    const stream = this.streamFor(streamId);
    if (stream === undefined) return;
    if (stream.remoteClosed) return this.streamError(streamId, H2Error.STREAM_CLOSED, "DATA after the end of the stream");
    if (!stream.responded) return this.streamError(streamId, H2Error.PROTOCOL_ERROR, "the upstream sent DATA before response headers");
    if (length > stream.receiveWindow) return this.streamError(streamId, H2Error.FLOW_CONTROL_ERROR, "the upstream sent DATA beyond the stream's flow-control window");
    stream.receiveWindow -= length;
    // Padding is consumed as it arrives.
    if (length > data.length) stream.consumed(length - data.length);
    if (data.length > 0) stream.inbound(data);
    if (flags & Flag.END_STREAM) stream.inbound(REMOTE_END);
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, "HEADERS on stream 0");
    const fragment = unpad(flags, payload, flags & Flag.PRIORITY ? 5 : 0);
    if (fragment === undefined) return this.fail(H2Error.PROTOCOL_ERROR, "HEADERS with more padding than payload");
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (flags & Flag.END_HEADERS) return this.onHeaderBlock(streamId, endStream, fragment);
    if (fragment.length > MAX_HEADER_BLOCK_BYTES) return this.fail(H2Error.ENHANCE_YOUR_CALM, "a header block too large");
    this.headerBlock = { streamId, endStream, parts: [Buffer.from(fragment)], size: fragment.length };
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.headerBlock;
    if (block === undefined) return this.fail(H2Error.PROTOCOL_ERROR, "CONTINUATION without HEADERS");
    block.size += payload.length;
    if (block.size > MAX_HEADER_BLOCK_BYTES) return this.fail(H2Error.ENHANCE_YOUR_CALM, "a header block too large");
    block.parts.push(Buffer.from(payload));
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.headerBlock = undefined;
    this.onHeaderBlock(streamId, block.endStream, Buffer.concat(block.parts, block.size));
  }

  private onHeaderBlock(streamId: number, endStream: boolean, block: Buffer): void {
    // Decoded even for a stream that is gone: the dynamic table must stay in step.
    const decoded = this.decoder.decode(block);
    if (decoded === undefined) return this.fail(H2Error.COMPRESSION_ERROR, this.decoder.failure);
    const stream = this.streamFor(streamId);
    if (stream === undefined) return;
    if (stream.remoteClosed) return this.streamError(streamId, H2Error.STREAM_CLOSED, "HEADERS after the end of the stream");
    if (decoded.tooLarge) return this.streamError(streamId, H2Error.ENHANCE_YOUR_CALM, `the upstream sent a header list larger than ${MAX_HEADER_LIST_SIZE} bytes`);
    const headers = decoded.headers;
    // A response carries only :status, trailers no pseudo-header at all (RFC 9113, 8.3.2 and 8.1).
    const malformed = decoded.malformed ?? pseudoHeaderBesides(headers, stream.responded ? undefined : ":status");
    if (malformed !== undefined) return this.streamError(streamId, H2Error.PROTOCOL_ERROR, `the upstream sent a malformed header block: ${malformed}`);
    if (!stream.responded) {
      const status = headers[":status"];
      if (typeof status !== "string" || !/^[1-9]\d\d$/.test(status)) return this.streamError(streamId, H2Error.PROTOCOL_ERROR, "the upstream sent response headers without a valid :status");
      // Informational (1xx) headers precede the response (RFC 9113, 8.1).
      if (status.charCodeAt(0) === 0x31 /* "1" */ && !endStream) return;
      stream.responded = true;
      stream.exchange.handleResponse(headers, endStream);
    } else {
      if (!endStream) return this.streamError(streamId, H2Error.PROTOCOL_ERROR, "the upstream sent trailers without END_STREAM");
      // At once, as node:http2 does: the trailers are readable while messages wait to be read; the outcome comes with the end.
      stream.exchange.handleTrailers(headers);
    }
    if (endStream) stream.inbound(REMOTE_END);
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(H2Error.FRAME_SIZE_ERROR, "an RST_STREAM frame of the wrong size");
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    this.streamFor(streamId)?.close({ rstCode: payload.readUInt32BE(0), connectionError: undefined, connectionGone: false });
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (payload.length !== 0) return this.fail(H2Error.FRAME_SIZE_ERROR, "a SETTINGS ACK with a payload");
      this.settingsAcked = true;
      if (this.handshaken) clearTimeout(this.connectTimer);
      return;
    }
    if (payload.length % 6 !== 0) return this.fail(H2Error.FRAME_SIZE_ERROR, "a SETTINGS frame of the wrong size");
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      switch (id) {
        case Setting.ENABLE_PUSH:
          if (value > 1) return this.fail(H2Error.PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH not 0 or 1");
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          this.peerMaxStreams = value;
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) return this.fail(H2Error.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
          // The change applies to every open stream's window (RFC 9113, 6.9.2); it may go negative.
          const delta = value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          for (const stream of this.streams.values()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > MAX_WINDOW) return this.fail(H2Error.FLOW_CONTROL_ERROR, "a stream window above 2^31-1");
          }
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_ALLOWED_FRAME_SIZE) return this.fail(H2Error.PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
          this.peerMaxFrameSize = value;
          break;
        default:
        // HEADER_TABLE_SIZE bounds a dynamic table our encoder does not use; others are advisory or unknown.
      }
    }
    this.queue(SETTINGS_ACK);
    if (!this.handshaken) {
      this.handshaken = true;
      if (this.settingsAcked) clearTimeout(this.connectTimer);
      this.owner.handshake(this, undefined);
    }
    this.startQueued();
    this.sendBlocked();
  }

  private onPing(flags: number, streamId: number, payload: Buffer): void {
    if (payload.length !== 8) return this.fail(H2Error.FRAME_SIZE_ERROR, "a PING frame of the wrong size");
    if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR, "PING on a stream");
    if (flags & Flag.ACK) {
      clearTimeout(this.pingWatchdog);
      this.pingWatchdog = undefined;
    } else {
      this.queue(pingFrame(true, Buffer.from(payload)));
    }
  }

  private onGoaway(streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (payload.length < 8) return this.fail(H2Error.FRAME_SIZE_ERROR, "a GOAWAY frame too short");
    const lastStreamId = payload.readUInt32BE(0) & 0x7fffffff;
    this.retire();
    // Streams above the last id were not processed (RFC 9113, 6.8): refused, so their calls may go again elsewhere.
    const refused: StreamEnd = { rstCode: H2Error.REFUSED_STREAM, connectionError: undefined, connectionGone: false };
    for (const stream of this.streams.values()) if (stream.id > lastStreamId) stream.close(refused);
    for (const stream of this.queued.splice(0)) stream.close(refused);
    if (this.streams.size === 0) this.closeGracefully();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(H2Error.FRAME_SIZE_ERROR, "a WINDOW_UPDATE frame of the wrong size");
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) return this.fail(H2Error.PROTOCOL_ERROR, "a WINDOW_UPDATE of 0");
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) return this.fail(H2Error.FLOW_CONTROL_ERROR, "a connection window above 2^31-1");
      return this.sendBlocked();
    }
    const stream = this.streamFor(streamId);
    if (stream === undefined) return;
    if (increment === 0) return this.streamError(streamId, H2Error.PROTOCOL_ERROR, "the upstream sent a WINDOW_UPDATE of 0");
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.streamError(streamId, H2Error.FLOW_CONTROL_ERROR, "the upstream overflowed the stream's flow-control window");
    this.sendData(stream);
  }

  private sendBlocked(): void {
    for (const stream of [...this.blocked]) {
      if (this.sendWindow <= 0) return;
      this.sendData(stream);
    }
  }

  /** The open stream `streamId`, or undefined for one already closed; a connection error for one never opened. */
  private streamFor(streamId: number): WireStream | undefined {
    const stream = this.streams.get(streamId);
    if (stream === undefined && (streamId % 2 === 0 || streamId >= this.nextStreamId)) this.fail(H2Error.PROTOCOL_ERROR, `a frame on stream ${streamId}, which the client never opened`);
    return stream;
  }

  /** A stream error (RFC 9113, 5.4.2): RST_STREAM to the upstream, the call fails with what it did. */
  private streamError(streamId: number, code: number, violation: string): void {
    const stream = this.streams.get(streamId);
    this.queue(rstStreamFrame(streamId, code));
    stream?.close({ rstCode: code, connectionError: undefined, connectionGone: false, violation });
  }

  /** A connection error (RFC 9113, 5.4.1): GOAWAY with `code`, then the connection ends and its calls fail. */
  private fail(code: number, what: string): void {
    if (this.destroyed) return;
    this.reader.stop();
    const error = new Error(`the upstream broke HTTP/2 (${rstCodeName(code)}): ${what}`);
    this.connectionError ??= error;
    this.retire();
    // The GOAWAY goes out after what is queued, then the socket closes.
    this.outbox.end(goawayFrame(0, code));
    this.destroyed = true;
    setImmediate(() => this.socket.destroy());
  }

  // --- Lifecycle -----------------------------------------------------------------------------

  /**
   * The connect timeout passed: without the upstream's SETTINGS the attempt failed; with them but
   * without the ACK of ours, the upstream broke the handshake (RFC 9113, 6.5.3: SETTINGS_TIMEOUT).
   */
  private handshakeTimedOut(): void {
    const ms = this.options.connectTimeoutMs;
    if (!this.handshaken) this.destroy(new Error(`no HTTP/2 handshake within ${ms} ms`));
    else if (!this.settingsAcked) this.fail(H2Error.SETTINGS_TIMEOUT, `no SETTINGS ACK within ${ms} ms`);
  }

  private checkAlpn(socket: TLSSocket): void {
    if (socket.alpnProtocol !== "h2") this.destroy(new Error(`the upstream did not negotiate h2 by ALPN (got ${socket.alpnProtocol || "none"})`));
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.owner.retired(this);
  }

  private closeGracefully(): void {
    this.destroyed = true;
    this.outbox.end();
  }

  /** The socket closed: every stream still open fails with the connection. */
  private teardown(): void {
    this.destroyed = true;
    this.outbox.discard();
    this.reader.stop();
    clearTimeout(this.connectTimer);
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.pingWatchdog);
    this.retire();
    this.owner.closed(this);
    if (!this.handshaken) {
      this.handshaken = true;
      this.owner.handshake(this, this.connectionError?.message ?? "closed before the HTTP/2 handshake");
    }
    const end: StreamEnd = { rstCode: H2Error.CANCEL, connectionError: this.connectionError, connectionGone: true, unsent: !this.connected };
    // A stream still waiting for a slot never had a byte written.
    const queuedEnd: StreamEnd = { ...end, unsent: true };
    for (const stream of this.queued.splice(0)) stream.close(queuedEnd);
    for (const stream of this.streams.values()) stream.close(end);
  }

  private keepAlive(intervalMs: number): void {
    const timeoutMs = this.options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    this.keepaliveTimer = setInterval(() => {
      if (this.destroyed || this.pingWatchdog !== undefined) return;
      this.pingWatchdog = setTimeout(() => this.destroy(new Error(`keepalive ping unanswered for ${timeoutMs} ms`)), timeoutMs);
      this.pingWatchdog.unref();
      this.queue(pingFrame(false, Buffer.alloc(8)));
    }, intervalMs);
    this.keepaliveTimer.unref();
  }
}

const EMPTY = Buffer.alloc(0);

/** `host:port` (or `[v6]:port`) as a host and a port. */
function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  return { host: host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host, port: Number(address.slice(colon + 1)) };
}

/** One gRPC call's HTTP/2 stream on a `WireConnection`. */
export class WireStream implements ExchangeStream {
  /** 0 until the stream is started (it may wait for a slot under the peer's limit). */
  id = 0;
  sendWindow = 0;
  receiveWindow = STREAM_WINDOW;
  /** Bytes the reader took since the last WINDOW_UPDATE. */
  private unacknowledged = 0;
  /** Request bytes not yet sent. */
  readonly outbound: Buffer[] = [];
  outboundBytes = 0;
  /** END_STREAM goes after the outbound bytes. */
  endPending = false;
  localClosed = false;
  remoteClosed = false;
  closed = false;
  /** The response headers came (later HEADERS are trailers). */
  responded = false;
  private paused = false;
  /** Response events held back while paused, in order. */
  private inbox: Inbound[] | undefined;
  private needDrain = false;

  constructor(
    private readonly connection: WireConnection,
    readonly exchange: GrpcExchange,
    /** The encoded request headers (with frame-header headroom), until the stream starts. */
    public headerBlock: Buffer,
  ) {}

  write(bytes: Buffer): boolean {
    if (this.closed || this.endPending) return false;
    this.outbound.push(bytes);
    this.outboundBytes += bytes.length;
    this.connection.sendData(this);
    if (this.outboundBytes < WRITE_HIGH_WATER) return true;
    this.needDrain = true;
    return false;
  }

  end(bytes?: Buffer): void {
    if (this.closed || this.endPending) return;
    if (bytes !== undefined) {
      this.outbound.push(bytes);
      this.outboundBytes += bytes.length;
    }
    this.endPending = true;
    this.connection.sendData(this);
  }

  reset(code: number): void {
    if (this.closed) return;
    this.connection.resetStream(this, code);
    this.close({ rstCode: code, connectionError: undefined, connectionGone: false });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const inbox = this.inbox;
    if (inbox === undefined) return;
    while (inbox.length > 0 && !this.paused && !this.closed) this.deliver(inbox.shift() as Inbound);
    if (inbox.length === 0) this.inbox = undefined;
  }

  /** A response event from the connection: delivered now, or held while the reader is paused. */
  inbound(event: Inbound): void {
    if (event === REMOTE_END) this.remoteClosed = true;
    if (this.paused || this.inbox !== undefined) (this.inbox ??= []).push(event);
    else this.deliver(event);
  }

  private deliver(event: Inbound): void {
    if (event === REMOTE_END) return this.remoteEnded();
    this.exchange.handleData(event);
    this.consumed(event.length);
  }

  /** The reader took `bytes`: the window goes back to the upstream in batches of half of it. */
  consumed(bytes: number): void {
    this.unacknowledged += bytes;
    if (this.unacknowledged < STREAM_WINDOW / 2 || this.remoteClosed || this.closed) return;
    this.receiveWindow += this.unacknowledged;
    this.connection.windowUpdate(this.id, this.unacknowledged);
    this.unacknowledged = 0;
  }

  private remoteEnded(): void {
    if (this.localClosed) return this.close(CLOSED);
    // The upstream answered before the request ended: the exchange decides (and resets the rest).
    this.exchange.handleRemoteEnd();
  }

  /** END_STREAM went out. */
  localEnded(): void {
    this.localClosed = true;
    this.outbound.length = 0;
    if (this.remoteClosed && (this.inbox === undefined || this.inbox.length === 0)) this.close(CLOSED);
  }

  maybeDrained(): void {
    if (!this.needDrain || this.outboundBytes >= WRITE_HIGH_WATER) return;
    this.needDrain = false;
    this.exchange.handleDrain();
  }

  close(end: StreamEnd): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox = undefined;
    this.connection.forget(this);
    this.exchange.handleClose(end);
  }
}

/** A pseudo-header of `headers` other than `allowed`, described, or undefined. */
function pseudoHeaderBesides(headers: IncomingHttpHeaders, allowed: string | undefined): string | undefined {
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a /* ":" */ && name !== allowed) return `the pseudo-header ${name} in a ${allowed === undefined ? "trailer block" : "response"}`;
  }
  return undefined;
}

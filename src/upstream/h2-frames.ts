/**
 * HTTP/2 framing (RFC 9113, 4 and 6) for Protogate's own HTTP/2 client (and the bench's replay
 * backend, its server side): the frame types, flags, settings and error codes it uses, an
 * incremental frame reader and the frame writers.
 */

export const FRAME_HEADER_BYTES = 9;

export const FrameType = Object.freeze({
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
});

export const Flag = Object.freeze({
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
});

export const Setting = Object.freeze({
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
});

/** HTTP/2 error codes (RFC 9113, 7). */
export const H2Error = Object.freeze({
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
});

/** The smallest SETTINGS_MAX_FRAME_SIZE, and every peer's until it says otherwise. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_ALLOWED_FRAME_SIZE = 2 ** 24 - 1;
/** The largest flow-control window (RFC 9113, 6.9.1). */
export const MAX_WINDOW = 2 ** 31 - 1;
export const DEFAULT_WINDOW = 65_535;
export const MAX_STREAM_ID = 2 ** 31 - 1;

export const CLIENT_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Receives each complete frame. `payload` is only valid during the call (it may view a chunk). */
export interface FrameSink {
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void;
}

/**
 * Splits the bytes of a connection into frames, whatever the chunk boundaries. A frame larger
 * than `maxFrameSize` (the SETTINGS_MAX_FRAME_SIZE we advertised) stops it: the connection must
 * then fail with FRAME_SIZE_ERROR (RFC 9113, 4.2). Payloads are views into the chunk when a
 * frame lies within one, copied together otherwise.
 */
export class FrameReader {
  private header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** The frame whose payload is being collected (payload length -1: reading a header). */
  private length = -1;
  private type = 0;
  private flags = 0;
  private streamId = 0;
  private parts: Buffer[] = [];
  private collected = 0;
  private failed = false;

  constructor(
    private readonly maxFrameSize: number,
    private readonly sink: FrameSink,
  ) {}

  /** Feeds one chunk; returns false (for good) once a frame was too large. */
  push(chunk: Buffer): boolean {
    if (this.failed) return false;
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      if (this.length < 0) {
        if (this.headerFill === 0 && end - offset >= FRAME_HEADER_BYTES) {
          this.readHeader(chunk, offset);
          offset += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, end - offset);
          chunk.copy(this.header, this.headerFill, offset, offset + take);
          this.headerFill += take;
          offset += take;
          if (this.headerFill < FRAME_HEADER_BYTES) return true;
          this.headerFill = 0;
          this.readHeader(this.header, 0);
        }
        if (this.length > this.maxFrameSize) {
          this.failed = true;
          return false;
        }
        if (end - offset >= this.length) {
          // The common case: the whole payload is in this chunk.
          const payload = chunk.subarray(offset, offset + this.length);
          offset += this.length;
          this.emit(payload);
          if (this.failed) return false;
          continue;
        }
      }
      const take = Math.min(this.length - this.collected, end - offset);
      this.parts.push(chunk.subarray(offset, offset + take));
      this.collected += take;
      offset += take;
      if (this.collected === this.length) {
        const parts = this.parts;
        this.parts = [];
        this.collected = 0;
        this.emit(parts.length === 1 ? parts[0] : Buffer.concat(parts));
        if (this.failed) return false;
      }
    }
    return true;
  }

  /** Stops reading: nothing more is delivered (a connection that failed). */
  stop(): void {
    this.failed = true;
  }

  private readHeader(bytes: Buffer, at: number): void {
    this.length = (bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2];
    this.type = bytes[at + 3];
    this.flags = bytes[at + 4];
    this.streamId = bytes.readUInt32BE(at + 5) & 0x7fffffff;
  }

  private emit(payload: Buffer): void {
    const { type, flags, streamId } = this;
    this.length = -1;
    this.sink.onFrame(type, flags, streamId, payload);
  }
}

/**
 * The payload of a DATA or HEADERS frame without its padding (and `skip` more bytes after the
 * pad length: HEADERS' priority fields); undefined when the padding does not fit.
 */
export function unpad(flags: number, payload: Buffer, skip: number): Buffer | undefined {
  if ((flags & Flag.PADDED) === 0) {
    if (skip > payload.length) return undefined;
    return skip === 0 ? payload : payload.subarray(skip);
  }
  if (payload.length < 1 + skip) return undefined;
  const padLength = payload[0];
  const end = payload.length - padLength;
  if (end < 1 + skip) return undefined;
  return payload.subarray(1 + skip, end);
}

/** Writes a frame header at `at` of `target`. */
export function writeFrameHeader(target: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  target[at] = length >>> 16;
  target[at + 1] = (length >>> 8) & 0xff;
  target[at + 2] = length & 0xff;
  target[at + 3] = type;
  target[at + 4] = flags;
  target.writeUInt32BE(streamId, at + 5);
}

/** A frame header alone (the payload goes separately, unmoved). */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(header, 0, length, type, flags, streamId);
  return header;
}

/**
 * The frames of a header block encoded after FRAME_HEADER_BYTES of headroom in `framed`: one
 * HEADERS frame (its header written into the headroom, nothing copied) when the block fits in
 * `maxFrameSize`, else HEADERS and CONTINUATION frames (RFC 9113, 6.10), END_HEADERS on the last.
 */
export function headerFrames(streamId: number, framed: Buffer, endStream: boolean, maxFrameSize: number): Buffer[] {
  const blockLength = framed.length - FRAME_HEADER_BYTES;
  const flags = endStream ? Flag.END_STREAM : 0;
  if (blockLength <= maxFrameSize) {
    writeFrameHeader(framed, 0, blockLength, FrameType.HEADERS, flags | Flag.END_HEADERS, streamId);
    return [framed];
  }
  const frames: Buffer[] = [];
  const block = framed.subarray(FRAME_HEADER_BYTES);
  for (let offset = 0; offset < block.length; offset += maxFrameSize) {
    const fragment = block.subarray(offset, offset + maxFrameSize);
    const last = offset + fragment.length >= block.length;
    const type = offset === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
    frames.push(frameHeader(fragment.length, type, (offset === 0 ? flags : 0) | (last ? Flag.END_HEADERS : 0), streamId), fragment);
  }
  return frames;
}

/** A frame with its payload, in one buffer. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array): Buffer {
  const bytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength);
  writeFrameHeader(bytes, 0, payload.byteLength, type, flags, streamId);
  bytes.set(payload, FRAME_HEADER_BYTES);
  return bytes;
}

export function settingsFrame(settings: ReadonlyArray<readonly [id: number, value: number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export const SETTINGS_ACK = frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0));

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const bytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(bytes, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  bytes.writeUInt32BE(increment, FRAME_HEADER_BYTES);
  return bytes;
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const bytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(bytes, 0, 4, FrameType.RST_STREAM, 0, streamId);
  bytes.writeUInt32BE(code, FRAME_HEADER_BYTES);
  return bytes;
}

export function pingFrame(ack: boolean, data: Uint8Array): Buffer {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, data);
}

export function goawayFrame(lastStreamId: number, code: number): Buffer {
  const bytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 8);
  writeFrameHeader(bytes, 0, 8, FrameType.GOAWAY, 0, 0);
  bytes.writeUInt32BE(lastStreamId, FRAME_HEADER_BYTES);
  bytes.writeUInt32BE(code, FRAME_HEADER_BYTES + 4);
  return bytes;
}

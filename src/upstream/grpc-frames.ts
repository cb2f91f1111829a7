/**
 * gRPC's length-prefixed messages (gRPC over HTTP/2, "Length-Prefixed-Message"): a 1-byte
 * compressed flag, a 4-byte big-endian length, then the message. HTTP/2 DATA frames may split
 * them anywhere, so the decoder keeps the state of a message across chunks.
 */

const PREFIX_BYTES = 5;
const EMPTY = Buffer.alloc(0);

/** `message` with its length prefix (uncompressed), as one buffer: one DATA frame for small messages. */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, PREFIX_BYTES);
  return frame;
}

/** Why decoding stopped. Detected from the prefix alone, so an oversized message is never buffered. */
export type FrameProblem =
  | { readonly kind: "compressed" }
  | { readonly kind: "badFlag"; readonly flag: number }
  | { readonly kind: "tooLarge"; readonly length: number; readonly limit: number };

/** Receives each decoded message. */
export interface MessageSink {
  onMessage(message: Buffer): void;
}

/**
 * Decodes length-prefixed messages from chunks split at arbitrary boundaries. A compressed flag
 * (Protogate never offers compression), an unknown flag or a length above `limit` stops it for
 * good. Never throws on any input; messages are views into the chunks when they fit in one.
 */
export class GrpcMessageDecoder {
  private prefix: Buffer | undefined;
  private prefixFill = 0;
  /** Bytes of the current message still to come; -1 while reading a prefix. */
  private remaining = -1;
  private parts: Buffer[] = [];
  private problem: FrameProblem | undefined;

  constructor(
    private readonly limit: number,
    private readonly sink: MessageSink,
  ) {}

  /** Whether the bytes so far end inside a prefix or a message (a truncated stream). */
  get partial(): boolean {
    return this.problem === undefined && (this.prefixFill > 0 || this.remaining >= 0);
  }

  /** Feeds one chunk; hands completed messages to the sink; returns the problem that stopped decoding, if any. */
  push(chunk: Buffer): FrameProblem | undefined {
    if (this.problem !== undefined) return this.problem;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining < 0) {
        let flag: number;
        let length: number;
        if (this.prefixFill === 0 && chunk.length - offset >= PREFIX_BYTES) {
          flag = chunk[offset];
          length = chunk.readUInt32BE(offset + 1);
          offset += PREFIX_BYTES;
        } else {
          const prefix = (this.prefix ??= Buffer.alloc(PREFIX_BYTES));
          const take = Math.min(PREFIX_BYTES - this.prefixFill, chunk.length - offset);
          chunk.copy(prefix, this.prefixFill, offset, offset + take);
          this.prefixFill += take;
          offset += take;
          if (this.prefixFill < PREFIX_BYTES) return undefined;
          this.prefixFill = 0;
          flag = prefix[0];
          length = prefix.readUInt32BE(1);
        }
        const problem = checkPrefix(flag, length, this.limit);
        if (problem !== undefined) {
          this.problem = problem;
          return problem;
        }
        if (chunk.length - offset >= length) {
          // The common case: the whole message is in this chunk.
          this.sink.onMessage(length === 0 ? EMPTY : chunk.subarray(offset, offset + length));
          offset += length;
          continue;
        }
        this.remaining = length;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      this.parts.push(chunk.subarray(offset, offset + take));
      this.remaining -= take;
      offset += take;
      if (this.remaining === 0) {
        const parts = this.parts;
        this.parts = [];
        this.remaining = -1;
        this.sink.onMessage(parts.length === 1 ? parts[0] : Buffer.concat(parts));
      }
    }
    return undefined;
  }
}

function checkPrefix(flag: number, length: number, limit: number): FrameProblem | undefined {
  if (flag === 1) return { kind: "compressed" };
  if (flag !== 0) return { kind: "badFlag", flag };
  if (length > limit) return { kind: "tooLarge", length, limit };
  return undefined;
}

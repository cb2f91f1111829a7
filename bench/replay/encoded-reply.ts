import type { GrpcCode } from "../../src/errors/grpc-code.js";
import { frameMessage } from "../../src/upstream/grpc-frames.js";
import { metadataFieldValue } from "../../src/upstream/grpc-wire-metadata.js";
import { encodeGrpcMessage } from "../../src/upstream/grpc-wire-status.js";
import { DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_BYTES, Flag, FrameType, headerFrames, writeFrameHeader } from "../../src/upstream/h2-frames.js";
import { encodeHeaderBlock } from "../../src/upstream/hpack.js";
import type { MetadataEntries } from "../../src/upstream/upstream.js";

/** What a unary call answered: a message, or a status other than OK; with the trailer metadata either way. */
export type Reply =
  | { readonly kind: "message"; readonly message: Uint8Array; readonly trailers: MetadataEntries }
  | { readonly kind: "status"; readonly code: GrpcCode; readonly message: string; readonly trailers: MetadataEntries };

/**
 * A reply in wire form, encoded once and sent many times. `frames` is the whole response (HEADERS,
 * DATA, trailers HEADERS; or one trailers-only HEADERS for a status), sendable as is on any stream
 * once the stream ids at `idOffsets` are written, when every frame fits the 16 KB every peer
 * accepts (`oneCopy`) and the DATA fits the flow-control windows; the parts serve otherwise.
 */
export interface EncodedReply {
  readonly frames: Buffer;
  readonly idOffsets: readonly number[];
  readonly oneCopy: boolean;
  /** The length-prefixed message (the DATA payload); empty for a status. */
  readonly data: Buffer;
  /** The response header fields (`:status`, `content-type`), flattened name, value pairs. */
  readonly headerFields: readonly string[];
  /** The trailer fields: `grpc-status`, `grpc-message` when not OK, then the trailer metadata. */
  readonly trailerFields: readonly string[];
}

// The content type grpc-js servers (the demo) send.
const RESPONSE_HEADERS: readonly string[] = [":status", "200", "content-type", "application/grpc+proto"];
const EMPTY = Buffer.alloc(0);

export function encodeReply(reply: Reply): EncodedReply {
  const trailerFields = reply.kind === "message" ? ["grpc-status", "0"] : ["grpc-status", String(reply.code), "grpc-message", encodeGrpcMessage(reply.message)];
  for (const [key, value] of reply.trailers) {
    const text = metadataFieldValue(key, value);
    if (text !== undefined) trailerFields.push(key, text);
  }
  const data = reply.kind === "message" ? frameMessage(reply.message) : EMPTY;
  // A status goes trailers-only (one HEADERS with END_STREAM), as grpc-js servers send it.
  const blocks = reply.kind === "message" ? [encodeHeaderBlock(RESPONSE_HEADERS, 0), encodeHeaderBlock(trailerFields, 0)] : [encodeHeaderBlock([...RESPONSE_HEADERS, ...trailerFields], 0)];
  const oneCopy = data.length <= DEFAULT_MAX_FRAME_SIZE && blocks.every((block) => block.length <= DEFAULT_MAX_FRAME_SIZE);
  const pieces: Buffer[] = [];
  const idOffsets: number[] = [];
  let at = 0;
  const add = (type: number, flags: number, payload: Buffer) => {
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    writeFrameHeader(header, 0, payload.length, type, flags, 0);
    idOffsets.push(at + 5);
    pieces.push(header, payload);
    at += FRAME_HEADER_BYTES + payload.length;
  };
  if (reply.kind === "message") {
    add(FrameType.HEADERS, Flag.END_HEADERS, blocks[0]);
    add(FrameType.DATA, 0, data);
    add(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, blocks[1]);
  } else {
    add(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, blocks[0]);
  }
  return { frames: Buffer.concat(pieces), idOffsets, oneCopy, data, headerFields: RESPONSE_HEADERS, trailerFields };
}

/** The HEADERS (+ CONTINUATION) frames of `fields` on `streamId`, split at `maxFrameSize`. */
export function headerFieldFrames(streamId: number, fields: readonly string[], endStream: boolean, maxFrameSize: number): Buffer[] {
  return headerFrames(streamId, encodeHeaderBlock(fields, FRAME_HEADER_BYTES), endStream, maxFrameSize);
}

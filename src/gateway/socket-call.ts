import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { toGatewayError } from "../errors/to-gateway-error.js";
import type { Timers } from "../timers.js";
import type { RequestInput } from "../transcode/request-builder.js";
import { OpenStream, type StreamOpening } from "./open-stream.js";

/** One incoming WebSocket message. */
export type SocketFrame = { readonly text: string } | { readonly binary: true };

/**
 * A WebSocket as the pipeline sees it (the adapter wraps `ws`): frames in, pulled in order (the
 * adapter stops reading from the network while frames wait), text frames out with back-pressure.
 */
export interface MessageSocket {
  /** Incoming frames, in order; ends when the peer closes or drops the connection. */
  frames(): AsyncIterable<SocketFrame>;
  /** Sends one frame; resolves when the socket can take more. */
  send(data: string | Buffer): Promise<void>;
  /** Closes the connection with a code and a reason (at most 123 bytes of UTF-8). */
  close(code: number, reason: string): void;
}

/** An admitted WebSocket call of a streaming method. */
export interface SocketCallInput extends StreamOpening {
  readonly socket: MessageSocket;
  readonly variables: RequestInput["variables"];
  readonly query: RequestInput["query"];
  /** Aborted when the peer closes or drops the connection. */
  readonly signal: AbortSignal;
}

/** Close codes (RFC 6455 §7.4): normal end, and data the endpoint cannot accept. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_UNSUPPORTED_DATA = 1003;
/** A gRPC status ends the connection with 4000 + its code (4005 for NOT_FOUND, ...). */
export const CLOSE_STATUS_BASE = 4000;
const MAX_REASON_BYTES = 123;

/**
 * Runs a streaming call over a WebSocket, full duplex:
 * - each text frame is one JSON request message (the rule's body, or the whole message under a
 *   rule without one; path variables and query parameters set their fields in every message),
 *   sent as it arrives; an empty text frame half-closes the client's side. A server-streaming
 *   method takes one message: the first frame, or none when its rule has no body (the request
 *   is then built from the path and query at once). Binary frames are refused (close 1003);
 * - each reply is sent as one text frame holding the message's JSON (a `google.api.HttpBody`
 *   reply as a binary frame of its data);
 * - the end: close 1000 on OK; on a gRPC error, close 4000 + the code, the status message as
 *   the reason (truncated to fit). A peer that closes or drops cancels the upstream call.
 * Resolves when the call and the connection are both done; never rejects.
 */
export async function runSocketCall(input: SocketCallInput, timers: Timers, onInternalError: (error: GatewayError) => void): Promise<void> {
  const { route, socket } = input;
  const stream = new OpenStream(input, timers);
  const { exchange, recorder } = input;
  const receiving = receive(input, stream).catch((thrown: unknown) => stream.giveUp(thrown));
  try {
    for (;;) {
      const reply = await stream.read();
      if (reply === undefined) break;
      const shaped = route.shape(reply);
      await socket.send(shaped.body);
    }
    exchange.settle(GrpcCode.OK);
    socket.close(CLOSE_NORMAL, "");
  } catch (thrown) {
    if (input.signal.aborted) {
      // The peer is gone: there is no one to tell.
      recorder.failed(exchange, new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", "the client closed the WebSocket"));
      return;
    }
    if (thrown instanceof UnsupportedFrame) {
      recorder.failed(exchange, new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "a binary frame"));
      socket.close(CLOSE_UNSUPPORTED_DATA, "binary frames are not supported; send JSON in text frames");
      return;
    }
    const error = toGatewayError(thrown);
    recorder.failed(exchange, error);
    if (error.code === GrpcCode.INTERNAL && error.reason === "PG_ERR_INTERNAL") onInternalError(error);
    closeWithStatus(socket, error);
  } finally {
    stream.close();
    await receiving;
  }
}

/** A binary frame: not a message this gateway can decode. */
class UnsupportedFrame extends Error {}

/** Sends the client's frames as request messages, then half-closes. */
async function receive(input: SocketCallInput, stream: OpenStream): Promise<void> {
  const { route, socket } = input;
  const { call } = stream;
  const build = (text: string | undefined): Uint8Array =>
    route.encodeRequest({ variables: input.variables, query: input.query, body: text === undefined ? undefined : Buffer.from(text), contentType: "application/json" });
  const single = route.binding.kind === "server";
  if (single && route.binding.body.kind === "none") {
    await stream.write(build(undefined));
    call.end();
  }
  let index = 0;
  let halfClosed = single && route.binding.body.kind === "none";
  for await (const frame of socket.frames()) {
    if ("binary" in frame) throw new UnsupportedFrame();
    if (halfClosed) throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", single ? "this method takes one request message" : "a message after the empty frame that half-closed the stream");
    if (frame.text === "") {
      call.end();
      halfClosed = true;
      continue;
    }
    let message: Uint8Array;
    try {
      message = build(frame.text);
    } catch (error) {
      throw error instanceof GatewayError ? new GatewayError(error.code, error.reason, `request message ${index}: ${error.message}`, { details: error.details, cause: error.cause }) : error;
    }
    index++;
    await stream.write(message);
    if (single) {
      call.end();
      halfClosed = true;
    }
  }
}

/** Ends a WebSocket call with a gRPC status: close code 4000 + the code, the message as the reason. */
export function closeWithStatus(socket: MessageSocket, error: GatewayError): void {
  socket.close(CLOSE_STATUS_BASE + error.code, truncateUtf8(error.message, MAX_REASON_BYTES));
}

/** At most `maxBytes` of UTF-8, cut on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes - 3) break;
    out += char;
    bytes += size;
  }
  return `${out}...`;
}

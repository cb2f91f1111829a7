import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { RenderedError } from "../errors/error-writer.js";

/** How long a socket answered by `answerAndClose` may linger (reading and discarding) before it is destroyed. */
const LINGER_MS = 2_000;

/**
 * Writes an HTTP/1.1 error response straight to a socket that has no usable HTTP response object
 * (a refused connection, a request Node's parser rejected, a CONNECT), then closes it.
 *
 * The socket is half-closed and what the client still sends is read and dropped for a moment:
 * closing a socket with unread input makes the kernel send a reset, which can destroy the answer
 * before the client reads it.
 */
export function answerAndClose(socket: Socket, response: RenderedError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? "Error"}\r\n`;
  for (const [name, value] of Object.entries(response.headers)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${Buffer.byteLength(response.body)}\r\nconnection: close\r\n\r\n`;
  socket.end(head + response.body);
  socket.resume();
  socket.once("end", () => socket.destroy());
  socket.once("error", () => socket.destroy());
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

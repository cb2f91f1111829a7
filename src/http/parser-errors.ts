import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";

/** A Node HTTP parser error (`clientError` event): a code, and the bytes it failed on. */
export interface ParserError extends Error {
  readonly code?: string;
  /** A Buffer from Node (typed loosely by Fastify). */
  readonly rawPacket?: unknown;
}

/** Codes that mean the connection failed, not the request: there is no one to answer. */
const CONNECTION_GONE = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ERR_STREAM_DESTROYED"]);

/**
 * The answer to a request Node's HTTP parser rejected before the gateway saw it, or undefined when
 * the connection itself failed (nothing to answer). Every answer is a google.rpc.Status body:
 * - headers too slow (Node's `headersTimeout`): 408;
 * - request line longer than `maxUrlBytes` (it overflowed Node's header limit): 414;
 * - headers over the limit: 431;
 * - a well-formed request line whose method Node does not know (RFC 9110 §9.1: unrecognised
 *   methods are 501): 501;
 * - anything else malformed (bad framing, Content-Length with Transfer-Encoding, ...): 400.
 */
export function parserErrorResponse(error: ParserError, maxUrlBytes: number): GatewayError | undefined {
  const code = error.code ?? "";
  if (CONNECTION_GONE.has(code)) return undefined;
  switch (code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_REQUEST_TIMEOUT", "the request headers did not arrive in time", { httpStatus: 408 });
    case "HPE_HEADER_OVERFLOW":
      return requestLineTooLong(error.rawPacket, maxUrlBytes)
        ? new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_URL_TOO_LONG", `the request target is longer than ${maxUrlBytes} bytes`, { httpStatus: 414 })
        : new GatewayError(GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_HEADERS_TOO_LARGE", "request headers are larger than the server accepts", { httpStatus: 431 });
    case "HPE_INVALID_METHOD":
      if (wellFormedRequestLine(error.rawPacket)) return new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_IMPLEMENTED", "the request method is not recognised");
      return malformed();
    default:
      return malformed();
  }
}

function malformed(): GatewayError {
  return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_REQUEST", "malformed HTTP request", { httpStatus: 400 });
}

/** `METHOD SP target SP HTTP/x.y` (a method token as RFC 9110 §5.6.2 defines it), as opposed to garbage. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32} [^ \r\n]+ HTTP\/\d\.\d\r?\n/;

function wellFormedRequestLine(packet: unknown): boolean {
  return Buffer.isBuffer(packet) && REQUEST_LINE.test(packet.subarray(0, 8192).toString("latin1"));
}

/**
 * Whether the packet Node failed on holds a request line whose target alone is over the limit:
 * its first line has no end within `maxUrlBytes`, or ends after it. (Node counts the request line
 * and the headers together; a packet that is not the request's first is read as a header overflow.)
 */
function requestLineTooLong(packet: unknown, maxUrlBytes: number): boolean {
  if (!Buffer.isBuffer(packet) || !/^[A-Z]+ /.test(packet.subarray(0, 16).toString("latin1"))) return false;
  const lineEnd = packet.indexOf("\r\n");
  return lineEnd < 0 ? packet.length > maxUrlBytes : lineEnd > maxUrlBytes;
}

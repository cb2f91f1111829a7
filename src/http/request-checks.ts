import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";

/** The parts of a Node request (HTTP/1 or the HTTP/2 compat one) the checks read. */
export interface CheckedRequest {
  readonly url?: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly rawHeaders: readonly string[];
}

/** A host (name, IPv4 or bracketed IPv6) and an optional port: no userinfo, path or spaces. */
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d*)?$/;

/**
 * Protocol checks Node leaves to the application, answered before routing:
 * - a request target longer than `maxUrlBytes`: 414 (RFC 9112 §3);
 * - HTTP/1.1 without a Host, or any request with two (RFC 9112 §3.2): 400;
 * - a Host or HTTP/2 `:authority` holding userinfo or anything but host[:port] (RFC 9113
 *   §8.3.1), or a Host that differs from `:authority`: 400.
 */
export function checkRequest(request: CheckedRequest, maxUrlBytes: number): GatewayError | undefined {
  if ((request.url ?? "").length > maxUrlBytes) {
    return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_URL_TOO_LONG", `the request target is longer than ${maxUrlBytes} bytes`, { httpStatus: 414 });
  }
  let host: string | undefined;
  let authority: string | undefined;
  let hosts = 0;
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index];
    if (name.length === 4 && name.toLowerCase() === "host") {
      hosts++;
      host = raw[index + 1];
    } else if (name === ":authority") authority = raw[index + 1];
  }
  if (hosts > 1) return badHost("the request has more than one Host header");
  if (request.httpVersionMajor === 2) {
    if (authority !== undefined && !HOST_VALUE.test(authority)) return badHost("the :authority pseudo-header must be host[:port], without userinfo");
    if (host !== undefined && authority !== undefined && host !== authority) return badHost("the Host header differs from :authority");
  } else if (host === undefined && request.httpVersionMinor >= 1) {
    return badHost("an HTTP/1.1 request needs a Host header");
  }
  // An empty Host is allowed: a target without an authority has one (RFC 9112 §3.2).
  if (host !== undefined && host !== "" && !HOST_VALUE.test(host)) return badHost("the Host header must be host[:port]");
  return undefined;
}

function badHost(message: string): GatewayError {
  return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_HOST", message, { httpStatus: 400 });
}

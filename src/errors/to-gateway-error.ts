import { UpstreamError } from "../upstream/upstream-error.js";
import { GatewayError } from "./gateway-error.js";
import { GrpcCode } from "./grpc-code.js";
import { retryAfter } from "./retry-after.js";

/** Node error codes that mean the peer could not be reached or dropped the connection. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);
/** Bounds the walk over `cause` / `errors` chains (they may be cyclic or huge). */
const MAX_ERRORS_VISITED = 32;
/** 502 Bad Gateway: "received an invalid response from an inbound server" (RFC 9110, 15.6.3). */
const BAD_GATEWAY = 502;

/**
 * Normalises anything thrown into a `GatewayError`:
 * - a `GatewayError` as is;
 * - an `UpstreamError`, by where the transport says the call failed (see upstream-error.ts);
 * - a Node network error (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT anywhere in the `cause`
 *   chain): UNAVAILABLE;
 * - anything else: INTERNAL "internal error", the original kept in `cause` for the log only.
 */
export function toGatewayError(error: unknown): GatewayError {
  try {
    return classify(error);
  } catch {
    // A hostile thrown value (throwing getters, proxies) must not escape the error path.
    return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error", { cause: error });
  }
}

function classify(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof UpstreamError) return fromUpstream(error);
  const networkCode = findNetworkErrorCode(error);
  if (networkCode !== undefined) {
    return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", `upstream unavailable (${networkCode})`, { cause: error });
  }
  return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error", { cause: error });
}

/**
 * The HTTP side of an upstream failure. Only the upstream's own status passes through as it is
 * (its code, message and details). What the gateway concluded itself gets the gateway's reasons:
 * a failed connection is 503, the gateway's deadline 504, a client that left 499, and a reply
 * the gateway cannot use (a broken protocol, a message over its size limit) 502 Bad Gateway:
 * not 501 or 429, which would blame the method or the client. 502 has no gRPC code of its own;
 * the body says INTERNAL, as a gRPC client reports a broken reply (grpc-go's protocol errors,
 * gRPC's statuscodes.md: "Error parsing response proto"), and as grpc-gateway then shows it.
 */
function fromUpstream(error: UpstreamError): GatewayError {
  const options = { cause: error, metadata: error.metadata };
  switch (error.origin) {
    case "connection":
      return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", `upstream unavailable for ${error.rpcPath}`, options);
    case "deadline":
      return new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_DEADLINE_EXCEEDED", `deadline of ${error.timeoutMs} ms exceeded calling ${error.rpcPath}`, options);
    case "cancelled":
      return new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", `call for ${error.rpcPath} cancelled: the client closed the request`, options);
    case "upstream":
      return new GatewayError(error.code, "PG_ERR_UPSTREAM", error.message, { ...options, details: error.details });
    case "protocol":
      return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_UPSTREAM_PROTOCOL", `upstream protocol error calling ${error.rpcPath}: ${error.message}`, { ...options, httpStatus: BAD_GATEWAY });
    case "limit":
      return fromLimit(error, options);
    case "overloaded":
    case "breaker":
      return fromRefusal(error);
  }
}

/**
 * The gateway did not send the call to protect the upstream: 503 UNAVAILABLE (the code gRPC
 * clients retry, and Envoy's 503 for an overflowing circuit breaker), never 429, which would
 * blame the client. Retry-After and RetryInfo say when to come back, as a rate limit's do.
 */
function fromRefusal(error: UpstreamError): GatewayError {
  const wait = retryAfter((error.retryAfterMs ?? 1000) * 1000);
  const options = { cause: error, headers: { "retry-after": wait.header }, details: [wait.detail] };
  if (error.origin === "overloaded") {
    return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_OVERLOADED", `the upstream for ${error.rpcPath} has as many calls in flight as it may; retry after ${wait.detail.retryDelay}`, options);
  }
  return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_CIRCUIT_OPEN", `the upstream for ${error.rpcPath} is failing (circuit breaker open); retry after ${wait.detail.retryDelay}`, options);
}

function fromLimit(error: UpstreamError, options: { cause: unknown; metadata: UpstreamError["metadata"] }): GatewayError {
  const limit = error.limit;
  const size = limit?.bytes === undefined ? "" : `${limit.bytes} bytes, `;
  const bound = `${size}limit ${limit?.maxBytes ?? "unknown"} bytes`;
  if (limit?.direction === "request") {
    // The request the body became is too large for the upstream: the client's to shrink, like a body over the limit.
    return new GatewayError(GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_BODY_TOO_LARGE", `request message for ${error.rpcPath} is larger than the upstream's limit (${bound})`, { ...options, httpStatus: 413 });
  }
  return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE", `reply from ${error.rpcPath} is larger than maxReceiveMessageBytes (${bound})`, { ...options, httpStatus: BAD_GATEWAY });
}

/** The first network error code in the `cause` / `AggregateError.errors` graph of `error`. */
function findNetworkErrorCode(error: unknown): string | undefined {
  const pending: unknown[] = [error];
  const seen = new Set<unknown>();
  while (pending.length > 0 && seen.size < MAX_ERRORS_VISITED) {
    const current = pending.shift();
    if (typeof current !== "object" || current === null || seen.has(current)) continue;
    seen.add(current);
    const { code, cause, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) return code;
    if (cause !== undefined) pending.push(cause);
    if (Array.isArray(errors)) pending.push(...errors.slice(0, MAX_ERRORS_VISITED));
  }
  return undefined;
}

import { GrpcCode } from "../../errors/grpc-code.js";
import { UpstreamError } from "../upstream-error.js";

/**
 * What a failed attempt says about the address (outlier detection) and the upstream (circuit
 * breaker):
 * - `failure`: the address could not be reached or said it cannot serve: a connection failure
 *   (refused, reset, closed, a refused stream) or an UNAVAILABLE status. These are Envoy's
 *   "gateway failures" and what gRPC clients treat as transient.
 * - `answered`: the upstream answered, with any other status: it works, whatever it thought of
 *   the request.
 * - `neutral`: nothing is known about the upstream: the gateway's deadline (which a client's
 *   `grpc-timeout` may shorten at will, so counting it would let one client open the breaker for
 *   everyone; `maxConcurrentCalls` is what bounds a slow upstream), the client going away, the
 *   gateway's own refusals, and broken or oversized replies (the bytes of one reply, not a
 *   sign that the address is down).
 */
export type AttemptVerdict = "failure" | "answered" | "neutral";

export function verdictOf(error: unknown): AttemptVerdict {
  if (!(error instanceof UpstreamError)) return "neutral";
  switch (error.origin) {
    case "connection":
      return "failure";
    case "upstream":
      return error.code === GrpcCode.UNAVAILABLE ? "failure" : "answered";
    default:
      return "neutral";
  }
}

/**
 * Whether a failed attempt of a call may be sent again by `retries` (with backoff, within the
 * budget): an idempotent call (`UnaryCall.idempotent`) that failed with UNAVAILABLE before any
 * byte of a response, that is a connection failure without response headers, or an UNAVAILABLE
 * status in a trailers-only answer (a status and nothing else, as Envoy's `unavailable` retry-on
 * counts it). Such a call may have run on the upstream, which is why only idempotent ones go
 * again; a call whose response had begun never does.
 *
 * Apart from this, a call the upstream provably did not process (`UpstreamError.unprocessed`:
 * nothing left the gateway, or the upstream refused the stream unprocessed) goes to another
 * address at once whatever its method, as gRPC's transparent retry does (balanced-upstream.ts):
 * not counted against the budget or `maxAttempts`, each address tried at most once so.
 */
export function mayRetry(error: unknown, idempotent: boolean): boolean {
  if (!idempotent || !(error instanceof UpstreamError)) return false;
  if (error.code !== GrpcCode.UNAVAILABLE || error.responseStarted) return false;
  return error.origin === "connection" || error.origin === "upstream";
}

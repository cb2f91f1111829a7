/**
 * Where an upstream call failed, as only the transport can tell: grpc-js reports a refused
 * connection and an UNAVAILABLE sent by the upstream itself with the same status code, and its
 * own deadline timer and an upstream's DEADLINE_EXCEEDED likewise.
 * - `connection`: the call never got an answer from the upstream (refused, reset, no route).
 * - `deadline`: the gateway's deadline for the call expired.
 * - `cancelled`: the gateway cancelled the call because the HTTP client went away.
 * - `upstream`: the upstream answered with this status.
 */
export type UpstreamFailureOrigin = "connection" | "deadline" | "cancelled" | "upstream";

/** What a transport attaches to the error it rejects with, for `toGatewayError`. */
export interface UpstreamFailure {
  readonly origin: UpstreamFailureOrigin;
  /** gRPC path of the call, e.g. `/demo.v1.UserService/GetUser` (public, safe to show clients). */
  readonly rpcPath: string;
  /** The call's timeout in ms (deadline minus start), for deadline messages. */
  readonly timeoutMs?: number;
}

const UPSTREAM_FAILURE = Symbol("protogate.upstreamFailure");

/** Attaches `failure` to `error` (non-enumerable, so logs of the error stay unchanged) and returns it. */
export function tagUpstreamFailure<E extends object>(error: E, failure: UpstreamFailure): E {
  Object.defineProperty(error, UPSTREAM_FAILURE, { value: failure, enumerable: false, configurable: true });
  return error;
}

/** The failure a transport attached to `error`, if any. */
export function upstreamFailureOf(error: unknown): UpstreamFailure | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  return (error as { [UPSTREAM_FAILURE]?: UpstreamFailure })[UPSTREAM_FAILURE];
}

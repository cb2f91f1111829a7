import type { RawAny } from "../errors/any-detail.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { decodeRpcStatus } from "../errors/rpc-status.js";
import type { MetadataEntries, StreamCall } from "./upstream.js";

/**
 * Where an upstream call failed. Only the transport knows (a refused connection and an
 * UNAVAILABLE the upstream sends itself carry the same code), so it decides, and the error
 * mapping reads the answer instead of guessing it.
 * - `connection`: no answer from the upstream: refused, reset or closed connection, a refused
 *   stream, a failed TLS handshake.
 * - `deadline`: the gateway's deadline for the call expired.
 * - `cancelled`: the gateway cancelled the call because its HTTP client went away.
 * - `upstream`: the upstream answered with this status (or an intermediary answered with a
 *   non-gRPC HTTP status, mapped as gRPC's http-grpc-status-mapping.md says).
 * - `protocol`: the upstream broke the gRPC protocol: no or two messages for a unary call, a
 *   malformed frame, a compressed message without a supported encoding, a reply that is not
 *   `application/grpc`, a missing or malformed `grpc-status`, a stream reset without a status.
 * - `limit`: a message over the gateway's size limits (`limit` says which and how large).
 * - `overloaded`: the gateway did not send the call: the upstream's bound on concurrent calls
 *   (`maxConcurrentCalls`) was reached (`retryAfterMs` says when to try again).
 * - `breaker`: the gateway did not send the call: the upstream's circuit breaker is open after
 *   consecutive failures (`retryAfterMs`: until its next probe).
 */
export type UpstreamErrorOrigin = "connection" | "deadline" | "cancelled" | "upstream" | "protocol" | "limit" | "overloaded" | "breaker";

/** A message the gateway refused for its size: the request it would send, or the upstream's reply. */
export interface MessageLimit {
  readonly direction: "request" | "response";
  /** The message's size in bytes; undefined when only a bound is known (a decompressed reply). */
  readonly bytes: number | undefined;
  readonly maxBytes: number;
}

/** What identifies the call in messages: its gRPC path and the timeout it was given. */
export interface FailedCall {
  readonly rpcPath: string;
  /** The call's timeout in ms (what its deadline was made from), for deadline messages. */
  readonly timeoutMs: number;
}

export interface UpstreamErrorInit {
  readonly origin: UpstreamErrorOrigin;
  /** The gRPC status code, as a gRPC client reports it (codes outside google.rpc.Code become UNKNOWN). */
  readonly code: GrpcCode;
  /** The status message: the upstream's `grpc-message`, or what the transport found. */
  readonly message: string;
  /** The upstream's header and trailer metadata received before the failure. */
  readonly metadata?: MetadataEntries;
  /** The `google.rpc.Status.details` the upstream sent (`grpc-status-details-bin`). */
  readonly details?: readonly RawAny[];
  readonly limit?: MessageLimit;
  readonly cause?: unknown;
  /** See `UpstreamError.unprocessed`; false when absent. */
  readonly unprocessed?: boolean;
  /** See `UpstreamError.responseStarted`; false when absent. */
  readonly responseStarted?: boolean;
  /** See `UpstreamError.retryAfterMs`. */
  readonly retryAfterMs?: number;
}

const NO_METADATA: MetadataEntries = Object.freeze([]);
const NO_DETAILS: readonly RawAny[] = Object.freeze([]);

/**
 * The one error every upstream transport rejects a call with (the gRPC-level counterpart of
 * `GatewayError`, like connect-es's `ConnectError`): the status, the upstream's metadata and
 * details, and where the call failed. `toGatewayError` maps it by `origin`; `message` reaches
 * clients only for `upstream` and `protocol` failures, so transports keep internal addresses out
 * of those (a connection failure's message, which names the address, only goes to the log).
 */
export class UpstreamError extends Error {
  readonly origin: UpstreamErrorOrigin;
  readonly code: GrpcCode;
  readonly metadata: MetadataEntries;
  readonly details: readonly RawAny[];
  readonly limit: MessageLimit | undefined;
  readonly rpcPath: string;
  readonly timeoutMs: number;
  /**
   * The upstream provably did not process the call: nothing of it left the gateway (no
   * connection could be had, the socket never connected, the stream was still queued), or the
   * upstream refused the stream unprocessed (RST_STREAM REFUSED_STREAM, above a GOAWAY's last
   * stream id). Such a call may go to another address whatever its method (gRPC's transparent
   * retry). Set by the transport; false when it cannot tell.
   */
  readonly unprocessed: boolean;
  /**
   * The upstream's gRPC response had begun (its response headers had arrived) before the call
   * failed. A status in a trailers-only answer, or no answer at all, leaves it false: nothing of a
   * response reached the gateway, so an idempotent call may be tried again.
   */
  readonly responseStarted: boolean;
  /** For `overloaded` and `breaker`: how long the client should wait before trying again (Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(call: FailedCall, init: UpstreamErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "UpstreamError";
    this.origin = init.origin;
    this.code = init.code;
    this.metadata = init.metadata ?? NO_METADATA;
    this.details = init.details ?? NO_DETAILS;
    this.limit = init.limit;
    this.rpcPath = call.rpcPath;
    this.timeoutMs = call.timeoutMs;
    this.unprocessed = init.unprocessed ?? false;
    this.responseStarted = init.responseStarted ?? false;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * The call's description for its errors: the path, and the timeout its deadline was made from
 * (else the time it had left at `startMs`; 0 for a stream without a deadline).
 */
export function failedCall(call: Pick<StreamCall, "rpcPath" | "deadline" | "timeoutMs">, startMs: number): FailedCall {
  const deadline = call.deadline;
  return { rpcPath: call.rpcPath, timeoutMs: Math.round(call.timeoutMs ?? (deadline === undefined ? 0 : Math.max(0, deadline - startMs))) };
}

/** A `grpc-status` value as a code: codes outside google.rpc.Code are UNKNOWN, as gRPC clients treat them. */
export function knownGrpcCode(code: number): GrpcCode {
  return Number.isInteger(code) && code >= GrpcCode.OK && code <= GrpcCode.UNAUTHENTICATED ? code : GrpcCode.UNKNOWN;
}

/**
 * The `details` of the `google.rpc.Status` in `grpc-status-details-bin` (Buffers, as both
 * transports decode `-bin` metadata), used only when its code agrees with `grpc-status`: a
 * mismatch means a broken upstream, whose details would mislead. Undecodable bytes yield none.
 */
export function statusDetails(metadata: MetadataEntries, code: GrpcCode): readonly RawAny[] {
  for (const [key, value] of metadata) {
    if (key !== "grpc-status-details-bin") continue;
    try {
      const status = decodeRpcStatus(typeof value === "string" ? Buffer.from(value, "base64") : value);
      return status.code === code ? status.details : NO_DETAILS;
    } catch {
      return NO_DETAILS;
    }
  }
  return NO_DETAILS;
}

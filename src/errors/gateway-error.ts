import type { MetadataEntries } from "../upstream/upstream.js";
import { GrpcCode } from "./grpc-code.js";

/**
 * Stable machine-readable reasons for errors the gateway raises itself. Clients and logs can
 * match on them; they travel in the `google.rpc.ErrorInfo` detail of the response body.
 */
export type GatewayErrorReason =
  | "PG_ERR_ROUTE_NOT_FOUND"
  | "PG_ERR_METHOD_NOT_ALLOWED"
  | "PG_ERR_BAD_PATH"
  | "PG_ERR_BAD_QUERY"
  | "PG_ERR_BAD_JSON"
  | "PG_ERR_BAD_FIELD"
  | "PG_ERR_TOO_DEEP"
  | "PG_ERR_REQUIRED_FIELD"
  | "PG_ERR_OUTPUT_ONLY_FIELD"
  | "PG_ERR_BODY_TOO_LARGE"
  | "PG_ERR_UNSUPPORTED_MEDIA_TYPE"
  | "PG_ERR_BAD_TIMEOUT"
  | "PG_ERR_BAD_METADATA"
  | "PG_ERR_UPSTREAM_UNAVAILABLE"
  | "PG_ERR_UPSTREAM_NOT_CONFIGURED"
  | "PG_ERR_UPSTREAM_OVERLOADED"
  | "PG_ERR_UPSTREAM_CIRCUIT_OPEN"
  | "PG_ERR_DEADLINE_EXCEEDED"
  | "PG_ERR_UPSTREAM"
  | "PG_ERR_UPSTREAM_PROTOCOL"
  | "PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE"
  | "PG_ERR_UPSTREAM_BAD_RESPONSE"
  | "PG_ERR_CANCELLED"
  | "PG_ERR_UNAUTHENTICATED"
  | "PG_ERR_PERMISSION_DENIED"
  | "PG_ERR_RATE_LIMITED"
  | "PG_ERR_RATE_LIMIT_UNAVAILABLE"
  | "PG_ERR_INTERNAL"
  // HTTP-level refusals, before or instead of routing:
  | "PG_ERR_BAD_REQUEST"
  | "PG_ERR_BAD_HOST"
  | "PG_ERR_REQUEST_TIMEOUT"
  | "PG_ERR_URL_TOO_LONG"
  | "PG_ERR_HEADERS_TOO_LARGE"
  | "PG_ERR_EXPECTATION_FAILED"
  | "PG_ERR_METHOD_NOT_IMPLEMENTED"
  | "PG_ERR_TOO_MANY_CONNECTIONS"
  | "PG_ERR_SHUTTING_DOWN"
  // Streams:
  | "PG_ERR_STREAM_IDLE"
  // Aggregate routes: a call that did not run because a call it reads failed.
  | "PG_ERR_AGGREGATE_INPUT"
  // An aggregate's module (typed aggregates) misbehaved: it called a method without a route, or answered no object.
  | "PG_ERR_AGGREGATE_MODULE"
  // The admin listener's POST /reload:
  | "PG_ERR_CONFIG_INVALID"
  | "PG_ERR_RESTART_REQUIRED"
  | "PG_ERR_RELOAD_UNAVAILABLE";

/**
 * Why authentication or authorisation refused a request, for metrics (a bounded set):
 * no credential, a malformed one, an invalid or expired token, a key set the gateway could not
 * fetch, missing scopes, a client locked out after too many failed attempts.
 */
export type AuthFailureReason = "missing" | "malformed" | "invalid" | "expired" | "key_set_unavailable" | "insufficient_scope" | "locked_out";

export interface GatewayErrorOptions {
  /** Overrides the HTTP status the gRPC code maps to (405, 413, 415 and 502 have no gRPC code of their own). */
  httpStatus?: number;
  /** Extra response headers, e.g. `Allow` on a 405. */
  headers?: Readonly<Record<string, string>>;
  /**
   * `google.rpc.Status.details`: JSON `Any` values already in their JSON form (`{"@type": ...}`),
   * or raw `RawAny` values (see any-detail.ts) that the error writer turns into JSON.
   */
  details?: readonly unknown[];
  /** The upstream's header and trailer metadata, sent back as `Grpc-Metadata-*` response headers. */
  metadata?: MetadataEntries;
  cause?: unknown;
  /** Set by the auth layer on its refusals: why (see AuthFailureReason). */
  authFailure?: AuthFailureReason;
}

const NO_METADATA: MetadataEntries = Object.freeze([]);

/**
 * The one error type of the request pipeline. Every stage throws it (or something that
 * `toGatewayError` normalises into it) and the error writer turns it into a `google.rpc.Status`
 * JSON body. `message` is shown to clients, so it must never contain secrets; `cause` only goes
 * to the log.
 */
export class GatewayError extends Error {
  readonly code: GrpcCode;
  readonly reason: GatewayErrorReason | undefined;
  readonly httpStatus: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly details: readonly unknown[];
  /** Metadata the upstream sent before the call failed (empty for the gateway's own errors). */
  readonly metadata: MetadataEntries;
  /** Why the auth layer refused the request; undefined for every other error. */
  readonly authFailure: AuthFailureReason | undefined;

  constructor(code: GrpcCode, reason: GatewayErrorReason | undefined, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.reason = reason;
    this.httpStatus = options.httpStatus;
    this.headers = options.headers ?? {};
    this.details = options.details ?? [];
    this.metadata = options.metadata ?? NO_METADATA;
    this.authFailure = options.authFailure;
  }
}

/** A 400 INVALID_ARGUMENT naming the offending part of the request. */
export function badRequest(reason: GatewayErrorReason, message: string, cause?: unknown): GatewayError {
  return new GatewayError(GrpcCode.INVALID_ARGUMENT, reason, message, { cause });
}

/**
 * A 502 about the upstream's reply: bytes that do not decode as the response type, or nesting
 * deeper than any decoder accepts. The upstream broke the contract, so this is neither the
 * client's fault (4xx) nor a gateway bug (500, logged as an internal error). The body's gRPC code
 * is INTERNAL, as gRPC clients report an unparsable response.
 */
export function badUpstreamResponse(message: string, cause?: unknown): GatewayError {
  return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_UPSTREAM_BAD_RESPONSE", message, { httpStatus: 502, cause });
}

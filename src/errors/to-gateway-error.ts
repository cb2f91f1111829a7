import { GatewayError } from "./gateway-error.js";
import { GrpcCode } from "./grpc-code.js";
import type { RawAny } from "./any-detail.js";
import { decodeRpcStatus } from "./rpc-status.js";
import { upstreamFailureOf, type UpstreamFailure, type UpstreamFailureOrigin } from "./upstream-failure.js";

/**
 * The parts of a grpc-js `ServiceError` the mapping reads. Structural, so a transport other than
 * grpc-js can produce it: `metadata.get` returns the values of a trailer (Buffers for `-bin` keys).
 */
export interface GrpcStatusError extends Error {
  code: number;
  details: string;
  metadata?: { get(key: string): ReadonlyArray<string | Buffer> };
}

/** Node error codes that mean the peer could not be reached or dropped the connection. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);
/** Bounds the walk over `cause` / `errors` chains (they may be cyclic or huge). */
const MAX_ERRORS_VISITED = 32;

/**
 * Normalises anything thrown into a `GatewayError`:
 * - a `GatewayError` as is;
 * - a gRPC status error (grpc-js `ServiceError`): the upstream's code, message and decoded
 *   `grpc-status-details-bin` details (as `RawAny`, reason `PG_ERR_UPSTREAM`), or the gateway's
 *   own UNAVAILABLE / DEADLINE_EXCEEDED / CANCELLED when the transport says (see
 *   upstream-failure.ts) the connection, the gateway's deadline or the client was the cause;
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
  if (isGrpcStatusError(error)) return fromGrpcStatus(error);
  const networkCode = findNetworkErrorCode(error);
  if (networkCode !== undefined) {
    const failure = upstreamFailureOf(error);
    const target = failure ? ` for ${failure.rpcPath}` : "";
    return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", `upstream unavailable${target} (${networkCode})`, { cause: error });
  }
  return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error", { cause: error });
}

/** Whether `error` looks like a gRPC status error (numeric `code`, string `details`). */
export function isGrpcStatusError(error: unknown): error is GrpcStatusError {
  if (!(error instanceof Error)) return false;
  const candidate = error as Partial<GrpcStatusError>;
  return typeof candidate.code === "number" && typeof candidate.details === "string";
}

function fromGrpcStatus(error: GrpcStatusError): GatewayError {
  const failure = upstreamFailureOf(error);
  const code = isGrpcErrorCode(error.code) ? error.code : GrpcCode.UNKNOWN;
  const origin = failure?.origin ?? inferOrigin(error, code);
  switch (origin) {
    case "connection":
      return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", `upstream unavailable${forPath(failure)}`, { cause: error });
    case "deadline": {
      const message =
        failure?.timeoutMs !== undefined
          ? `deadline of ${failure.timeoutMs} ms exceeded calling ${failure.rpcPath}`
          : `deadline exceeded${forPath(failure)}`;
      return new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_DEADLINE_EXCEEDED", message, { cause: error });
    }
    case "cancelled":
      return new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", `call${forPath(failure)} cancelled: the client closed the request`, { cause: error });
    case "upstream":
      return new GatewayError(code, "PG_ERR_UPSTREAM", error.details, { cause: error, details: statusDetails(error, code) });
  }
}

function forPath(failure: UpstreamFailure | undefined): string {
  return failure ? ` for ${failure.rpcPath}` : "";
}

/**
 * Without a transport's tag: grpc-js's own statuses carry no metadata, while one an upstream
 * sends carries at least its trailers (a trailers-only response includes `content-type`).
 */
function inferOrigin(error: GrpcStatusError, code: GrpcCode): UpstreamFailureOrigin {
  if (!metadataIsEmpty(error)) return "upstream";
  if (code === GrpcCode.UNAVAILABLE) return "connection";
  if (code === GrpcCode.DEADLINE_EXCEEDED) return "deadline";
  return "upstream";
}

function metadataIsEmpty(error: GrpcStatusError): boolean {
  const metadata = error.metadata as { toJSON?: () => Record<string, unknown> } | undefined;
  if (metadata === undefined) return true;
  if (typeof metadata.toJSON !== "function") return false;
  return Object.keys(metadata.toJSON()).length === 0;
}

function isGrpcErrorCode(code: number): code is GrpcCode {
  return Number.isInteger(code) && code >= GrpcCode.CANCELLED && code <= GrpcCode.UNAUTHENTICATED;
}

/**
 * The `details` of the `google.rpc.Status` in `grpc-status-details-bin`, used only when its code
 * agrees with `grpc-status` (a mismatch means a broken upstream; the details would be misleading).
 * Undecodable bytes yield no details rather than an error.
 */
function statusDetails(error: GrpcStatusError, code: GrpcCode): RawAny[] {
  let values: ReadonlyArray<string | Buffer>;
  try {
    values = error.metadata?.get("grpc-status-details-bin") ?? [];
  } catch {
    return [];
  }
  const raw = values[0];
  if (raw === undefined) return [];
  try {
    const bytes = typeof raw === "string" ? Buffer.from(raw, "base64") : raw;
    const status = decodeRpcStatus(bytes);
    return status.code === code ? [...status.details] : [];
  } catch {
    return [];
  }
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

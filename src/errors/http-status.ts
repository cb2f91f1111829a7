import { GrpcCode } from "./grpc-code.js";

/**
 * gRPC code -> HTTP status, as documented in google/rpc/code.proto ("HTTP Mapping") and as
 * grpc-gateway's `runtime.HTTPStatusFromCode` implements it (CANCELLED is 499 there since v2.13).
 *
 * FAILED_PRECONDITION is deliberately 400, not 412: HTTP 412 means a conditional request header
 * (`If-Match`, `If-Unmodified-Since`, ...) evaluated to false, whereas FAILED_PRECONDITION means
 * the system is not in the state the operation needs (e.g. deleting a non-empty directory).
 */
export const HTTP_STATUS_BY_GRPC_CODE: Readonly<Record<GrpcCode, number>> = Object.freeze({
  [GrpcCode.OK]: 200,
  [GrpcCode.CANCELLED]: 499,
  [GrpcCode.UNKNOWN]: 500,
  [GrpcCode.INVALID_ARGUMENT]: 400,
  [GrpcCode.DEADLINE_EXCEEDED]: 504,
  [GrpcCode.NOT_FOUND]: 404,
  [GrpcCode.ALREADY_EXISTS]: 409,
  [GrpcCode.PERMISSION_DENIED]: 403,
  [GrpcCode.RESOURCE_EXHAUSTED]: 429,
  [GrpcCode.FAILED_PRECONDITION]: 400,
  [GrpcCode.ABORTED]: 409,
  [GrpcCode.OUT_OF_RANGE]: 400,
  [GrpcCode.UNIMPLEMENTED]: 501,
  [GrpcCode.INTERNAL]: 500,
  [GrpcCode.UNAVAILABLE]: 503,
  [GrpcCode.DATA_LOSS]: 500,
  [GrpcCode.UNAUTHENTICATED]: 401,
});

/** The HTTP status of a gRPC code; codes outside google.rpc.Code map to 500. */
export function httpStatusFromCode(code: number): number {
  return Object.hasOwn(HTTP_STATUS_BY_GRPC_CODE, code) ? HTTP_STATUS_BY_GRPC_CODE[code as GrpcCode] : 500;
}

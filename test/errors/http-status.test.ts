import { describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { HTTP_STATUS_BY_GRPC_CODE, httpStatusFromCode } from "../../src/errors/http-status.js";

// google/rpc/code.proto "HTTP Mapping" lines; grpc-gateway runtime.HTTPStatusFromCode agrees.
const table: Array<[GrpcCode, number]> = [
  [GrpcCode.OK, 200],
  [GrpcCode.CANCELLED, 499],
  [GrpcCode.UNKNOWN, 500],
  [GrpcCode.INVALID_ARGUMENT, 400],
  [GrpcCode.DEADLINE_EXCEEDED, 504],
  [GrpcCode.NOT_FOUND, 404],
  [GrpcCode.ALREADY_EXISTS, 409],
  [GrpcCode.PERMISSION_DENIED, 403],
  [GrpcCode.RESOURCE_EXHAUSTED, 429],
  [GrpcCode.FAILED_PRECONDITION, 400],
  [GrpcCode.ABORTED, 409],
  [GrpcCode.OUT_OF_RANGE, 400],
  [GrpcCode.UNIMPLEMENTED, 501],
  [GrpcCode.INTERNAL, 500],
  [GrpcCode.UNAVAILABLE, 503],
  [GrpcCode.DATA_LOSS, 500],
  [GrpcCode.UNAUTHENTICATED, 401],
];

describe("httpStatusFromCode", () => {
  it.each(table)("maps gRPC code %i to HTTP %i", (code, status) => {
    expect(httpStatusFromCode(code)).toBe(status);
  });

  it("covers every google.rpc.Code exactly once", () => {
    const enumCodes = Object.values(GrpcCode).filter((v): v is number => typeof v === "number");
    expect(enumCodes).toHaveLength(17);
    expect(table.map(([code]) => code).sort((a, b) => a - b)).toEqual(enumCodes.sort((a, b) => a - b));
    expect(Object.keys(HTTP_STATUS_BY_GRPC_CODE)).toHaveLength(17);
  });

  it.each([-1, 17, 99, 1.5, Number.NaN])("maps the non-code %s to 500", (code) => {
    expect(httpStatusFromCode(code)).toBe(500);
  });
});

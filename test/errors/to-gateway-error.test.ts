import { Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { GatewayError, badRequest } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { encodeRpcStatus } from "../../src/errors/rpc-status.js";
import { toGatewayError } from "../../src/errors/to-gateway-error.js";
import { tagUpstreamFailure, type UpstreamFailureOrigin } from "../../src/errors/upstream-failure.js";

function serviceError(code: number, details: string, entries: Array<[string, string | Buffer]> = []): ServiceError {
  const metadata = new Metadata();
  for (const [key, value] of entries) metadata.add(key, value);
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

const badRequestDetail = { typeUrl: "type.googleapis.com/google.rpc.BadRequest", value: Uint8Array.from([0x0a, 0x03, 0x0a, 0x01, 0x78]) };

describe("toGatewayError", () => {
  it("returns a GatewayError as is", () => {
    const error = badRequest("PG_ERR_BAD_JSON", "bad");
    expect(toGatewayError(error)).toBe(error);
  });

  it("carries an upstream status with its decoded details", () => {
    const bin = Buffer.from(encodeRpcStatus({ code: GrpcCode.INVALID_ARGUMENT, message: "bad name", details: [badRequestDetail] }));
    const error = serviceError(GrpcStatus.INVALID_ARGUMENT, "bad name", [["grpc-status-details-bin", bin], ["x-other", "1"]]);
    const mapped = toGatewayError(error);
    expect(mapped.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(mapped.reason).toBe("PG_ERR_UPSTREAM");
    expect(mapped.message).toBe("bad name");
    expect(mapped.cause).toBe(error);
    expect(mapped.details).toHaveLength(1);
    const [detail] = mapped.details as Array<{ typeUrl: string; value: Uint8Array }>;
    expect(detail.typeUrl).toBe(badRequestDetail.typeUrl);
    expect([...detail.value]).toEqual([...badRequestDetail.value]);
  });

  it.each([
    ["a status whose code disagrees with grpc-status", Buffer.from(encodeRpcStatus({ code: GrpcCode.NOT_FOUND, message: "", details: [badRequestDetail] }))],
    ["malformed bytes", Buffer.from([0x1a, 0x7f, 0x00])],
  ])("drops the details of %s but keeps the upstream status", (_name, bin) => {
    const mapped = toGatewayError(serviceError(GrpcStatus.INVALID_ARGUMENT, "bad", [["grpc-status-details-bin", bin]]));
    expect(mapped.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(mapped.message).toBe("bad");
    expect(mapped.details).toEqual([]);
  });

  it.each([
    [17, GrpcCode.UNKNOWN],
    [0, GrpcCode.UNKNOWN],
    [GrpcStatus.PERMISSION_DENIED, GrpcCode.PERMISSION_DENIED],
  ])("maps an upstream code %i to %i", (code, expected) => {
    expect(toGatewayError(serviceError(code, "x", [["content-type", "application/grpc"]])).code).toBe(expected);
  });

  const tagged: Array<[UpstreamFailureOrigin, number, GrpcCode, string, RegExp]> = [
    ["connection", GrpcStatus.UNAVAILABLE, GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", /^upstream unavailable for \/p\.S\/M$/],
    ["deadline", GrpcStatus.DEADLINE_EXCEEDED, GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_DEADLINE_EXCEEDED", /^deadline of 250 ms exceeded calling \/p\.S\/M$/],
    ["cancelled", GrpcStatus.CANCELLED, GrpcCode.CANCELLED, "PG_ERR_CANCELLED", /client closed/],
    ["upstream", GrpcStatus.UNAVAILABLE, GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM", /^db down$/],
    ["upstream", GrpcStatus.DEADLINE_EXCEEDED, GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_UPSTREAM", /^db down$/],
  ];
  it.each(tagged)("maps a transport-tagged %s failure (code %i)", (origin, code, expectedCode, reason, message) => {
    const error = tagUpstreamFailure(serviceError(code, "db down"), { origin, rpcPath: "/p.S/M", timeoutMs: 250 });
    const mapped = toGatewayError(error);
    expect(mapped.code).toBe(expectedCode);
    expect(mapped.reason).toBe(reason);
    expect(mapped.message).toMatch(message);
    expect(mapped.cause).toBe(error);
  });

  it("never shows grpc-js's connection details (internal addresses) to clients", () => {
    const error = serviceError(GrpcStatus.UNAVAILABLE, "No connection established. Last error: connect ECONNREFUSED 10.0.0.7:50051");
    const mapped = toGatewayError(error);
    expect(mapped.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
    expect(mapped.message).not.toContain("10.0.0.7");
  });

  it.each([
    [GrpcStatus.UNAVAILABLE, [] as Array<[string, string]>, "PG_ERR_UPSTREAM_UNAVAILABLE"],
    [GrpcStatus.UNAVAILABLE, [["content-type", "application/grpc"]] as Array<[string, string]>, "PG_ERR_UPSTREAM"],
    [GrpcStatus.DEADLINE_EXCEEDED, [] as Array<[string, string]>, "PG_ERR_DEADLINE_EXCEEDED"],
    [GrpcStatus.DEADLINE_EXCEEDED, [["x-upstream", "1"]] as Array<[string, string]>, "PG_ERR_UPSTREAM"],
    [GrpcStatus.NOT_FOUND, [] as Array<[string, string]>, "PG_ERR_UPSTREAM"],
  ])("infers the origin of an untagged code %i from its metadata (%j)", (code, entries, reason) => {
    expect(toGatewayError(serviceError(code, "x", entries)).reason).toBe(reason);
  });

  it.each([
    ["a direct ECONNREFUSED", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "ECONNREFUSED"],
    ["ECONNRESET two causes deep", new Error("a", { cause: new Error("b", { cause: Object.assign(new Error("c"), { code: "ECONNRESET" }) }) }), "ECONNRESET"],
    ["EPIPE in an AggregateError", new AggregateError([new Error("x"), Object.assign(new Error("y"), { code: "EPIPE" })]), "EPIPE"],
    ["ETIMEDOUT as a plain object cause", new Error("t", { cause: { code: "ETIMEDOUT" } }), "ETIMEDOUT"],
  ])("maps %s to UNAVAILABLE", (_name, error, code) => {
    const mapped = toGatewayError(error);
    expect(mapped.code).toBe(GrpcCode.UNAVAILABLE);
    expect(mapped.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
    expect(mapped.message).toContain(code);
    expect(mapped.cause).toBe(error);
  });

  it("terminates on a cyclic cause chain", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    Object.defineProperty(a, "cause", { value: b });
    expect(toGatewayError(a).code).toBe(GrpcCode.INTERNAL);
  });

  const hostile = new Proxy({}, { get() { throw new Error("boom"); }, getPrototypeOf() { throw new Error("boom"); } });
  it.each([
    ["a TypeError", new TypeError("x is undefined; secret=abc")],
    ["a string", "oops"],
    ["undefined", undefined],
    ["null", null],
    ["an ENOENT error", Object.assign(new Error("no file"), { code: "ENOENT" })],
    ["a hostile proxy", hostile],
  ])("maps %s to INTERNAL without leaking its message", (_name, thrown) => {
    const mapped = toGatewayError(thrown);
    expect(mapped).toBeInstanceOf(GatewayError);
    expect(mapped.code).toBe(GrpcCode.INTERNAL);
    expect(mapped.reason).toBe("PG_ERR_INTERNAL");
    expect(mapped.message).toBe("internal error");
    expect(mapped.cause).toBe(thrown);
  });
});

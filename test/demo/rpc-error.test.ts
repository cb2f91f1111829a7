import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BAD_REQUEST_TYPE_URL, DemoRpcError, encodeBadRequestStatus, invalidArgument, notFound } from "../../src/demo/rpc-error.js";
import { decodeRpcStatus } from "../../src/errors/rpc-status.js";
import { decodeBadRequest } from "./support/demo-harness.js";

const violation = fc.record({ field: fc.string(), description: fc.string() });

describe("encodeBadRequestStatus", () => {
  it("round-trips through a google.rpc.Status decoder", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }), fc.string(), fc.array(violation, { maxLength: 8 }), (code, message, violations) => {
        const decoded = decodeRpcStatus(encodeBadRequestStatus(code, message, violations));
        expect(decoded.code).toBe(code);
        expect(decoded.message).toBe(message);
        expect(decoded.details).toHaveLength(1);
        expect(decoded.details[0].typeUrl).toBe(BAD_REQUEST_TYPE_URL);
        expect(decodeBadRequest(decoded.details[0].value)).toEqual(violations);
      }),
    );
  });

  it("encodes a known message byte for byte", () => {
    const bytes = encodeBadRequestStatus(3, "m", [{ field: "f", description: "d" }]);
    const badRequest = [0x0a, 0x06, 0x0a, 0x01, 0x66, 0x12, 0x01, 0x64];
    const typeUrl = [...Buffer.from(BAD_REQUEST_TYPE_URL)];
    const any = [0x0a, typeUrl.length, ...typeUrl, 0x12, badRequest.length, ...badRequest];
    expect([...bytes]).toEqual([0x08, 0x03, 0x12, 0x01, 0x6d, 0x1a, any.length, ...any]);
  });
});

describe("DemoRpcError", () => {
  it("summarises every violation in the message and the trailer", () => {
    const error = invalidArgument([
      { field: "user.email", description: "must not be empty" },
      { field: "user.role", description: "unknown role 9" },
    ]);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.message).toBe("invalid request: user.email: must not be empty; user.role: unknown role 9");
    const [bytes] = error.toMetadata().get("grpc-status-details-bin");
    expect(decodeRpcStatus(bytes as Buffer)).toMatchObject({ code: status.INVALID_ARGUMENT, message: error.message });
  });

  it("has no details trailer without violations", () => {
    const error = notFound("user \"u-9\" not found");
    expect(error).toBeInstanceOf(DemoRpcError);
    expect(error.toMetadata().get("grpc-status-details-bin")).toEqual([]);
  });
});

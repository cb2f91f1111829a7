import { describe, expect, it } from "vitest";
import { GatewayError, badRequest } from "../../src/errors/gateway-error.js";
import { renderError } from "../../src/errors/error-writer.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { toGatewayError } from "../../src/errors/to-gateway-error.js";
import { UpstreamError, statusDetails, type UpstreamErrorInit } from "../../src/upstream/upstream-error.js";
import { encodeRpcStatus } from "../../src/errors/rpc-status.js";

const CALL = { rpcPath: "/p.S/M", timeoutMs: 250 };
const upstreamError = (init: UpstreamErrorInit) => new UpstreamError(CALL, init);
const badRequestDetail = { typeUrl: "type.googleapis.com/google.rpc.BadRequest", value: Uint8Array.from([0x0a, 0x03, 0x0a, 0x01, 0x78]) };
const noJson = () => undefined;

describe("toGatewayError", () => {
  it("returns a GatewayError as is", () => {
    const error = badRequest("PG_ERR_BAD_JSON", "bad");
    expect(toGatewayError(error)).toBe(error);
  });

  it("passes the upstream's own status through: code, message, details and metadata", () => {
    const metadata = [["x-why", "gone"], ["x-why", "really"]] as const;
    const error = upstreamError({ origin: "upstream", code: GrpcCode.INVALID_ARGUMENT, message: "bad name", details: [badRequestDetail], metadata });
    const mapped = toGatewayError(error);
    expect(mapped.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(mapped.reason).toBe("PG_ERR_UPSTREAM");
    expect(mapped.message).toBe("bad name");
    expect(mapped.cause).toBe(error);
    expect(mapped.details).toEqual([badRequestDetail]);
    expect(mapped.metadata).toEqual(metadata);
  });

  it.each([
    ["overloaded", 1_000, "PG_ERR_UPSTREAM_OVERLOADED", "1", "1s"],
    ["breaker", 2_500, "PG_ERR_UPSTREAM_CIRCUIT_OPEN", "3", "2.500s"],
    ["breaker", 0, "PG_ERR_UPSTREAM_CIRCUIT_OPEN", "1", "0s"],
  ] as const)("a call the gateway refused to send (%s) is 503 UNAVAILABLE with Retry-After and RetryInfo, as a rate limit says when", (origin, retryAfterMs, reason, header, delay) => {
    const mapped = toGatewayError(upstreamError({ origin, code: GrpcCode.UNAVAILABLE, message: "internal detail", retryAfterMs, unprocessed: true }));
    expect([mapped.code, mapped.reason, mapped.headers["retry-after"]]).toEqual([GrpcCode.UNAVAILABLE, reason, header]);
    expect(mapped.message).not.toContain("internal detail");
    const rendered = renderError(mapped, noJson);
    expect(rendered.status).toBe(503);
    expect(rendered.headers["retry-after"]).toBe(header);
    expect(JSON.parse(rendered.body).details).toContainEqual({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: delay });
  });

  it("regression: an upstream's own UNIMPLEMENTED is still 501 (only protocol violations are 502)", () => {
    const mapped = toGatewayError(upstreamError({ origin: "upstream", code: GrpcCode.UNIMPLEMENTED, message: "unknown method" }));
    expect(renderError(mapped, noJson).status).toBe(501);
    expect(mapped.reason).toBe("PG_ERR_UPSTREAM");
  });

  const byOrigin: Array<[UpstreamErrorInit["origin"], GrpcCode, GrpcCode, string, number, RegExp]> = [
    ["connection", GrpcCode.UNAVAILABLE, GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", 503, /^upstream unavailable for \/p\.S\/M$/],
    ["deadline", GrpcCode.DEADLINE_EXCEEDED, GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_DEADLINE_EXCEEDED", 504, /^deadline of 250 ms exceeded calling \/p\.S\/M$/],
    ["cancelled", GrpcCode.CANCELLED, GrpcCode.CANCELLED, "PG_ERR_CANCELLED", 499, /^call for \/p\.S\/M cancelled: the client closed the request$/],
    ["upstream", GrpcCode.UNAVAILABLE, GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM", 503, /^db down$/],
    ["upstream", GrpcCode.DEADLINE_EXCEEDED, GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_UPSTREAM", 504, /^db down$/],
    ["protocol", GrpcCode.UNIMPLEMENTED, GrpcCode.INTERNAL, "PG_ERR_UPSTREAM_PROTOCOL", 502, /^upstream protocol error calling \/p\.S\/M: db down$/],
    ["protocol", GrpcCode.CANCELLED, GrpcCode.INTERNAL, "PG_ERR_UPSTREAM_PROTOCOL", 502, /^upstream protocol error calling \/p\.S\/M: db down$/],
  ];
  it.each(byOrigin)("maps a %s failure (transport code %i) to %i %s, HTTP %i", (origin, code, expectedCode, reason, httpStatus, message) => {
    const error = upstreamError({ origin, code, message: "db down", metadata: [["x-a", "1"]] });
    const mapped = toGatewayError(error);
    expect(mapped.code).toBe(expectedCode);
    expect(mapped.reason).toBe(reason);
    expect(mapped.message).toMatch(message);
    expect(renderError(mapped, noJson).status).toBe(httpStatus);
    expect(mapped.cause).toBe(error);
    // Whatever the origin, the upstream's metadata travels on the GatewayError itself.
    expect(mapped.metadata).toEqual([["x-a", "1"]]);
  });

  it("regression: a reply over maxReceiveMessageBytes is 502 PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE naming the sizes, not 429", () => {
    const error = upstreamError({ origin: "limit", code: GrpcCode.RESOURCE_EXHAUSTED, message: "x", limit: { direction: "response", bytes: 2048, maxBytes: 1024 } });
    const mapped = toGatewayError(error);
    const rendered = renderError(mapped, noJson);
    expect(rendered.status).toBe(502);
    expect(rendered.headers["retry-after"]).toBeUndefined();
    expect(JSON.parse(rendered.body)).toEqual({
      code: GrpcCode.INTERNAL,
      message: "reply from /p.S/M is larger than maxReceiveMessageBytes (2048 bytes, limit 1024 bytes)",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE", domain: "protogate" }],
    });
  });

  it("names only the limit when the reply's size is unknown (a compressed reply that grew past it)", () => {
    const error = upstreamError({ origin: "limit", code: GrpcCode.RESOURCE_EXHAUSTED, message: "x", limit: { direction: "response", bytes: undefined, maxBytes: 1024 } });
    expect(toGatewayError(error).message).toBe("reply from /p.S/M is larger than maxReceiveMessageBytes (limit 1024 bytes)");
  });

  it("answers a request message over the upstream's send limit with 413, like a body over the limit", () => {
    const error = upstreamError({ origin: "limit", code: GrpcCode.RESOURCE_EXHAUSTED, message: "x", limit: { direction: "request", bytes: 9, maxBytes: 2 } });
    const mapped = toGatewayError(error);
    expect(mapped.reason).toBe("PG_ERR_BODY_TOO_LARGE");
    expect(mapped.message).toBe("request message for /p.S/M is larger than the upstream's limit (9 bytes, limit 2 bytes)");
    expect(renderError(mapped, noJson).status).toBe(413);
  });

  it("never shows a connection failure's own message (internal addresses) to clients", () => {
    const error = upstreamError({ origin: "connection", code: GrpcCode.UNAVAILABLE, message: "No connection established. Last error: connect ECONNREFUSED 10.0.0.7:50051" });
    const mapped = toGatewayError(error);
    expect(mapped.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
    expect(mapped.message).not.toContain("10.0.0.7");
  });

  it("treats a grpc-js-shaped object that is not an UpstreamError as a gateway bug (INTERNAL), whatever its metadata", () => {
    const lookalike = Object.assign(new Error("14 UNAVAILABLE: x"), { code: 14, details: "x", metadata: { get: () => [] } });
    const mapped = toGatewayError(lookalike);
    expect(mapped.reason).toBe("PG_ERR_INTERNAL");
    expect(mapped.message).toBe("internal error");
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

describe("statusDetails", () => {
  it("decodes grpc-status-details-bin when its code agrees with grpc-status", () => {
    const bin = Buffer.from(encodeRpcStatus({ code: GrpcCode.INVALID_ARGUMENT, message: "bad name", details: [badRequestDetail] }));
    const [detail] = statusDetails([["x-other", "1"], ["grpc-status-details-bin", bin]], GrpcCode.INVALID_ARGUMENT);
    expect(detail.typeUrl).toBe(badRequestDetail.typeUrl);
    expect([...detail.value]).toEqual([...badRequestDetail.value]);
  });

  it.each([
    ["a status whose code disagrees with grpc-status", Buffer.from(encodeRpcStatus({ code: GrpcCode.NOT_FOUND, message: "", details: [badRequestDetail] }))],
    ["malformed bytes", Buffer.from([0x1a, 0x7f, 0x00])],
  ])("drops the details of %s", (_name, bin) => {
    expect(statusDetails([["grpc-status-details-bin", bin]], GrpcCode.INVALID_ARGUMENT)).toEqual([]);
  });
});

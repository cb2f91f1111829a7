import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import type { AnyToJson } from "../../src/errors/any-detail.js";
import { renderError } from "../../src/errors/error-writer.js";

const noTypes: AnyToJson = () => undefined;
const errorInfo = (reason: string) => ({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "protogate" });

describe("renderError", () => {
  it("renders a gateway error as google.rpc.Status JSON with an ErrorInfo detail", () => {
    const out = renderError(new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", "no route for GET /x"), noTypes);
    expect(out.status).toBe(404);
    expect(out.headers).toEqual({ "content-type": "application/json" });
    expect(JSON.parse(out.body)).toEqual({ code: 5, message: "no route for GET /x", details: [errorInfo("PG_ERR_ROUTE_NOT_FOUND")] });
  });

  it("always has a details array", () => {
    const out = renderError(new GatewayError(GrpcCode.INTERNAL, undefined, "x"), noTypes);
    expect(JSON.parse(out.body)).toEqual({ code: 13, message: "x", details: [] });
  });

  it("uses the HTTP status override and the error's headers, but keeps content-type", () => {
    const error = new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_ALLOWED", "use GET", {
      httpStatus: 405,
      headers: { allow: "GET, HEAD", "Content-Type": "text/plain" },
    });
    const out = renderError(error, noTypes);
    expect(out.status).toBe(405);
    expect(out.headers).toEqual({ allow: "GET, HEAD", "content-type": "application/json" });
  });

  it("passes JSON details through after the ErrorInfo", () => {
    const violation = { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field: "name", description: "required" }] };
    const out = renderError(new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_FIELD", "name: required", { details: [violation] }), noTypes);
    expect(out.status).toBe(400);
    expect(JSON.parse(out.body).details).toEqual([errorInfo("PG_ERR_BAD_FIELD"), violation]);
  });

  it("renders upstream errors with the upstream's details only, through anyToJson", () => {
    const known = { typeUrl: "type.googleapis.com/x.Known", value: Uint8Array.from([1]) };
    const unknown = { typeUrl: "type.googleapis.com/x.Unknown", value: Uint8Array.from([0xfb, 0xff]) };
    const throwing = { typeUrl: "type.googleapis.com/x.Broken", value: Uint8Array.from([2]) };
    const anyToJson: AnyToJson = (typeUrl, value) => {
      if (typeUrl.endsWith("Known") && !typeUrl.endsWith("Unknown")) return { "@type": typeUrl, n: value[0] };
      if (typeUrl.endsWith("Broken")) throw new Error("cannot decode");
      return undefined;
    };
    const error = new GatewayError(GrpcCode.FAILED_PRECONDITION, "PG_ERR_UPSTREAM", "not empty", { details: [known, unknown, throwing] });
    const out = renderError(error, anyToJson);
    expect(out.status).toBe(400);
    expect(JSON.parse(out.body)).toEqual({
      code: 9,
      message: "not empty",
      details: [
        { "@type": known.typeUrl, n: 1 },
        { "@type": unknown.typeUrl, value: "+/8=" },
        { "@type": throwing.typeUrl, value: "Ag==" },
      ],
    });
  });

  it.each([
    ["upstream unavailable", new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", "upstream unavailable"), 503],
    ["gateway deadline", new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_DEADLINE_EXCEEDED", "deadline"), 504],
    ["client cancelled", new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", "cancelled"), 499],
  ])("maps %s to its status", (_name, error, status) => {
    const out = renderError(error, noTypes);
    expect(out.status).toBe(status);
    expect(JSON.parse(out.body).details[0].reason).toBe(error.reason);
  });

  it("falls back to a fixed INTERNAL body when a detail cannot be serialised", () => {
    const out = renderError(new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_FIELD", "x", { details: [{ big: 1n }] }), noTypes);
    expect(out.status).toBe(500);
    expect(JSON.parse(out.body)).toMatchObject({ code: 13, details: [] });
  });

  it("escapes messages safely", () => {
    const out = renderError(new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_PATH", 'bad "x"\n</script>'), noTypes);
    expect(JSON.parse(out.body).message).toBe('bad "x"\n</script>');
  });
});

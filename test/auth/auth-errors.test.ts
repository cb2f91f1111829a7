import { describe, expect, it } from "vitest";
import { permissionDenied, unauthenticated } from "../../src/auth/auth-errors.js";
import { renderError } from "../../src/errors/error-writer.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";

const render = (error: Parameters<typeof renderError>[0]) => renderError(error, () => undefined);
const errorInfo = (reason: string) => ({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "protogate" });

describe("unauthenticated", () => {
  it.each([
    ["none", "authentication required", 'Bearer realm="protogate"'],
    ["invalid_request", "multiple Authorization headers", 'Bearer realm="protogate", error="invalid_request", error_description="multiple Authorization headers"'],
    ["invalid_token", "token expired", 'Bearer realm="protogate", error="invalid_token", error_description="token expired"'],
  ] as const)("%s: challenge %j", (kind, description, challenge) => {
    const out = render(unauthenticated(kind, description));
    expect(out.status).toBe(401);
    expect(out.headers["www-authenticate"]).toBe(challenge);
    expect(JSON.parse(out.body)).toEqual({ code: GrpcCode.UNAUTHENTICATED, message: description, details: [errorInfo("PG_ERR_UNAUTHENTICATED")] });
  });

  it.each([
    ["double quotes", 'bad "kid"', "bad 'kid'"],
    ["backslash", "a\\b", "a/b"],
    ["control characters", "a\r\nb", "a??b"],
    ["non-ASCII", "tökén", "t?k?n"],
  ])("makes %s safe inside the quoted error_description", (_name, description, shown) => {
    const header = unauthenticated("invalid_token", description).headers["www-authenticate"];
    expect(header).toBe(`Bearer realm="protogate", error="invalid_token", error_description="${shown}"`);
    expect(header).toMatch(/^[\x20-\x7e]*$/);
  });

  it("cuts very long descriptions", () => {
    const header = unauthenticated("invalid_token", "x".repeat(1000)).headers["www-authenticate"];
    expect(header.length).toBeLessThan(300);
  });

  it("keeps the cause for the log only", () => {
    const cause = new Error("jwks down");
    const error = unauthenticated("invalid_token", "key set unavailable", cause);
    expect(error.cause).toBe(cause);
    expect(render(error).body).not.toContain("jwks down");
  });
});

describe("permissionDenied", () => {
  it.each([
    [["orders:write"], undefined, "missing scope orders:write", 'scope="orders:write"'],
    [["a", "b"], undefined, "missing scopes a b", 'scope="a b"'],
    [["b"], ["a", "b"], "missing scope b", 'scope="a b"'],
  ])("missing %j of %j", (missing, required, message, scope) => {
    const out = render(permissionDenied(missing, required));
    expect(out.status).toBe(403);
    expect(out.headers["www-authenticate"]).toBe(`Bearer realm="protogate", error="insufficient_scope", error_description="${message}", ${scope}`);
    expect(JSON.parse(out.body)).toEqual({ code: GrpcCode.PERMISSION_DENIED, message, details: [errorInfo("PG_ERR_PERMISSION_DENIED")] });
  });

  it("leaves scopes that are not scope tokens out of the challenge", () => {
    const header = permissionDenied(["ok", 'bad"quote', "sp ace"]).headers["www-authenticate"];
    expect(header).toMatch(/, scope="ok"$/);
  });
});

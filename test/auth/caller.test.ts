import { describe, expect, it } from "vitest";
import { callerFromApiKey, callerFromJwt } from "../../src/auth/caller.js";
import type { VerifiedJwt } from "../../src/auth/jwt/jwt-verifier.js";
import { GatewayError } from "../../src/errors/gateway-error.js";

const jwt: VerifiedJwt = {
  subject: "user-1",
  issuer: "https://issuer.example",
  audience: ["api"],
  scopes: ["orders:read", "orders:write"],
  expiresAt: 2_000_000_000,
  claims: Object.freeze({ sub: "user-1", tenant: "acme" }),
};

describe("callerFromJwt", () => {
  it("takes subject, issuer, scopes and claims from the verified token", () => {
    const caller = callerFromJwt(jwt);
    expect(caller).toMatchObject({ kind: "jwt", subject: "user-1", issuer: "https://issuer.example", claims: jwt.claims });
    expect([...caller.scopes]).toEqual(["orders:read", "orders:write"]);
    expect(caller.consumer).toBeUndefined();
    expect(caller.tier).toBeUndefined();
    expect(Object.isFrozen(caller)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["non-ASCII", "jürgen"],
    ["a newline", "a\nb"],
  ])("rejects a sub that cannot be a metadata value (%s) with a 401 invalid_token", (_name, subject) => {
    expect(() => callerFromJwt({ ...jwt, subject })).toThrow(GatewayError);
    try {
      callerFromJwt({ ...jwt, subject });
    } catch (error) {
      expect((error as GatewayError).headers["www-authenticate"]).toContain('error="invalid_token"');
      expect((error as GatewayError).message).toBe("token sub must be printable ASCII");
    }
  });
});

describe("callerFromApiKey", () => {
  it("uses the consumer as subject and carries tier and scopes, no claims", () => {
    const caller = callerFromApiKey({ sha256: "0".repeat(64), consumer: "billing", tier: "gold", scopes: ["invoices:read"] });
    expect(caller).toMatchObject({ kind: "api-key", subject: "billing", consumer: "billing", tier: "gold", claims: {} });
    expect(caller.issuer).toBeUndefined();
    expect([...caller.scopes]).toEqual(["invoices:read"]);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { peekToken } from "../../../src/auth/jwt/token-peek.js";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { GrpcCode } from "../../../src/errors/grpc-code.js";
import { unsignedToken } from "./jwt-test-kit.js";

describe("peekToken", () => {
  it("reads alg, kid and iss without verifying anything", () => {
    expect(peekToken(unsignedToken({ alg: "ES256", kid: "k1" }, { iss: "https://idp.test" }), 8192)).toEqual({ alg: "ES256", kid: "k1", iss: "https://idp.test" });
    expect(peekToken(unsignedToken({ alg: "RS256" }, { iss: 7 } as never), 8192)).toEqual({ alg: "RS256", kid: undefined, iss: undefined });
  });

  it("accepts a token of exactly maxTokenBytes and rejects one byte more", () => {
    const token = unsignedToken({ alg: "RS256" }, { iss: "x" });
    expect(peekToken(token, token.length).alg).toBe("RS256");
    expect(() => peekToken(token, token.length - 1)).toThrow("token too large");
  });

  it("only ever throws UNAUTHENTICATED errors with fixed messages that contain nothing of the input", () => {
    const segment = fc.oneof(
      fc.string(),
      fc.base64String().map((s) => s.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")),
      fc.json().map((json) => Buffer.from(json).toString("base64url")),
    );
    const token = fc.oneof(fc.string({ maxLength: 200 }), fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join(".")));
    fc.assert(
      fc.property(token, (input) => {
        try {
          const peek = peekToken(input, 256);
          expect(typeof peek.alg).toBe("string");
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          const { code, message } = error as GatewayError;
          expect(code).toBe(GrpcCode.UNAUTHENTICATED);
          expect(["token too large", "malformed token"]).toContain(message);
        }
      }),
      { numRuns: 500 },
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_NUMERIC_DATE, peekToken, type TokenPeek } from "../../../src/auth/jwt/token-peek.js";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { GrpcCode } from "../../../src/errors/grpc-code.js";
import { fuzzRuns } from "../../support/fuzz.js";
import { unsignedToken } from "./jwt-test-kit.js";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64url");
/** A token from JSON texts exactly as given (so `1e400` and other raw numbers survive). */
const rawToken = (header: string, payload: string, signature = "c2ln"): string => `${b64(header)}.${b64(payload)}.${signature}`;

/** What peekToken answered: its result, or the message of the 401 it threw. */
function outcome(token: string, max: number): TokenPeek | string {
  try {
    return peekToken(token, max);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(GrpcCode.UNAUTHENTICATED);
    return (error as GatewayError).message;
  }
}

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

  it.each([
    ["exp", "1e400", "token exp is not a valid time"],
    ["exp", "-1e400", "token exp is not a valid time"],
    ["exp", "-1", "token exp is not a valid time"],
    ["exp", String(MAX_NUMERIC_DATE + 1), "token exp is not a valid time"],
    ["exp", '"2030-01-01"', "token exp is not a valid time"],
    ["exp", "null", "token exp is not a valid time"],
    ["exp", "[1]", "token exp is not a valid time"],
    ["nbf", "1e400", "token nbf is not a valid time"],
    ["nbf", "true", "token nbf is not a valid time"],
    ["iat", "1e309", "token iat is not a valid time"],
    ["iat", "-0.5", "token iat is not a valid time"],
  ])("regression: %s = %s is rejected (a non-finite or absurd time claim is invalid)", (claim, raw, message) => {
    expect(outcome(rawToken('{"alg":"RS256"}', `{"iss":"i","${claim}":${raw}}`), 8192)).toBe(message);
  });

  it.each([
    ["exp", "0"],
    ["exp", String(MAX_NUMERIC_DATE)],
    ["exp", "1700000000.5"],
    ["nbf", "1e9"],
    ["iat", "0"],
  ])("accepts %s = %s (a NumericDate from 1970 to the end of year 9999, fractions allowed)", (claim, raw) => {
    expect(outcome(rawToken('{"alg":"RS256"}', `{"iss":"i","${claim}":${raw}}`), 8192)).toEqual({ alg: "RS256", kid: undefined, iss: "i" });
  });

  it("matches a reference model on structured tokens (property)", () => {
    // Each part is generated together with what the model knows about it, so the expectation
    // comes from the generator, not from decoding the token again.
    type Raw = { readonly text: string; readonly value: unknown; readonly validTime: boolean };
    const raw = (text: string, value: unknown, validTime: boolean): Raw => ({ text, value, validTime });
    const timeValue = fc.oneof(
      fc.integer({ min: 0, max: MAX_NUMERIC_DATE }).map((n) => raw(String(n), n, true)),
      fc.double({ min: 0, max: MAX_NUMERIC_DATE, noNaN: true }).map((n) => raw(JSON.stringify(n), n, true)),
      fc.integer({ min: -1e12, max: -1 }).map((n) => raw(String(n), n, false)),
      fc.integer({ min: MAX_NUMERIC_DATE + 1, max: Number.MAX_SAFE_INTEGER }).map((n) => raw(String(n), n, false)),
      fc.constantFrom("1e400", "-1e400", "1e309", "-1e309").map((text) => raw(text, Number(text), false)),
      fc.oneof(fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null)).map((v) => raw(JSON.stringify(v), v, false)),
    );
    const stringish = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.constant(null), fc.boolean()).map((v) => raw(JSON.stringify(v), v, false));
    const member = <K extends string>(key: K, value: fc.Arbitrary<Raw>) => fc.option(value.map((v) => [key, v] as const), { nil: undefined });
    const object = (members: ReadonlyArray<fc.Arbitrary<readonly [string, Raw] | undefined>>) =>
      fc.tuple(...members).map((entries) => entries.filter((entry): entry is readonly [string, Raw] => entry !== undefined));
    const header = object([member("alg", fc.oneof(fc.constantFrom("RS256", "none", "", "HS256").map((v) => raw(JSON.stringify(v), v, false)), stringish)), member("kid", stringish), member("typ", stringish)]);
    const payload = object([member("iss", stringish), member("exp", timeValue), member("nbf", timeValue), member("iat", timeValue), member("sub", stringish)]);
    const text = (entries: ReadonlyArray<readonly [string, Raw]>): string => `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${v.text}`).join(",")}}`;
    const signature = fc.oneof(fc.constant(""), fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/));

    fc.assert(
      fc.property(header, payload, signature, (h, p, sig) => {
        const token = `${b64(text(h))}.${b64(text(p))}.${sig}`;
        const get = (entries: ReadonlyArray<readonly [string, Raw]>, key: string) => entries.find(([k]) => k === key)?.[1];
        const alg = get(h, "alg")?.value;
        const kid = get(h, "kid");
        let expected: TokenPeek | string;
        if (typeof alg !== "string" || alg === "" || (kid !== undefined && typeof kid.value !== "string")) expected = "malformed token";
        else {
          const badTime = ["exp", "nbf", "iat"].find((claim) => get(p, claim) !== undefined && !get(p, claim)?.validTime);
          const iss = get(p, "iss")?.value;
          expected = badTime !== undefined ? `token ${badTime} is not a valid time` : { alg, kid: kid?.value as string | undefined, iss: typeof iss === "string" ? iss : undefined };
        }
        expect(outcome(token, 1 << 20)).toEqual(expected);
      }),
      fuzzRuns(400),
    );
  });

  it("only ever throws UNAUTHENTICATED errors with fixed messages that contain nothing of the input (property)", () => {
    const segment = fc.oneof(
      fc.string(),
      fc.base64String().map((s) => s.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")),
      fc.json().map((json) => Buffer.from(json).toString("base64url")),
    );
    const token = fc.oneof(fc.string({ maxLength: 200 }), fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join(".")));
    const fixed = ["token too large", "malformed token", ...["exp", "nbf", "iat"].map((claim) => `token ${claim} is not a valid time`)];
    fc.assert(
      fc.property(token, (input) => {
        const result = outcome(input, 256);
        if (typeof result === "string") expect(fixed).toContain(result);
        else expect(typeof result.alg).toBe("string");
      }),
      fuzzRuns(500),
    );
  });

  it("a token that is not three base64url segments is malformed, whatever its content (property)", () => {
    const notBase64url = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => /[^A-Za-z0-9_-]/.test(s) && !s.includes("."));
    const valid = rawToken('{"alg":"RS256"}', '{"iss":"i"}');
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat({ max: valid.length }), notBase64url, (kind, at, junk) => {
        const parts = valid.split(".");
        let token: string;
        if (kind === 0) token = parts.slice(0, 2).join(".");
        else if (kind === 1) token = `${valid}.${parts[2]}`;
        else if (kind === 2) token = `${valid.slice(0, at)}${junk}${valid.slice(at)}`;
        else token = `${parts[0]}=.${parts[1]}.${parts[2]}`;
        expect(outcome(token, 8192)).toBe("malformed token");
      }),
      fuzzRuns(300),
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { callTimeoutMs, parseGrpcTimeout } from "../../src/upstream/deadline.js";

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

function expectBadTimeout(header: string): void {
  try {
    parseGrpcTimeout(header);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect((error as GatewayError).reason).toBe("PG_ERR_BAD_TIMEOUT");
    expect((error as GatewayError).message).toContain("grpc-timeout");
    return;
  }
  throw new Error(`expected ${JSON.stringify(header)} to be rejected`);
}

describe("parseGrpcTimeout", () => {
  it.each([
    ["1H", 3_600_000],
    ["2M", 120_000],
    ["5S", 5000],
    ["250m", 250],
    ["1500u", 1.5],
    ["2000000n", 2],
    ["0S", 0],
    ["00000001m", 1],
    ["99999999H", 99_999_999 * 3_600_000],
  ])("parses %s as %d ms", (header, ms) => {
    expect(parseGrpcTimeout(header)).toBeCloseTo(ms, 9);
  });

  it.each(["", "S", "10", "123456789S", "1s", "1h", "-1S", "1.5S", " 1S", "1S ", "1 S", "1SS", "１S", "0x1S", "1e3m"])(
    "rejects %j",
    (header) => expectBadTimeout(header),
  );

  it("parses every 1-8 digit value with every unit", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,8}$/), fc.constantFrom(...Object.keys(UNIT_MS)), (digits, unit) => {
        expect(parseGrpcTimeout(digits + unit)).toBeCloseTo(Number(digits) * UNIT_MS[unit], 6);
      }),
    );
  });

  it("either parses to a finite non-negative number or throws PG_ERR_BAD_TIMEOUT", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (header) => {
        const valid = /^\d{1,8}[HMSmun]$/.test(header);
        if (valid) expect(Number.isFinite(parseGrpcTimeout(header)) && parseGrpcTimeout(header) >= 0).toBe(true);
        else expectBadTimeout(header);
      }),
    );
  });
});

describe("callTimeoutMs", () => {
  it.each([
    ["no client header", 15_000, undefined, 15_000],
    ["a shorter client timeout", 15_000, "2S", 2000],
    ["a longer client timeout (cannot extend)", 15_000, "1M", 15_000],
    ["an equal client timeout", 1000, "1000m", 1000],
    ["a zero client timeout", 1000, "0m", 0],
  ])("uses the route default or the client's, whichever is shorter: %s", (_name, routeMs, header, expected) => {
    expect(callTimeoutMs(routeMs, header)).toBe(expected);
  });

  it("rejects an invalid client header", () => {
    expect(() => callTimeoutMs(1000, "soon")).toThrow(GatewayError);
  });
});

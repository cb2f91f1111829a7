import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { LosslessInteger } from "../../../src/transcode/json/lossless-integer.js";
import { parseJsonText } from "../../../src/transcode/json/parse-json.js";
import { gatewayErrorOf } from "./kitchen-fixture.js";

describe("parseJsonText", () => {
  it("parses like JSON.parse (fast path and careful path alike)", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        // LosslessIntegers (only where JSON.parse would round) stringify as the number JSON.parse gives.
        const same = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
        expect(same(parseJsonText(text))).toEqual(JSON.parse(text));
        // A big integer literal anywhere forces the careful parser over the whole text.
        const careful = parseJsonText(`[${text}, 12345678901234567890]`) as unknown[];
        expect(same(careful[0])).toEqual(JSON.parse(text));
      }),
    );
  });

  it("keeps integers beyond 2^53 exactly", () => {
    const value = parseJsonText('{"a": 9007199254740993, "b": [-18446744073709551615], "c": 9007199254740991, "d": 1.0e20, "e": "12345678901234567890"}') as Record<string, unknown>;
    expect(value.a).toEqual(new LosslessInteger("9007199254740993"));
    expect((value.b as unknown[])[0]).toEqual(new LosslessInteger("-18446744073709551615"));
    expect(value.c).toBe(9007199254740991);
    expect(parseJsonText('[9007199254740992, 12345678901234567890]')).toEqual([9007199254740992, new LosslessInteger("12345678901234567890")]);
    expect(value.d).toBe(1e20);
    expect(value.e).toBe("12345678901234567890");
    expect(parseJsonText("123456789012345678901")).toEqual(new LosslessInteger("123456789012345678901"));
  });

  it("makes __proto__ an own property, not the prototype", () => {
    for (const text of ['{"__proto__": {"x": 1}}', '{"__proto__": {"x": 1}, "n": 12345678901234567890}']) {
      const value = parseJsonText(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.keys(value)).toContain("__proto__");
    }
  });

  it.each([
    ['{"a":}', 'unexpected character "}" at line 1, column 6'],
    ["[1,2", "unexpected end of input at line 1, column 5"],
    ['{"a":1}x', 'unexpected "x" after the JSON value at line 1, column 8'],
    ['{\n  "a": tru\n}', "line 2, column 8"],
    ['"\\q"', "invalid escape in string"],
    ['"a\nb"', "control character in string"],
    ["", "unexpected end of input"],
    ["{'a': 1}", "unexpected character"],
    ['{"a" 1}', 'expected ":"'],
    ["[1 2]", 'expected "," or "]"'],
    ['{"a": 1 "b": 2}', 'expected "," or "}"'],
    ["01", 'unexpected "1" after the JSON value'],
    ["NaN", "unexpected character"],
  ])("rejects %j with a position", (text, detail) => {
    const error = gatewayErrorOf(() => parseJsonText(text));
    expect(error.reason).toBe("PG_ERR_BAD_JSON");
    expect(error.message).toContain(detail);
  });

  it("never echoes the body", () => {
    const error = gatewayErrorOf(() => parseJsonText('{"password": "hunter2" oops}'));
    expect(error.message).not.toContain("hunter2");
  });

  it("handles very deep nesting without recursion", () => {
    expect(Array.isArray(parseJsonText(`${"[".repeat(50_000)}${"]".repeat(50_000)}`))).toBe(true);
    expect(Array.isArray(parseJsonText(`${"[".repeat(50_000)}12345678901234567890${"]".repeat(50_000)}`))).toBe(true);
    expect(gatewayErrorOf(() => parseJsonText("[".repeat(50_000))).reason).toBe("PG_ERR_BAD_JSON");
  });

  it("throws only GatewayError (or succeeds) on any text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json().map((t) => t.slice(0, Math.max(0, t.length - 1)))), (text) => {
        try {
          parseJsonText(text);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
        }
      }),
    );
  });
});

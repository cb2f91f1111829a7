import { ScalarType } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonFieldError } from "../../../src/transcode/json/json-field-error.js";
import { LosslessInteger } from "../../../src/transcode/json/lossless-integer.js";
import { integerFromString } from "../../../src/transcode/json/integer-string.js";
import { scalarJson } from "../../../src/transcode/json/scalar-json.js";
import { fuzzRuns } from "../../support/fuzz.js";

type Row = readonly [input: unknown, expected: unknown];

function detailOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(JsonFieldError);
    return (error as JsonFieldError).detail;
  }
  throw new Error("expected a JsonFieldError");
}

const accepts: ReadonlyArray<readonly [string, ScalarType, readonly Row[]]> = [
  ["int32", ScalarType.INT32, [[0, 0], [-0, 0], [123, 123], [1e2, 100], [1.0, 1], [2147483647, 2147483647], [-2147483648, -2147483648], ["-5", -5], ["1e2", 100], ["1.0", 1], ["2147483647", 2147483647]]],
  ["sint32", ScalarType.SINT32, [[-7, -7], ["-7", -7]]],
  ["sfixed32", ScalarType.SFIXED32, [[-7, -7]]],
  ["uint32", ScalarType.UINT32, [[4294967295, 4294967295], ["4294967295", 4294967295], ["-0", 0]]],
  ["fixed32", ScalarType.FIXED32, [[7, 7]]],
  ["int64", ScalarType.INT64, [[0, "0"], [-12, "-12"], ["123", "123"], ["-9223372036854775808", "-9223372036854775808"], ["9223372036854775807", "9223372036854775807"], [new LosslessInteger("9007199254740993"), "9007199254740993"], [1e18, "1000000000000000000"], ["1e18", "1000000000000000000"], ["-0", "0"]]],
  ["sint64", ScalarType.SINT64, [["-5", "-5"]]],
  ["sfixed64", ScalarType.SFIXED64, [[-5, "-5"]]],
  ["uint64", ScalarType.UINT64, [["18446744073709551615", "18446744073709551615"], [new LosslessInteger("18446744073709551615"), "18446744073709551615"], [0, "0"]]],
  ["fixed64", ScalarType.FIXED64, [["5", "5"]]],
  ["double", ScalarType.DOUBLE, [[1.5, 1.5], ["1.5", 1.5], ["-1.5e-3", -0.0015], ["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity], [new LosslessInteger("12345678901234567890"), 12345678901234567890], [1.7976931348623157e308, 1.7976931348623157e308]]],
  ["float", ScalarType.FLOAT, [[0.1, Math.fround(0.1)], ["1e2", 100], [3.4028234663852886e38, 3.4028234663852886e38], ["NaN", NaN]]],
  ["bool", ScalarType.BOOL, [[true, true], [false, false]]],
  ["string", ScalarType.STRING, [["", ""], ["héllo 😀", "héllo 😀"]]],
  ["bytes", ScalarType.BYTES, [["aGVsbG8=", Buffer.from("hello")], ["aGVsbG8", Buffer.from("hello")], ["-_8=", Buffer.from([0xfb, 0xff])], ["+/8", Buffer.from([0xfb, 0xff])], ["", Buffer.alloc(0)]]],
];

const rejects: ReadonlyArray<readonly [string, ScalarType, ReadonlyArray<readonly [unknown, string]>]> = [
  ["int32", ScalarType.INT32, [[2147483648, "out of range for int32"], [-2147483649, "out of range"], [1.5, "not an integer"], ["1.5", "not an integer"], ["12x", "not an integer"], [" 1", "not an integer"], ["+5", "not an integer"], ["007", "not an integer"], ["0x10", "not an integer"], ["", "not an integer"], [true, "expected an integer"], [null, "expected an integer"], [[], "expected an integer"], [new LosslessInteger("99999999999999999999"), "out of range"], ["1e400", "out of range"]]],
  ["uint32", ScalarType.UINT32, [[-1, "out of range for uint32"], [4294967296, "out of range"]]],
  ["int64", ScalarType.INT64, [["9223372036854775808", "out of range for int64"], ["-9223372036854775809", "out of range"], ["12x", "not a 64-bit integer"], [1.5, "not an integer"], [1e19, "out of range"], [{}, "expected a 64-bit integer"], ["1e-2", "not a 64-bit integer"]]],
  ["uint64", ScalarType.UINT64, [["-1", "out of range for uint64"], ["18446744073709551616", "out of range"], [-1, "out of range"]]],
  ["double", ScalarType.DOUBLE, [["nan", "not a number"], ["inf", "not a number"], ["1e400", "out of range"], [" 1", "not a number"], ["", "not a number"], [true, "expected a number"], [Infinity, "out of range"]]],
  ["float", ScalarType.FLOAT, [[3.5e38, "out of range for float"], ["-3.5e38", "out of range"], [1e300, "out of range"]]],
  ["bool", ScalarType.BOOL, [["true", "expected true or false"], [1, "expected true or false"], [null, "expected true or false"]]],
  ["string", ScalarType.STRING, [[1, "expected a string"], ["\ud800", "unpaired surrogate"], ["a\udc00b", "unpaired surrogate"]]],
  ["bytes", ScalarType.BYTES, [["a!b=", "not base64"], ["aGVs bG8=", "not base64"], ["YQ=", "not base64"], ["Y", "not base64"], ["YQ==YQ==", "not base64"], ["=", "not base64"], [5, "expected a base64 string"]]],
];

describe("scalarJson.read", () => {
  for (const [name, type, rows] of accepts) {
    it.each(rows.map(([input, expected]) => ({ input, expected })))(`${name} accepts %o`, ({ input, expected }) => {
      expect(scalarJson(type).read(input)).toEqual(expected);
    });
  }
  for (const [name, type, rows] of rejects) {
    it.each(rows.map(([input, detail]) => ({ input, detail })))(`${name} rejects %o`, ({ input, detail }) => {
      expect(detailOf(() => scalarJson(type).read(input))).toContain(detail);
    });
  }
});

describe("scalarJson.write", () => {
  const rows: ReadonlyArray<readonly [ScalarType, unknown, unknown]> = [
    [ScalarType.INT32, 5, 5],
    [ScalarType.INT64, "-5", "-5"],
    [ScalarType.UINT64, "18446744073709551615", "18446744073709551615"],
    [ScalarType.DOUBLE, 0.1, 0.1],
    [ScalarType.DOUBLE, NaN, "NaN"],
    [ScalarType.DOUBLE, Infinity, "Infinity"],
    [ScalarType.DOUBLE, -Infinity, "-Infinity"],
    [ScalarType.FLOAT, Math.fround(0.1), 0.1],
    [ScalarType.FLOAT, Math.fround(3.4e38), 3.4e38],
    [ScalarType.FLOAT, -Infinity, "-Infinity"],
    [ScalarType.BOOL, false, false],
    [ScalarType.BYTES, Buffer.from([0xfb, 0xff]), "+/8="],
    [ScalarType.BYTES, new Uint8Array([1, 2, 3]).subarray(1), "AgM="],
  ];
  it.each(rows.map(([type, value, json]) => ({ type: ScalarType[type], value, json })))("$type %o", ({ type, value, json }) => {
    expect(scalarJson(ScalarType[type as keyof typeof ScalarType]).write(value)).toEqual(json);
  });
});

describe("scalarJson.readString (map keys, path and query values)", () => {
  it.each([
    [ScalarType.BOOL, "true", true],
    [ScalarType.BOOL, "false", false],
    [ScalarType.INT32, "-3", -3],
    [ScalarType.INT64, "123", "123"],
    [ScalarType.DOUBLE, "2.5", 2.5],
    [ScalarType.STRING, "x y", "x y"],
  ] as const)("%s %s", (type, text, expected) => {
    expect(scalarJson(type).readString(text)).toEqual(expected);
  });
  it.each([
    [ScalarType.BOOL, "True"],
    [ScalarType.BOOL, "1"],
    [ScalarType.INT32, "x"],
    [ScalarType.UINT64, "-1"],
  ] as const)("%s rejects %s", (type, text) => {
    expect(() => scalarJson(type).readString(text)).toThrow(JsonFieldError);
  });
});

describe("integerFromString", () => {
  it.each([
    ["0", 0],
    ["-0", 0],
    ["1e2", 100],
    ["1.50e1", 15],
    ["100e-2", 1],
    ["9223372036854775807", 9223372036854775807n],
    ["92233720368547758070e-1", 9223372036854775807n],
    ["1.5", undefined],
    ["1e-2", undefined],
    ["-1e-1000000", undefined],
    ["1_000", undefined],
    ["١٢", undefined],
  ] as const)("%s -> %s", (text, expected) => {
    expect(integerFromString(text)).toEqual(expected);
  });

  it("gives a huge (out of range) value for a huge exponent without computing it", () => {
    const value = integerFromString("1e1000000000");
    expect(typeof value === "bigint" && value > 2n ** 64n).toBe(true);
  });

  it("agrees with BigInt on every plain integer", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (n) => {
        expect(BigInt(integerFromString(n.toString())!)).toBe(n);
      }),
      fuzzRuns(100),
    );
  });

  it("agrees with BigInt on integers in exponent form", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 5 }), (n, zeros) => {
        fc.pre(n !== 0n); // "00e-1" is not a JSON number
        const digits = (n < 0n ? -n : n).toString();
        const text = `${n < 0n ? "-" : ""}${digits}${"0".repeat(zeros)}e-${zeros}`;
        expect(BigInt(integerFromString(text)!)).toBe(n);
      }),
      fuzzRuns(100),
    );
  });
});

describe("int64 round trip", () => {
  it("reads back what it writes, for the whole range", () => {
    const codec = scalarJson(ScalarType.INT64);
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const value = codec.read(n.toString());
        expect(value).toBe(n.toString());
        expect(codec.read(codec.write(value))).toBe(value);
      }),
      fuzzRuns(100),
    );
  });
});

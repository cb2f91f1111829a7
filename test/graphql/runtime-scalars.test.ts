import fc from "fast-check";
import { GraphQLError, parseValue, type ValueNode } from "graphql";
import { describe, expect, it } from "vitest";
import { normalizeBase64, RUNTIME_SCALARS, type ScalarBehaviour } from "../../src/graphql/runtime-scalars.js";
import { fuzzRuns } from "../support/fuzz.js";

const scalar = (name: string): Required<ScalarBehaviour> => RUNTIME_SCALARS.get(name) as Required<ScalarBehaviour>;
const literal = (name: string, text: string, variables?: Record<string, unknown>) => scalar(name).parseLiteral(parseValue(text) as ValueNode, variables);
const refuses = (run: () => unknown) => expect(run).toThrow(GraphQLError);

describe("Int64 and UInt64: decimal strings, as proto3 JSON writes them", () => {
  const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
  const uint64 = fc.bigInt(0n, 2n ** 64n - 1n);

  it("round-trips every 64-bit value through serialize, parseValue and a literal (string or Int)", () => {
    fc.assert(
      fc.property(int64, (n) => {
        const text = n.toString();
        expect(scalar("Int64").serialize(text)).toBe(text);
        expect(scalar("Int64").parseValue(text)).toBe(text);
        expect(literal("Int64", JSON.stringify(text))).toBe(text);
        expect(literal("Int64", text)).toBe(text);
      }),
      fuzzRuns(300),
    );
    fc.assert(
      fc.property(uint64, (n) => {
        expect(scalar("UInt64").parseValue(n.toString())).toBe(n.toString());
        expect(literal("UInt64", n.toString())).toBe(n.toString());
      }),
      fuzzRuns(300),
    );
  });

  it("accepts a safe Int as input and refuses what is out of range or not an integer", () => {
    expect(scalar("Int64").parseValue(42)).toBe("42");
    expect(scalar("UInt64").parseValue(0)).toBe("0");
    for (const bad of ["9223372036854775808", "-9223372036854775809", "1.5", "01", "+1", "", " 1", 1.5, 2 ** 60, true, null, {}]) refuses(() => scalar("Int64").parseValue(bad));
    for (const bad of ["-1", "18446744073709551616", -1]) refuses(() => scalar("UInt64").parseValue(bad));
    refuses(() => literal("Int64", "1.5"));
    refuses(() => literal("UInt64", "-1"));
  });
});

describe("UInt32: a JSON number up to 4294967295", () => {
  it("takes 0..2^32-1 and refuses the rest", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(scalar("UInt32").parseValue(n)).toBe(n);
        expect(literal("UInt32", String(n))).toBe(n);
      }),
      fuzzRuns(200),
    );
    for (const bad of [-1, 2 ** 32, 1.5, "1"]) refuses(() => scalar("UInt32").parseValue(bad));
  });
});

describe("Bytes: base64", () => {
  it("round-trips any bytes, from standard or URL-safe base64, padded or not, to standard padded base64", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const standard = Buffer.from(bytes).toString("base64");
        const urlSafe = Buffer.from(bytes).toString("base64url");
        expect(scalar("Bytes").serialize(standard)).toBe(standard);
        expect(normalizeBase64(urlSafe)).toBe(standard);
        expect(normalizeBase64(standard.replace(/=+$/, ""))).toBe(standard);
        expect(Buffer.from(normalizeBase64(urlSafe), "base64")).toEqual(Buffer.from(bytes));
      }),
      fuzzRuns(300),
    );
  });

  it("refuses what is not base64", () => {
    for (const bad of ["a", "abcde", "ab=c", "a b", "é", 12, null]) refuses(() => normalizeBase64(bad));
  });
});

describe("Timestamp: RFC 3339", () => {
  it("round-trips every instant Timestamp can hold, as toISOString writes it", () => {
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    fc.assert(
      fc.property(fc.integer({ min: new Date("0001-01-01T00:00:00Z").getTime(), max }), (ms) => {
        const text = new Date(ms).toISOString();
        expect(scalar("Timestamp").parseValue(text)).toBe(text);
        expect(scalar("Timestamp").serialize(text)).toBe(text);
        expect(literal("Timestamp", JSON.stringify(text))).toBe(text);
      }),
      fuzzRuns(300),
    );
  });

  it("accepts offsets and 0 to 9 fractional digits; refuses impossible dates and other forms", () => {
    for (const good of ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05+02:00", "2024-02-29T00:00:00Z", "0001-01-01T00:00:00Z"]) {
      expect(scalar("Timestamp").parseValue(good)).toBe(good);
    }
    for (const bad of ["2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-02 03:04:05Z", "2024-01-02T03:04:05", "2024-01-02T03:04:05.1234567890Z", "0000-01-01T00:00:00Z", 0]) {
      refuses(() => scalar("Timestamp").parseValue(bad));
    }
    refuses(() => literal("Timestamp", "12"));
  });
});

describe("Duration, FieldMask, JSON scalars, Empty", () => {
  it("Duration: seconds with up to 9 fractional digits and s", () => {
    for (const good of ["1s", "-0.000001s", "1.5s", "315576000000.999999999s"]) expect(scalar("Duration").parseValue(good)).toBe(good);
    for (const bad of ["1", "1.5 s", "1.0000000001s", "s"]) refuses(() => scalar("Duration").parseValue(bad));
  });

  it("FieldMask: comma-separated paths", () => {
    expect(scalar("FieldMask").parseValue("displayName,profile.email")).toBe("displayName,profile.email");
    expect(scalar("FieldMask").parseValue("")).toBe("");
    refuses(() => scalar("FieldMask").parseValue("a,,b"));
  });

  it("JSON scalars take object and list literals, with variables inside", () => {
    expect(literal("JSONObject", '{city: "Paris", tags: ["a", 1, true, null], n: $n}', { n: 2 })).toEqual({ city: "Paris", tags: ["a", 1, true, null], n: 2 });
    expect(literal("JSON", "[1, 2.5]")).toEqual([1, 2.5]);
    expect(literal("JSONArray", "[]")).toEqual([]);
    refuses(() => literal("JSONObject", "[1]"));
    refuses(() => scalar("JSONArray").parseValue({}));
    expect(scalar("Any").parseValue({ "@type": "type.googleapis.com/google.protobuf.Duration", value: "1s" })).toEqual({ "@type": "type.googleapis.com/google.protobuf.Duration", value: "1s" });
    refuses(() => scalar("Any").parseValue({ value: "1s" }));
  });

  it("Empty is always {} out, and only {} in", () => {
    expect(scalar("Empty").serialize({ anything: 1 })).toEqual({});
    expect(scalar("Empty").parseValue({})).toEqual({});
    expect(literal("Empty", "{}")).toEqual({});
    refuses(() => scalar("Empty").parseValue({ a: 1 }));
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { MAX_QUERY_PARAMETERS, parseQueryString } from "../../src/transcode/query-string.js";
import { fuzzRuns } from "../support/fuzz.js";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("parseQueryString", () => {
  it.each<[string, Array<[string, string]>]>([
    ["", []],
    ["a=1", [["a", "1"]]],
    ["a=1&b=2&a=3", [["a", "1"], ["b", "2"], ["a", "3"]]],
    ["b=2&a=1", [["b", "2"], ["a", "1"]]],
    ["a", [["a", ""]]],
    ["a=", [["a", ""]]],
    ["a&b=&c", [["a", ""], ["b", ""], ["c", ""]]],
    ["&&a=1&&&b=2&", [["a", "1"], ["b", "2"]]],
    ["&", []],
    ["=", [["", ""]]],
    ["=x", [["", "x"]]],
    ["a=b=c", [["a", "b=c"]]],
    ["a==", [["a", "="]]],
    ["q=hello+world", [["q", "hello world"]]],
    ["q=a%2Bb", [["q", "a+b"]]],
    ["q=%2B+%20", [["q", "+  "]]],
    ["user.name=J%C3%BCrgen", [["user.name", "Jürgen"]]],
    ["a%5B0%5D=x", [["a[0]", "x"]]],
    ["my+key=v", [["my key", "v"]]],
    ["k=%F0%9F%98%80", [["k", "😀"]]],
    ["k=%26%3D", [["k", "&="]]],
    ["k=a;b", [["k", "a;b"]]],
    ["k=%e2%82%ac", [["k", "€"]]],
  ])("%j", (raw, expected) => {
    expect(parseQueryString(raw)).toEqual(expected);
  });

  it.each([
    ["a=%zz", /value of query parameter "a"/],
    ["a=%4", /value of query parameter "a"/],
    ["a=%", /value of query parameter "a"/],
    ["ok=1&pass%20word=%C0%AF", /value of query parameter "pass word"/],
    ["a=%ED%A0%80", /value of query parameter "a"/],
    ["%zz=1", /query parameter name "%zz"/],
    ["b%FF", /query parameter name "b%FF"/],
  ])("%j -> 400 PG_ERR_BAD_QUERY", (raw, message) => {
    const error = thrown(() => parseQueryString(raw));
    expect(error).toBeInstanceOf(GatewayError);
    const e = error as GatewayError;
    expect(e.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(e.reason).toBe("PG_ERR_BAD_QUERY");
    expect(e.message).toMatch(message);
  });

  it("never echoes a parameter's value in the error", () => {
    const e = thrown(() => parseQueryString("api_key=s3cr3t%zz")) as GatewayError;
    expect(e.message).toContain('"api_key"');
    expect(e.message).not.toContain("s3cr3t");
  });

  it("bounds the number of parameters", () => {
    const params = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join("&");
    expect(parseQueryString(params(MAX_QUERY_PARAMETERS))).toHaveLength(MAX_QUERY_PARAMETERS);
    // Empty pairs do not count.
    expect(parseQueryString(`${params(MAX_QUERY_PARAMETERS)}&&&`)).toHaveLength(MAX_QUERY_PARAMETERS);
    const e = thrown(() => parseQueryString(params(MAX_QUERY_PARAMETERS + 1))) as GatewayError;
    expect(e.reason).toBe("PG_ERR_BAD_QUERY");
    expect(e.message).toMatch(/more than 1000 parameters/);
    expect(parseQueryString("a&b&c", 3)).toHaveLength(3);
    expect((thrown(() => parseQueryString("a&b&c&d", 3)) as GatewayError).reason).toBe("PG_ERR_BAD_QUERY");
  });

  it("gives back encoded key/value lists (form or percent encoding of spaces)", () => {
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 8 }),
      fc.string({ unit: fc.constantFrom(..."&=+% ?#;a/é\u{1F600}"), maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 8 }), fc.boolean(), fc.boolean(), (pairs, formSpaces, bareEmpty) => {
        const encode = (s: string) => (formSpaces ? encodeURIComponent(s).replaceAll("%20", "+") : encodeURIComponent(s));
        // Pairs with an empty key and value would be skipped, so keep them out.
        const kept = pairs.filter(([k, v]) => k !== "" || v !== "");
        const raw = kept.map(([k, v]) => (v === "" && bareEmpty ? encode(k) : `${encode(k)}=${encode(v)}`)).join("&");
        expect(parseQueryString(raw)).toEqual(kept);
      }),
      fuzzRuns(1000),
    );
  });

  it("throws nothing but GatewayError on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."&=+%2Fa0z;é"), maxLength: 30 }), (raw) => {
        try {
          const pairs = parseQueryString(raw);
          for (const [k, v] of pairs) expect(typeof k === "string" && typeof v === "string").toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).reason).toBe("PG_ERR_BAD_QUERY");
        }
      }),
      fuzzRuns(1000),
    );
  });
});

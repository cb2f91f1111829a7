import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { LosslessInteger } from "../../../src/transcode/json/lossless-integer.js";
import { mayHaveDuplicateKeys, parseJsonText } from "../../../src/transcode/json/parse-json.js";
import { fuzzRuns } from "../../support/fuzz.js";
import { gatewayErrorOf } from "./kitchen-fixture.js";

/** LosslessIntegers (only where JSON.parse would round) stringify as the number JSON.parse gives. */
const same = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

/**
 * A JSON document as a tree whose objects are lists of entries, so that it can hold the same key
 * twice (what a client can send and JSON.parse silently merges); printed with random whitespace
 * and key escapes, it is the reference for duplicate detection.
 */
type Doc = { readonly object: ReadonlyArray<readonly [string, Doc]> } | { readonly array: readonly Doc[] } | { readonly scalar: string };

const docArbitrary: fc.Arbitrary<Doc> = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc
      .oneof(
        fc.constantFrom("1", "-0.5e3", "true", "false", "null", "12345678901234567890", '"x"', '"a\\":b"', '":"', '" : "', '"\\"\\":"'),
        fc.string({ maxLength: 6 }).map((text) => JSON.stringify(text)),
      )
      .map((scalar): Doc => ({ scalar })),
    fc.array(tie("doc"), { maxLength: 4 }).map((array): Doc => ({ array })),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom("a", "b", "role", "__proto__", "", "x:y", 'q"', "\\", "é"), fc.string({ maxLength: 3 })), tie("doc")), { maxLength: 5 })
      .map((object): Doc => ({ object })),
  ),
})).doc;

function hasDuplicateKey(doc: Doc): boolean {
  if ("scalar" in doc) return false;
  if ("array" in doc) return doc.array.some(hasDuplicateKey);
  const keys = doc.object.map(([key]) => key);
  return new Set(keys).size !== keys.length || doc.object.some(([, value]) => hasDuplicateKey(value));
}

/** Prints `doc`, taking whitespace from `spaces` in turn and escaping every character of some keys. */
function print(doc: Doc, spaces: readonly string[], escapeKeys: boolean): string {
  let n = 0;
  const ws = (): string => spaces[n++ % spaces.length];
  const key = (text: string): string => {
    const escape = escapeKeys && n % 2 === 0;
    return escape ? `"${text.split("").map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}"` : JSON.stringify(text);
  };
  const go = (d: Doc): string => {
    if ("scalar" in d) return d.scalar;
    if ("array" in d) return `[${ws()}${d.array.map((item) => `${go(item)}${ws()}`).join(`,${ws()}`)}]`;
    return `{${ws()}${d.object.map(([k, v]) => `${key(k)}${ws()}:${ws()}${go(v)}${ws()}`).join(`,${ws()}`)}}`;
  };
  return `${ws()}${go(doc)}${ws()}`;
}

const printedDoc = fc.record({ doc: docArbitrary, spaces: fc.array(fc.constantFrom("", "", " ", "\n  ", "\t", "\r\n"), { minLength: 1, maxLength: 7 }), escapeKeys: fc.boolean() });

describe("parseJsonText", () => {
  it("parses like JSON.parse (fast path and careful path alike)", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        expect(same(parseJsonText(text))).toEqual(JSON.parse(text));
        // A big integer literal anywhere forces the careful parser over the whole text.
        const careful = parseJsonText(`[${text}, 12345678901234567890]`) as unknown[];
        expect(same(careful[0])).toEqual(JSON.parse(text));
      }),
      fuzzRuns(300),
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
      fuzzRuns(300),
    );
  });
});

describe("duplicate keys", () => {
  it('regression: duplicate JSON keys accepted, last wins ({"role":"ROLE_MEMBER","role":"ROLE_ADMIN"} reached the backend as ADMIN)', () => {
    const error = gatewayErrorOf(() => parseJsonText('{"role":"ROLE_MEMBER","role":"ROLE_ADMIN"}'));
    expect(error.code).toBe(3);
    expect(error.reason).toBe("PG_ERR_BAD_JSON");
    expect(error.message).toBe('the request body is not valid JSON: duplicate key "role" at line 1, column 23 (offset 22)');
  });

  it.each([
    ['{"user": {"role": 1, "role": 2}}', [], 'duplicate key "role" (at "user.role")'],
    ['{"a": [{"b": 1}, {"b": 1, "c": [{}, {"d": 0, "d": 0}]}]}', [], 'duplicate key "d" (at "a[1].c[1].d")'],
    ['{"role": 1, "role": 2}', ["user"], 'duplicate key "role" (at "user.role")'],
    ['{"odd key": {"x": 1, "x": 2}}', [], 'duplicate key "x" (at "[odd key].x")'],
    ['{"a": 1, "\\u0061": 2}', [], 'duplicate key "a"'],
    ['{"__proto__": 1, "__proto__": {}}', [], 'duplicate key "__proto__"'],
    ['{"a" : 1 ,\n "a"\t: 2}', [], 'duplicate key "a" at line 2'],
    ['{"n": 12345678901234567890, "m": {"k": 1, "k": 1}}', [], 'duplicate key "k" (at "m.k")'],
  ])("%s (body at %j) -> %s", (text, prefix, detail) => {
    const error = gatewayErrorOf(() => parseJsonText(text, prefix));
    expect(error.reason).toBe("PG_ERR_BAD_JSON");
    expect(error.message).toContain(detail);
  });

  it("the same key in different objects is no duplicate", () => {
    expect(parseJsonText('{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}], "c": "a\\":1,\\"a\\":2"}')).toEqual({ a: { a: 1 }, b: [{ a: 2 }, { a: 3 }], c: 'a":1,"a":2' });
  });

  it("rejects a document exactly when it has a duplicate key, else parses like JSON.parse (property, against the document's own tree)", () => {
    fc.assert(
      fc.property(printedDoc, ({ doc, spaces, escapeKeys }) => {
        const text = print(doc, spaces, escapeKeys);
        if (hasDuplicateKey(doc)) {
          const error = gatewayErrorOf(() => parseJsonText(text));
          expect(error.reason).toBe("PG_ERR_BAD_JSON");
          expect(error.message).toContain("duplicate key");
        } else {
          expect(same(parseJsonText(text))).toEqual(JSON.parse(text));
        }
      }),
      fuzzRuns(500),
    );
  });

  it("the fast path's check has no false negatives: a duplicate always sends the text to the careful parser (property)", () => {
    fc.assert(
      fc.property(printedDoc, ({ doc, spaces, escapeKeys }) => {
        fc.pre(hasDuplicateKey(doc));
        const text = print(doc, spaces, escapeKeys);
        expect(mayHaveDuplicateKeys(text, JSON.parse(text))).toBe(true);
      }),
      fuzzRuns(500),
    );
  });

  it("the check lets the common body through: no duplicate and no quote before a colon in a string", () => {
    const body = '{"displayName": "Ada", "createTime": "2026-11-28T10:15:30Z", "links": [{"href": "https://x"}], "labels": {}}';
    expect(mayHaveDuplicateKeys(body, JSON.parse(body))).toBe(false);
    expect(mayHaveDuplicateKeys("[1, 2]", [1, 2])).toBe(false);
    // A string value starting with ":" only costs the careful parser, which then accepts it.
    const odd = '{"a": ":"}';
    expect(mayHaveDuplicateKeys(odd, JSON.parse(odd))).toBe(true);
    expect(parseJsonText(odd)).toEqual({ a: ":" });
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareCodePoints, compareDecimal } from "../../../src/transcode/json/key-order.js";
import { createResponseShaper } from "../../../src/transcode/response-shaper.js";
import { fuzzRuns } from "../../support/fuzz.js";
import { kitchen, replyBinding } from "./kitchen-fixture.js";

/*
 * Map entries and google.protobuf.Struct keys are written in protojson's order (grpc-gateway's):
 * false before true, integers numerically, strings by Unicode code point. Expectations are JSON
 * text, never parsed objects: JSON.parse (and toEqual) would hide the order.
 */

type Obj = Record<string, unknown>;
const maps = kitchen.plan("kitchen.v1.Maps");
const things = kitchen.plan("kitchen.v1.GetThingRequest");
const runs = fuzzRuns(200);

/** The gateway's reply path: bytes from the backend -> response body text. */
function replyText(plan: typeof maps, bytes: Uint8Array, responseBody = ""): string {
  return createResponseShaper(kitchen, replyBinding(plan.typeName, responseBody))(bytes).body as string;
}

function mapsMessage(prop: string, entries: ReadonlyArray<readonly [unknown, unknown]>): Obj {
  return { ...maps.create(), [prop]: new Map(entries) };
}

/** JSON text of an object with these (already ordered) keys and JSON values. */
const objectText = (entries: ReadonlyArray<readonly [string, unknown]>): string => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;

describe("regression: map and Struct keys came out in the backend's order; identical replies now give identical bytes", () => {
  it("two encodings of one reply (entries in different orders) give the same body, keys sorted", () => {
    const labels: Array<[string, string]> = [
      ["tier", "gold"],
      ["team", "engines"],
      ["region", "eu-west-1"],
      ["cost_center", "cc-4711"],
    ];
    const attrs = { zeta: 1, alpha: "a", mid: { y: true, b: null } };
    const reply = (order: Array<[string, string]>, struct: Obj): Uint8Array => things.encode({ ...things.create(), name: "n", labels: new Map(order), attrs: struct });
    const first = reply(labels, attrs);
    const second = reply([...labels].reverse(), { mid: { b: null, y: true }, alpha: "a", zeta: 1 });
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(false); // the backend's bytes do differ
    const body = replyText(things, first);
    expect(replyText(things, second)).toBe(body);
    expect(body).toBe('{"name":"n","labels":{"cost_center":"cc-4711","region":"eu-west-1","team":"engines","tier":"gold"},"attrs":{"alpha":"a","mid":{"b":null,"y":true},"zeta":1}}');
  });
});

describe("key order of every map key type (table)", () => {
  it.each<[string, string, ReadonlyArray<readonly [unknown, unknown]>, string]>([
    ["int32: numeric, negatives first", "int32Int32", [[5, 1], [-3, 2], [0, 3], [-10, 4], [100, 5], [2147483647, 6], [-2147483648, 7]], '{"-2147483648":7,"-10":4,"-3":2,"0":3,"5":1,"100":5,"2147483647":6}'],
    ["sint32", "sint32Sint32", [[10, 1], [9, 2], [-1, 3]], '{"-1":3,"9":2,"10":1}'],
    ["sfixed32", "sfixed32Sfixed32", [[2, 1], [-2, 2], [1, 3]], '{"-2":2,"1":3,"2":1}'],
    ["uint32: numeric up to 2^32-1", "uint32Uint32", [[4294967295, 1], [7, 2], [0, 3], [4294967294, 4], [100, 5]], '{"0":3,"7":2,"100":5,"4294967294":4,"4294967295":1}'],
    ["fixed32", "fixed32Fixed32", [[20, 1], [3, 2]], '{"3":2,"20":1}'],
    [
      "int64: numeric over the whole range",
      "int64Int64",
      [["5", "1"], ["-3", "2"], ["9223372036854775807", "3"], ["-9223372036854775808", "4"], ["0", "5"], ["10", "6"], ["-20", "7"]],
      '{"-9223372036854775808":"4","-20":"7","-3":"2","0":"5","5":"1","10":"6","9223372036854775807":"3"}',
    ],
    ["sint64", "sint64Sint64", [["-1", "1"], ["-10", "2"], ["4294967296", "3"], ["1", "4"]], '{"-10":"2","-1":"1","1":"4","4294967296":"3"}'],
    ["sfixed64", "sfixed64Sfixed64", [["9", "1"], ["-9", "2"], ["10", "3"]], '{"-9":"2","9":"1","10":"3"}'],
    [
      "uint64: numeric beyond 2^53",
      "uint64Uint64",
      [["18446744073709551615", "1"], ["5", "2"], ["4294967295", "3"], ["0", "4"], ["9007199254740993", "5"]],
      '{"0":"4","5":"2","4294967295":"3","9007199254740993":"5","18446744073709551615":"1"}',
    ],
    ["fixed64", "fixed64Fixed64", [["100", "1"], ["99", "2"]], '{"99":"2","100":"1"}'],
    ["bool: false before true", "boolBool", [[true, false], [false, true]], '{"false":true,"true":false}'],
    [
      "string: code point order (digits as text, \"10\" before \"9\"; U+FFFD before U+1F600)",
      "stringString",
      [["b", "1"], ["9", "2"], ["10", "3"], ["a", "4"], ["B", "5"], ["", "6"], ["é", "7"], ["\uFFFD", "8"], ["😀", "9"], ["__proto__", "10"], ["-1", "11"], ["01", "12"]],
      '{"":"6","-1":"11","01":"12","10":"3","9":"2","B":"5","__proto__":"10","a":"4","b":"1","é":"7","\uFFFD":"8","😀":"9"}',
    ],
    ["string: only digits", "stringString", [["9", "a"], ["10", "b"], ["100", "c"], ["0", "d"]], '{"0":"d","10":"b","100":"c","9":"a"}'],
    ["one entry is written as it is", "stringString", [["only", "x"]], '{"only":"x"}'],
  ])("%s", (_name, prop, entries, expected) => {
    const message = mapsMessage(prop, entries);
    expect(JSON.stringify(maps.writeJson(message, 1))).toBe(`{${JSON.stringify(prop)}:${expected}}`);
    // The same through the binary reply path, in both entry orders.
    expect(replyText(maps, maps.encode(message))).toBe(`{${JSON.stringify(prop)}:${expected}}`);
    expect(replyText(maps, maps.encode(mapsMessage(prop, [...entries].reverse())))).toBe(`{${JSON.stringify(prop)}:${expected}}`);
  });

  // More keys than the insertion sort takes: Array.prototype.sort, or none when already in order.
  const padded = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}`);
  const interleaved = <T,>(keys: readonly T[]): T[] => keys.map((_, i) => keys[(i * 7) % keys.length]);
  it.each<[string, string, ReadonlyArray<readonly [unknown, unknown]>, string]>([
    ["20 string keys, interleaved", "stringString", interleaved(padded).map((k) => [k, k]), objectText(padded.map((k) => [k, k]))],
    ["20 string keys, in order", "stringString", padded.map((k) => [k, k]), objectText(padded.map((k) => [k, k]))],
    ["20 int32 keys, interleaved", "int32Int32", interleaved(Array.from({ length: 20 }, (_, i) => i - 10)).map((k) => [k, k]), objectText(Array.from({ length: 20 }, (_, i) => [String(i - 10), i - 10]))],
    ["20 int64 keys, interleaved", "int64Int64", interleaved(Array.from({ length: 20 }, (_, i) => String(i - 10))).map((k) => [k, k]), objectText(Array.from({ length: 20 }, (_, i) => [String(i - 10), String(i - 10)]))],
  ])("%s", (_name, prop, entries, expected) => {
    expect(replyText(maps, maps.encode(mapsMessage(prop, entries)))).toBe(`{${JSON.stringify(prop)}:${expected}}`);
    expect(replyText(maps, maps.encode(mapsMessage(prop, [...entries].reverse())))).toBe(`{${JSON.stringify(prop)}:${expected}}`);
  });

  it("sorts Struct keys in every place a Struct is written: a field, a nested Value, a map value, a top-level Struct", () => {
    const struct = { b: 1, 10: 2, 9: 3, a: { z: [{ y: 1, x: 2 }], c: 0 }, "😀": 4, "\uFFFD": 5 };
    const expected = '{"10":2,"9":3,"a":{"c":0,"z":[{"x":2,"y":1}]},"b":1,"\uFFFD":5,"😀":4}';
    expect(JSON.stringify(things.writeJson({ ...things.create(), attrs: struct, dyn: { list: [struct] } }, 1))).toBe(`{"attrs":${expected},"dyn":{"list":[${expected}]}}`);
    expect(JSON.stringify(maps.writeJson(mapsMessage("stringStruct", [["s", struct]]), 1))).toBe(`{"stringStruct":{"s":${expected}}}`);
    const topLevel = kitchen.codec<unknown>("google.protobuf.Struct");
    expect(JSON.stringify(topLevel.toJson({ fields: new Map(Object.entries(struct)) }))).toBe(expected);
  });

  it("keeps the order in Object.keys of the written object, not only in its JSON text", () => {
    const written = maps.writeJson(mapsMessage("stringString", [["9", "a"], ["10", "b"], ["x", "c"]]), 1) as Record<string, Obj>;
    expect(Object.keys(written.stringString)).toEqual(["10", "9", "x"]);
  });
});

describe("response_body selections and Any payloads use the same order", () => {
  it.each([
    ["labels", '{"a":"2","b":"1"}'],
    ["attrs", '{"10":2,"9":1}'],
  ])("response_body %s", (field, expected) => {
    const bytes = things.encode({ ...things.create(), labels: new Map([["b", "1"], ["a", "2"]]), attrs: { 9: 1, 10: 2 } });
    expect(replyText(things, bytes, field)).toBe(expected);
  });

  it("an Any holding a message with a map (as in error details)", () => {
    const payload = maps.encode(mapsMessage("int32Int32", [[3, 1], [-1, 2], [1, 3]]));
    expect(JSON.stringify(kitchen.anyToJson("type.googleapis.com/kitchen.v1.Maps", payload))).toBe(
      '{"@type":"type.googleapis.com/kitchen.v1.Maps","int32Int32":{"-1":2,"1":3,"3":1}}',
    );
  });
});

describe("comparisons", () => {
  it.each([
    ["a", "b", -1],
    ["b", "a", 1],
    ["", "a", -1],
    ["a", "a", 0],
    ["ab", "a", 1],
    ["\uFFFD", "😀", -1], // U+FFFD < U+1F600, though its UTF-16 code unit is above the surrogate D83D
    ["\uE000", "\u{10000}", -1],
    ["\uD7FF", "\u{10000}", -1],
    ["😀", "😁", -1],
  ])("compareCodePoints(%j, %j) has the sign %d", (a, b, sign) => {
    expect(Math.sign(compareCodePoints(a, b))).toBe(sign);
  });

  it.each([
    ["-1", "1", -1],
    ["-10", "-9", -1],
    ["9", "10", -1],
    ["0", "0", 0],
    ["-9223372036854775808", "9223372036854775807", -1],
    ["18446744073709551615", "18446744073709551614", 1],
  ])("compareDecimal(%s, %s) has the sign %d", (a, b, sign) => {
    expect(Math.sign(compareDecimal(a, b))).toBe(sign);
  });
});

type KeyKind = "string" | "integer" | "bool";

/** An independent model of the order: code points via Array.from, integers as BigInt. */
function modelCompare(kind: KeyKind, a: unknown, b: unknown): number {
  if (kind === "bool") return Number(a) - Number(b);
  if (kind === "integer") {
    const [x, y] = [BigInt(a as string | number), BigInt(b as string | number)];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const [x, y] = [Array.from(a as string), Array.from(b as string)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Unique keys with values, and the same entries in a second (shuffled) insertion order. */
function entriesTwice<K, V>(key: fc.Arbitrary<K>, value: fc.Arbitrary<V>) {
  return fc
    .uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 40, size: "medium" })
    .chain((entries) => fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })));
}

// Strings a backend can send (valid UTF-8: no unpaired surrogates), any code point up to U+10FFFF.
const text = (maxLength: number) => fc.string({ unit: "binary", maxLength }).filter((t) => !/\p{Surrogate}/u.test(t));
// Keys that stress the order: array-index-like digits, characters above U+FFFF and at U+E000..U+FFFF.
const stringKey = fc.oneof(text(6), fc.nat({ max: 200 }).map(String), fc.constantFrom("", "__proto__", "\uFFFD", "😀", "\uE000"));
const int64Key = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(String);
const uint64Key = fc.bigInt(0n, 2n ** 64n - 1n).map(String);

describe("property: for random map contents in random insertion order, the JSON is byte-identical and sorted", () => {
  it.each<[string, KeyKind, fc.Arbitrary<readonly [unknown, unknown]>]>([
    ["stringString", "string", fc.tuple(stringKey, text(8))],
    ["int32Int32", "integer", fc.tuple(fc.integer(), fc.integer())],
    ["sint32Sint32", "integer", fc.tuple(fc.integer({ min: -20, max: 20 }), fc.integer())],
    ["uint32Uint32", "integer", fc.tuple(fc.nat({ max: 4294967295 }), fc.nat({ max: 4294967295 }))],
    ["int64Int64", "integer", fc.tuple(int64Key, int64Key)],
    ["uint64Uint64", "integer", fc.tuple(uint64Key, uint64Key)],
    ["boolBool", "bool", fc.tuple(fc.boolean(), fc.boolean())],
  ])("%s", (prop, kind, entry) => {
    fc.assert(
      fc.property(entriesTwice(entry.map(([k]) => k), entry.map(([, v]) => v)), ([entries, shuffled]) => {
        const first = replyText(maps, maps.encode(mapsMessage(prop, entries)));
        expect(replyText(maps, maps.encode(mapsMessage(prop, shuffled)))).toBe(first);
        const sorted = [...entries].sort(([a], [b]) => modelCompare(kind, a, b));
        expect(first).toBe(entries.length === 0 ? "{}" : `{${JSON.stringify(prop)}:${objectText(sorted.map(([k, v]) => [String(k), v]))}}`);
      }),
      runs,
    );
  });

  it("google.protobuf.Struct keys (a Struct reply, whose binary entries keep any order)", () => {
    const struct = kitchen.plan("google.protobuf.Struct");
    const value = fc.oneof(text(8), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(entriesTwice(stringKey, value), ([entries, shuffled]) => {
        const first = replyText(struct, struct.encode({ fields: new Map(entries) }));
        expect(replyText(struct, struct.encode({ fields: new Map(shuffled) }))).toBe(first);
        expect(first).toBe(objectText([...entries].sort(([a], [b]) => modelCompare("string", a, b))));
      }),
      runs,
    );
  });
});

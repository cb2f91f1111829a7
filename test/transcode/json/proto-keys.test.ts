import { describe, expect, it } from "vitest";
import { Struct } from "../../../generated/google/protobuf/struct.js";
import { parseJsonText } from "../../../src/transcode/json/parse-json.js";
import * as kitchenGen from "../../fixtures/kitchen/gen/kitchen/v1/kitchen.js";
import { kitchen } from "./kitchen-fixture.js";

/*
 * Keys such as "__proto__" in a google.protobuf.Struct or a map<string, ...> are data: they must
 * arrive as own properties (or Map keys) both ways, and never reach an object's prototype.
 */

type Obj = Record<string, unknown>;
const codec = kitchen.codec<Obj>("kitchen.v1.Kitchen");
const fns = kitchenGen.Kitchen as unknown as { encode(m: Obj): { finish(): Uint8Array }; decode(b: Uint8Array): Obj };

/** Request JSON text -> codec -> ts-proto bytes (as sent upstream) -> ts-proto object (as decoded) -> codec -> JSON. */
function roundTrip(text: string): { decoded: Obj; json: unknown } {
  const decoded = fns.decode(fns.encode(codec.fromJson(parseJsonText(text))).finish());
  return { decoded, json: JSON.parse(JSON.stringify(codec.toJson(decoded))) as unknown };
}

describe('regression: a Struct key "__proto__" is dropped from responses (requests keep it)', () => {
  const text = '{"wellKnown": {"struct": {"__proto__": {"polluted": true}, "n": 1}, "value": {"__proto__": "x"}, "rStruct": [{"__proto__": [1]}]}}';

  it("survives the request and the response path as an own property, prototypes untouched", () => {
    const { decoded, json } = roundTrip(text);
    expect(json).toEqual(JSON.parse(text));
    const struct = (decoded.wellKnown as Obj).struct as Obj;
    expect(Object.keys(struct)).toEqual(["__proto__", "n"]);
    expect(Object.getPrototypeOf(struct)).toBe(Object.prototype);
    expect((struct as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("ts-proto's Struct.unwrap (as protogate generate writes it) keeps the key", () => {
    const unwrapped = Struct.unwrap({ fields: new Map<string, unknown>([["__proto__", { a: 1 }], ["b", 2]]) });
    expect(Object.getOwnPropertyDescriptor(unwrapped, "__proto__")?.value).toEqual({ a: 1 });
    expect(Object.getPrototypeOf(unwrapped)).toBe(Object.prototype);
    expect(JSON.stringify(unwrapped)).toBe('{"__proto__":{"a":1},"b":2}');
  });
});

describe("map<string, ...> keys are data", () => {
  it.each([
    ['{"maps": {"stringString": {"__proto__": "v", "constructor": "c"}}}'],
    ['{"maps": {"stringMessage": {"__proto__": {"name": "n"}}}}'],
    ['{"maps": {"stringStruct": {"__proto__": {"__proto__": {}}}}}'],
    ['{"maps": {"stringValue": {"__proto__": {"toString": 1}}}}'],
  ])("%s round-trips", (text) => {
    const { decoded, json } = roundTrip(text);
    expect(json).toEqual(JSON.parse(text));
    const maps = decoded.maps as Obj;
    for (const value of Object.values(maps)) if (value instanceof Map && value.size > 0) expect([...value.keys()]).toContain("__proto__");
    expect(Object.getPrototypeOf(maps)).toBe(Object.prototype);
  });
});

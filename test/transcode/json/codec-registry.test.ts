import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createCodecRegistry } from "../../../src/transcode/json/codec-registry.js";
import { GrpcCode } from "../../../src/errors/grpc-code.js";
import * as anyGen from "../../fixtures/kitchen/gen/google/protobuf/any.js";
import * as duration from "../../fixtures/kitchen/gen/google/protobuf/duration.js";
import * as kitchenGen from "../../fixtures/kitchen/gen/kitchen/v1/kitchen.js";
import { gatewayErrorOf, kitchen, kitchenLenient } from "./kitchen-fixture.js";

const {
  Inner,
  Kitchen,
  Maps,
  Oneofs,
  Optionals,
  Scalars,
  Tree,
  WellKnown,
} = kitchenGen;

type Obj = Record<string, unknown>;
const codec = (type: string) => kitchen.codec<Obj>(`kitchen.v1.${type}`);
const read = (type: string, json: unknown): Obj => codec(type).fromJson(json);
const write = (type: string, message: unknown): unknown => codec(type).toJson(message as Obj);

/** ts-proto's own default object of a type (its decode of no bytes is createBase()). */
const tsProtoDefaults: ReadonlyArray<readonly [string, { decode(b: Uint8Array): unknown }]> = [
  ["Scalars", Scalars],
  ["Optionals", Optionals],
  ["Inner", Inner],
  ["Maps", Maps],
  ["Oneofs", Oneofs],
  ["WellKnown", WellKnown],
  ["Tree", Tree],
  ["Kitchen", Kitchen],
  ["GetThingRequest", kitchenGen.GetThingRequest],
  ["UploadRequest", kitchenGen.UploadRequest],
];

function readError(type: string, json: unknown, registry = kitchen) {
  return gatewayErrorOf(() => registry.codec(`kitchen.v1.${type}`).fromJson(json));
}

describe("complete ts-proto objects", () => {
  it.each(tsProtoDefaults)("%s: {} gives exactly ts-proto's default object", (type, fns) => {
    const message = read(type, {});
    expect(message).toStrictEqual(fns.decode(new Uint8Array(0)));
    expect(Object.keys(message)).toEqual(Object.keys(fns.decode(new Uint8Array(0)) as Obj));
  });

  it("fills every field of nested messages, list elements and map values", () => {
    const message = read("Kitchen", { tree: { children: [{}] }, maps: { stringMessage: { k: {} } }, inners: [{}] });
    const empty = (fns: { decode(b: Uint8Array): unknown }) => fns.decode(new Uint8Array(0));
    expect((message.tree as Obj).children).toStrictEqual([empty(Tree)]);
    expect((message.maps as { stringMessage: Map<string, unknown> }).stringMessage.get("k")).toStrictEqual(empty(Inner));
    expect(message.inners).toStrictEqual([empty(Inner)]);
  });

  it("gives objects ts-proto can encode", () => {
    const message = read("Kitchen", { scalars: { fInt64: "5" }, wellKnown: { timestamp: "2020-01-01T00:00:00Z", struct: { a: 1 } }, tree: { left: {} } });
    expect(() => Kitchen.encode(message as never).finish()).not.toThrow();
  });
});

describe("field names", () => {
  it.each([
    [{ fInt32: 1 }, "fInt32"],
    [{ f_int32: 1 }, "fInt32"],
  ])("Scalars %j", (json, prop) => {
    expect(read("Scalars", json)[prop]).toBe(1);
  });
  it.each([
    [{ custom_json: "a" }, { custom_json: "a" }],
    [{ renamed_field: "a" }, { custom_json: "a" }],
    [{ xYZ: 1 }, { xYZ: 1 }],
    [{ x_y_z: 1 }, { xYZ: 1 }],
    [{ abc1Def: "d" }, { abc1Def: "d" }],
    [{ abc1_def: "d" }, { abc1Def: "d" }],
  ])("Tree %j prints as %j", (json, printed) => {
    expect(write("Tree", read("Tree", json))).toEqual(printed);
  });
  it.each([
    [{ fInt32: 1, f_int32: 2 }, "f_int32", "fInt32"],
    [{ custom_json: "a", renamed_field: "b" }, "renamed_field", "custom_json"],
  ])("rejects a field given under both names: %j", (json, reported, other) => {
    const error = readError(json === undefined ? "" : "custom_json" in json ? "Tree" : "Scalars", json);
    expect(error.message).toContain(`"${reported}"`);
    expect(error.message).toContain(other);
  });
  it("regression: a field given under its JSON name and its proto name is a duplicate (displayName and display_name)", () => {
    const demo = createCodecRegistry(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "kitchen", "demo.binpb")), { ignoreUnknownFields: false });
    const error = gatewayErrorOf(() => demo.codec("demo.v1.CreateUserRequest").fromJson({ user: { displayName: "Ada", display_name: "Eve" } }));
    expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(error.reason).toBe("PG_ERR_BAD_FIELD");
    expect(error.message).toBe('duplicate field "user.display_name": also given as "displayName"');
    // Even when one of them is null (null leaves a field at its default, but it still names it).
    expect(gatewayErrorOf(() => demo.codec("demo.v1.User").fromJson({ display_name: null, displayName: "Eve" })).message).toBe('duplicate field "displayName": also given as "display_name"');
  });
  it.each([
    ["int32Int32", { "1": 1, "1e0": 2 }, '"1e0"', '"1"'],
    ["int64Int64", { "7": "1", "7.0": "2" }, '"7.0"', '"7"'],
    ["uint64Uint64", { "18446744073709551615": "1", "1.8446744073709551615e19": "2" }, '"1.8446744073709551615e19"', '"18446744073709551615"'],
  ])("rejects two spellings of one map key (%s)", (field, map, second, first) => {
    const error = readError("Maps", { [field]: map });
    expect(error.reason).toBe("PG_ERR_BAD_FIELD");
    expect(error.message).toBe(`duplicate field "${field}[${JSON.parse(second) as string}]": the map key is also given as ${first}`);
  });
  it("rejects unknown fields, naming them with their path", () => {
    expect(readError("Kitchen", { tree: { left: { nope: 1 } } }).message).toBe('unknown field "tree.left.nope"');
    expect(readError("Kitchen", { "[kitchen.ext]": 1 }).message).toContain('unknown field "[kitchen.ext]"');
  });
  it("skips unknown fields with ignoreUnknownFields", () => {
    const message = kitchenLenient.codec<Obj>("kitchen.v1.Tree").fromJson({ nodeName: "a", nope: { deep: [1] } });
    expect(message.nodeName).toBe("a");
  });
});

describe("errors", () => {
  it("are INVALID_ARGUMENT PG_ERR_BAD_FIELD and name the field path", () => {
    const error = readError("Kitchen", { inners: [{}, { count: "12x" }] });
    expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(error.reason).toBe("PG_ERR_BAD_FIELD");
    expect(error.message).toBe('invalid value for field "inners[1].count": "12x" is not a 64-bit integer');
  });
  it.each([
    [{ maps: { stringMessage: { k: { count: true } } } }, 'field "maps.stringMessage[k].count"'],
    [{ maps: { int32Int32: { x: 1 } } }, 'field "maps.int32Int32[x]"'],
    [{ wellKnown: { struct: { a: [1, { "b c": "\ud800" }] } } }, 'field "wellKnown.struct.a[1][b c]"'],
    [{ maps: { stringString: { 'say "hi"': 1 } } }, 'field "maps.stringString[\"say \\\"hi\\\"\"]"'],
    [{ wellKnown: { any: { "@type": "type.googleapis.com/kitchen.v1.Inner", count: "x" } } }, 'field "wellKnown.any.count"'],
    [{ wellKnown: { rAny: [{ "@type": "type.googleapis.com/google.protobuf.Duration", value: "x" }] } }, 'field "wellKnown.rAny[0].value"'],
  ])("%j -> %s", (json, path) => {
    expect(readError("Kitchen", json).message).toContain(path);
  });
  it("describe the root when the root itself is wrong", () => {
    expect(readError("Kitchen", []).message).toBe("invalid value for kitchen.v1.Kitchen: expected a JSON object for kitchen.v1.Kitchen, got an array");
    expect(readError("Kitchen", null).message).toContain("got null");
  });
  it("bound what they echo of a value", () => {
    const error = readError("Scalars", { fInt32: `${"9".repeat(500)}x` });
    expect(error.message.length).toBeLessThan(200);
  });
});

describe("presence on output", () => {
  it("omits proto3 defaults but prints set optional and oneof members even at default", () => {
    expect(write("Scalars", read("Scalars", { fInt32: 0, fString: "", fBool: false, fBytes: "", fEnum: 0, fInt64: "0", rInt32: [] }))).toEqual({});
    expect(write("Optionals", read("Optionals", { oInt32: 0, oString: "", oBool: false, oBytes: "", oEnum: "COLOR_UNSPECIFIED", oInt64: "0", oMessage: {} }))).toEqual({
      oInt32: 0,
      oString: "",
      oBool: false,
      oBytes: "",
      oEnum: "COLOR_UNSPECIFIED",
      oInt64: "0",
      oMessage: {},
    });
    expect(write("Oneofs", read("Oneofs", { oInt64: "0" }))).toEqual({ oInt64: "0" });
    expect(write("Oneofs", read("Oneofs", { pBool: false }))).toEqual({ pBool: false });
    expect(write("Kitchen", read("Kitchen", { tree: {} }))).toEqual({ tree: {} });
  });
  it("prints map entries whose value is a default", () => {
    expect(write("Maps", read("Maps", { int32Int32: { "0": 0 }, stringString: { "": "" } }))).toEqual({ int32Int32: { "0": 0 }, stringString: { "": "" } });
  });
});

describe("null", () => {
  it.each([
    ["Scalars", { fInt32: null, fString: null, rInt32: null, fEnum: null }, {}],
    ["Optionals", { oInt32: null, oMessage: null }, {}],
    ["Maps", { stringString: null }, {}],
    ["Oneofs", { oString: null, oInt64: "5" }, { oInt64: "5" }],
    ["Oneofs", { oValue: null }, { oValue: null }],
    ["WellKnown", { value: null }, { value: null }],
    ["WellKnown", { nullValue: null }, {}],
    ["WellKnown", { int32Wrapper: null, timestamp: null, struct: null, any: null, empty: null, listValue: null }, {}],
    ["WellKnown", { rValue: [null, 1] }, { rValue: [null, 1] }],
    ["WellKnown", { rNullValue: [null, "NULL_VALUE", 0] }, { rNullValue: [null, null, null] }],
    ["Maps", { stringValue: { a: null } }, { stringValue: { a: null } }],
  ])("%s %j prints %j", (type, json, printed) => {
    expect(write(type, read(type, json))).toEqual(printed);
  });
  it("sets a Value field to null (NULL_VALUE), distinct from unset", () => {
    expect(read("WellKnown", { value: null }).value).toBeNull();
    expect(read("WellKnown", {}).value).toBeUndefined();
  });
  it.each([
    ["Scalars", { rInt32: [1, null] }, "rInt32[1]"],
    ["Scalars", { rString: [null] }, "rString[0]"],
    ["Kitchen", { inners: [null] }, "inners[0]"],
    ["Maps", { stringString: { a: null } }, "stringString[a]"],
    ["Maps", { stringMessage: { a: null } }, "stringMessage[a]"],
    ["WellKnown", { rTimestamp: [null] }, "rTimestamp[0]"],
  ])("rejects null inside %s %j", (type, json, path) => {
    expect(readError(type, json).message).toContain(path);
  });
});

describe("scalars in messages", () => {
  it("reads every type and prints 64-bit integers as strings, floats shortest", () => {
    const json = {
      fInt32: -1, fInt64: -2, fUint32: 3, fUint64: "4", fSint32: -5, fSint64: "-6", fFixed32: 7, fFixed64: 8, fSfixed32: -9, fSfixed64: "-10",
      fFloat: 0.1, fDouble: 0.1, fBool: true, fString: "s", fBytes: "-_8", fEnum: 2,
      rInt64: [1, "2"], rFloat: ["NaN", 1.5], rDouble: ["-Infinity"], rBool: [true, false], rBytes: ["AA"], rEnum: ["COLOR_RED", 3, 42], rUnpacked: [1, 2],
    };
    expect(write("Scalars", read("Scalars", json))).toEqual({
      fInt32: -1, fInt64: "-2", fUint32: 3, fUint64: "4", fSint32: -5, fSint64: "-6", fFixed32: 7, fFixed64: "8", fSfixed32: -9, fSfixed64: "-10",
      fFloat: 0.1, fDouble: 0.1, fBool: true, fString: "s", fBytes: "+/8=", fEnum: "COLOR_GREEN",
      rInt64: ["1", "2"], rFloat: ["NaN", 1.5], rDouble: ["-Infinity"], rBool: [true, false], rBytes: ["AA=="], rEnum: ["COLOR_RED", "COLOR_BLUE", 42], rUnpacked: [1, 2],
    });
  });
  it("holds the ts-proto types: numbers, decimal strings, Buffers", () => {
    const message = read("Scalars", { fInt64: 5, fBytes: "AQI=", fFloat: 0.1, fEnum: "COLOR_BLUE" });
    expect(message.fInt64).toBe("5");
    expect(Buffer.isBuffer(message.fBytes)).toBe(true);
    expect(message.fBytes).toEqual(Buffer.from([1, 2]));
    expect(message.fFloat).toBe(Math.fround(0.1));
    expect(message.fEnum).toBe(3);
  });
});

describe("enums", () => {
  it.each([
    [{ fEnum: "COLOR_RED" }, 1],
    [{ fEnum: 2 }, 2],
    [{ fEnum: "3" }, 3],
    [{ fEnum: 99 }, 99],
    [{ fEnum: -1 }, -1],
  ])("%j -> %s", (json, value) => {
    expect(read("Scalars", json).fEnum).toBe(value);
  });
  it.each([[{ fEnum: "COLOR_PURPLE" }, "is not a value of enum kitchen.v1.Color"], [{ fEnum: 1.5 }, "not a valid enum number"], [{ fEnum: true }, "expected an enum name or number"], [{ fEnum: 2147483648 }, "not a valid enum number"], [{ fEnum: "color_red" }, "is not a value"]])(
    "rejects %j",
    (json, detail) => {
      expect(readError("Scalars", json).message).toContain(detail);
    },
  );
  it("drops unknown names with ignoreUnknownFields (singular, repeated, map)", () => {
    const lenient = kitchenLenient.codec<Obj>("kitchen.v1.Scalars");
    expect(lenient.fromJson({ fEnum: "COLOR_PURPLE" }).fEnum).toBe(0);
    expect(lenient.fromJson({ rEnum: ["COLOR_RED", "COLOR_PURPLE", "COLOR_BLUE"] }).rEnum).toEqual([1, 3]);
    const maps = kitchenLenient.codec<Obj>("kitchen.v1.Maps").fromJson({ stringEnum: { a: "COLOR_PURPLE", b: "COLOR_RED" } });
    expect(maps.stringEnum).toEqual(new Map([["b", 1]]));
  });
  it("prints unknown numbers as numbers and nested enums by name", () => {
    expect(write("Scalars", { ...read("Scalars", {}), fEnum: 42 })).toEqual({ fEnum: 42 });
    expect(write("Inner", read("Inner", { mood: "MOOD_HAPPY" }))).toEqual({ mood: "MOOD_HAPPY" });
  });
});

describe("maps", () => {
  const json = {
    stringString: { a: "b" },
    int32Int32: { "-1": 1 },
    int64Int64: { "-9223372036854775808": "9223372036854775807" },
    uint32Uint32: { "4294967295": 1 },
    uint64Uint64: { "18446744073709551615": "1" },
    sint32Sint32: { "-2": -2 },
    sint64Sint64: { "-3": "-3" },
    fixed32Fixed32: { "4": 4 },
    fixed64Fixed64: { "5": "5" },
    sfixed32Sfixed32: { "-6": -6 },
    sfixed64Sfixed64: { "-7": "-7" },
    boolBool: { true: false, false: true },
    stringFloat: { f: "Infinity" },
    stringDouble: { d: 0.5 },
    stringBytes: { b: "AQ==" },
    stringEnum: { e: "COLOR_RED" },
    stringMessage: { m: { name: "n" } },
    stringTimestamp: { t: "2020-01-01T00:00:00Z" },
    stringDuration: { d: "1s" },
    stringValue: { v: [1, "a"] },
    stringStruct: { s: { a: {} } },
    stringList: { l: [] },
    stringInt64Wrapper: { w: "5" },
    stringStringWrapper: { w: "" },
    stringFieldMask: { f: "a.bC" },
    stringAny: { a: { "@type": "type.googleapis.com/google.protobuf.Int32Value", value: 1 } },
    stringEmpty: { e: {} },
  };
  it("reads and prints a map of every key type and value kind", () => {
    expect(write("Maps", read("Maps", json))).toEqual(json);
  });
  it("keys maps with the ts-proto key types", () => {
    const message = read("Maps", json) as Record<string, Map<unknown, unknown>>;
    expect([...message.int32Int32.keys()]).toEqual([-1]);
    expect([...message.int64Int64.keys()]).toEqual(["-9223372036854775808"]);
    expect([...message.boolBool.keys()]).toEqual([true, false]);
    expect(message.stringFieldMask.get("f")).toEqual(["a.b_c"]);
    expect(message.stringStruct.get("s")).toEqual({ a: {} });
  });
  it.each([
    [{ int32Int32: { "1.5": 1 } }, "int32Int32[1.5]"],
    [{ int32Int32: { "2147483648": 1 } }, "out of range"],
    [{ uint64Uint64: { "-1": "1" } }, "out of range"],
    [{ boolBool: { True: true } }, 'expected "true" or "false"'],
    [{ boolBool: { "1": true } }, 'expected "true" or "false"'],
    [{ int64Int64: { x: "1" } }, "not a 64-bit integer"],
    [{ stringString: ["a"] }, "expected an object (a map)"],
    [{ stringString: { a: 1 } }, "expected a string"],
  ])("rejects %j", (json, detail) => {
    expect(readError("Maps", json).message).toContain(detail);
  });
});

describe("oneofs", () => {
  it("reads one member", () => {
    expect(read("Oneofs", { oInner: { name: "x" } }).oInner).toMatchObject({ name: "x" });
    expect(write("Oneofs", read("Oneofs", { oTimestamp: "1970-01-01T00:00:00Z", pDouble: 0 }))).toEqual({ oTimestamp: "1970-01-01T00:00:00Z", pDouble: 0 });
  });
  it.each([
    [{ oString: "a", oInt64: "1" }, "oInt64", 'oneof "kind"'],
    [{ oString: "a", o_int64: "1" }, "o_int64", 'oneof "kind"'],
    [{ pBool: true, p_double: 1 }, "p_double", 'oneof "other"'],
    [{ oValue: null, oBytes: "" }, "oBytes", 'oneof "kind"'],
  ])("rejects two members %j", (json, field, detail) => {
    const message = readError("Oneofs", json).message;
    expect(message).toContain(`"${field}"`);
    expect(message).toContain(detail);
  });
  it("lets a null member not count", () => {
    expect(write("Oneofs", read("Oneofs", { oString: null, oInt64: "7" }))).toEqual({ oInt64: "7" });
  });
});

describe("well-known types as fields", () => {
  it.each([
    ["timestamp", "1972-01-01T10:00:20.021-05:00", { seconds: "63126020", nanos: 21000000 }, "1972-01-01T15:00:20.021Z"],
    ["duration", "-1.5s", { seconds: "-1", nanos: -500000000 }, "-1.500s"],
    ["fieldMask", "user.displayName,tags", ["user.display_name", "tags"], "user.displayName,tags"],
    ["fieldMask", "", [], ""],
    ["struct", { a: [1, { b: null }] }, { a: [1, { b: null }] }, { a: [1, { b: null }] }],
    ["value", "s", "s", "s"],
    ["value", [1, { a: true }], [1, { a: true }], [1, { a: true }]],
    ["listValue", [null, "x"], [null, "x"], [null, "x"]],
    ["empty", {}, {}, {}],
    ["doubleWrapper", "NaN", NaN, "NaN"],
    ["floatWrapper", 0.1, Math.fround(0.1), 0.1],
    ["int64Wrapper", 0, "0", "0"],
    ["uint64Wrapper", "18446744073709551615", "18446744073709551615", "18446744073709551615"],
    ["int32Wrapper", "0", 0, 0],
    ["uint32Wrapper", 7, 7, 7],
    ["boolWrapper", false, false, false],
    ["stringWrapper", "", "", ""],
    ["bytesWrapper", "AQ", Buffer.from([1]), "AQ=="],
    ["nullValue", "NULL_VALUE", 0, undefined],
  ])("%s: %j", (field, json, value, printed) => {
    const message = read("WellKnown", { [field]: json });
    expect(message[field]).toEqual(value);
    expect((write("WellKnown", message) as Obj)[field]).toEqual(printed);
  });
  it("reads repeated well-known types in their field shapes", () => {
    const message = read("WellKnown", {
      rTimestamp: ["1970-01-01T00:00:01Z"],
      rDuration: ["2s"],
      rFieldMask: ["a,bC"],
      rStruct: [{ a: 1 }],
      rListValue: [[1]],
      rEmpty: [{}],
      rInt64Wrapper: ["5", 6],
      rStringWrapper: ["s"],
      rBytesWrapper: ["AQ=="],
      rFloatWrapper: ["Infinity"],
    });
    expect(message).toMatchObject({
      rTimestamp: [{ seconds: "1", nanos: 0 }],
      rDuration: [{ seconds: "2", nanos: 0 }],
      rFieldMask: [["a", "b_c"]],
      rStruct: [{ a: 1 }],
      rListValue: [[1]],
      rEmpty: [{}],
      rInt64Wrapper: ["5", "6"],
      rStringWrapper: ["s"],
      rBytesWrapper: [Buffer.from([1])],
      rFloatWrapper: [Infinity],
    });
    expect(() => WellKnown.encode(message as never).finish()).not.toThrow();
  });
  it.each([
    [{ timestamp: 0 }, "expected a timestamp string"],
    [{ timestamp: "2021-02-30T00:00:00Z" }, "not a valid date"],
    [{ duration: "1" }, "not a duration"],
    [{ duration: "315576000001s" }, "outside the Duration range"],
    [{ fieldMask: "a_b" }, "lowerCamelCase"],
    [{ fieldMask: ["a"] }, "expected a field mask string"],
    [{ struct: [] }, "expected a JSON object"],
    [{ listValue: {} }, "expected a JSON array"],
    [{ empty: { a: 1 } }, "unknown field"],
    [{ empty: [] }, "expected a JSON object"],
    [{ int32Wrapper: "x" }, "not an integer"],
    [{ boolWrapper: "true" }, "expected true or false"],
    [{ nullValue: "NULL" }, "is not a value of enum google.protobuf.NullValue"],
  ])("rejects %j", (json, detail) => {
    expect(readError("WellKnown", json).message).toContain(detail);
  });
});

describe("well-known types at the top level (unwrapped shapes do not apply)", () => {
  it.each([
    ["google.protobuf.Timestamp", "1970-01-01T00:00:00.5Z", { seconds: "0", nanos: 500000000 }],
    ["google.protobuf.Duration", "3s", { seconds: "3", nanos: 0 }],
    ["google.protobuf.FieldMask", "fooBar", { paths: ["foo_bar"] }],
    ["google.protobuf.Struct", { a: 1 }, { fields: new Map([["a", 1]]) }],
    ["google.protobuf.ListValue", [1], { values: [1] }],
    ["google.protobuf.Value", null, { nullValue: 0, numberValue: undefined, stringValue: undefined, boolValue: undefined, structValue: undefined, listValue: undefined }],
    ["google.protobuf.Value", { a: 1 }, { nullValue: undefined, numberValue: undefined, stringValue: undefined, boolValue: undefined, structValue: { a: 1 }, listValue: undefined }],
    ["google.protobuf.Int64Value", "5", { value: "5" }],
    ["google.protobuf.BytesValue", "AQ==", { value: Buffer.from([1]) }],
    ["google.protobuf.Empty", {}, {}],
    ["google.protobuf.Any", {}, { typeUrl: "", value: Buffer.alloc(0) }],
    ["google.api.HttpBody", { contentType: "text/plain", data: "aGk=" }, { contentType: "text/plain", data: Buffer.from("hi"), extensions: [] }],
  ])("%s %j", (type, json, message) => {
    const c = kitchen.codec<unknown>(type);
    expect(c.fromJson(json)).toStrictEqual(message);
    expect(c.fromJson(c.toJson(c.fromJson(json)))).toStrictEqual(message);
  });
  it("prints top-level well-known types in their JSON form", () => {
    expect(kitchen.codec("google.protobuf.Timestamp").toJson({ seconds: "0", nanos: 500000000 })).toBe("1970-01-01T00:00:00.500Z");
    expect(kitchen.codec("google.protobuf.Struct").toJson({ fields: new Map([["a", [1, null]]]) })).toEqual({ a: [1, null] });
    expect(kitchen.codec("google.protobuf.Value").toJson({ numberValue: 2 })).toBe(2);
    expect(kitchen.codec("google.protobuf.Value").toJson({})).toBeNull();
    expect(kitchen.codec("google.protobuf.UInt64Value").toJson({ value: "7" })).toBe("7");
    expect(kitchen.codec("google.protobuf.FieldMask").toJson({ paths: ["a_b", "c"] })).toBe("aB,c");
  });
  it("rejects null for anything but Value", () => {
    expect(gatewayErrorOf(() => kitchen.codec("google.protobuf.Int32Value").fromJson(null)).reason).toBe("PG_ERR_BAD_FIELD");
    expect(gatewayErrorOf(() => kitchen.codec("google.protobuf.Empty").fromJson(null)).reason).toBe("PG_ERR_BAD_FIELD");
  });
  it("throws for a type that is not in the descriptor set", () => {
    expect(() => kitchen.codec("kitchen.v1.Nope")).toThrow(/kitchen\.v1\.Nope/);
  });
  it("reports its type name and caches codecs", () => {
    expect(kitchen.codec("kitchen.v1.Tree").typeName).toBe("kitchen.v1.Tree");
    expect(kitchen.codec("kitchen.v1.Tree")).toBe(kitchen.codec("kitchen.v1.Tree"));
  });
});

describe("google.protobuf.Any", () => {
  const url = (type: string) => `type.googleapis.com/${type}`;
  it.each([
    [{ "@type": url("kitchen.v1.Inner"), name: "n", mood: "MOOD_HAPPY" }],
    [{ "@type": url("google.protobuf.Duration"), value: "1.500s" }],
    [{ "@type": url("google.protobuf.Struct"), value: { a: [1] } }],
    [{ "@type": url("google.protobuf.Value"), value: null }],
    [{ "@type": url("google.protobuf.StringValue"), value: "s" }],
    [{ "@type": url("google.protobuf.FieldMask"), value: "aB" }],
    [{ "@type": url("google.protobuf.Any"), value: { "@type": url("kitchen.v1.Inner"), count: "3" } }],
    [{ "@type": url("google.protobuf.Empty") }],
    [{ "@type": url("kitchen.v1.Tree"), left: { inner: { labels: ["x"] } } }],
    [{}],
  ])("round-trips %j", (json) => {
    expect(write("WellKnown", read("WellKnown", { any: json }))).toEqual({ any: json });
  });
  it("holds the payload as binary ts-proto can decode", () => {
    const message = read("WellKnown", { any: { "@type": url("kitchen.v1.Inner"), name: "n", count: "3" } });
    const held = message.any as { typeUrl: string; value: Buffer };
    expect(held.typeUrl).toBe(url("kitchen.v1.Inner"));
    expect(Inner.decode(held.value)).toMatchObject({ name: "n", count: "3" });
    const wkt = read("WellKnown", { any: { "@type": url("google.protobuf.Duration"), value: "2s" } }).any as { value: Buffer };
    expect(duration.Duration.decode(wkt.value)).toEqual({ seconds: "2", nanos: 0 });
  });
  it("prints a payload that ts-proto encoded", () => {
    const value = Buffer.from(Inner.encode({ name: "z", count: "-4", mood: 1, labels: ["a"] }).finish());
    const message: anyGen.Any = { typeUrl: url("kitchen.v1.Inner"), value };
    expect(write("WellKnown", { ...read("WellKnown", {}), any: message })).toEqual({
      any: { "@type": url("kitchen.v1.Inner"), name: "z", count: "-4", mood: "MOOD_HAPPY", labels: ["a"] },
    });
  });
  it("accepts Empty with a value as well (protobuf-go's form)", () => {
    expect(write("WellKnown", read("WellKnown", { any: { "@type": url("google.protobuf.Empty"), value: {} } }))).toEqual({ any: { "@type": url("google.protobuf.Empty") } });
  });
  it.each([
    [{ name: "x" }, '"@type"'],
    [{ "@type": 5 }, '"@type"'],
    [{ "@type": url("kitchen.v1.Nope") }, "unknown message type"],
    [{ "@type": url("kitchen.v1.Inner"), nope: 1 }, 'unknown field "wellKnown.any.nope"'],
    [{ "@type": url("google.protobuf.Duration") }, 'needs a "value"'],
    [{ "@type": url("google.protobuf.Duration"), value: "1s", extra: 1 }, 'unknown field "wellKnown.any.extra"'],
    [{ "@type": url("google.protobuf.Duration"), value: null }, "must not be null"],
    [[], "expected a JSON object for google.protobuf.Any"],
  ])("rejects %j", (json, detail) => {
    expect(gatewayErrorOf(() => kitchen.codec("kitchen.v1.Kitchen").fromJson({ wellKnown: { any: json } })).message).toContain(detail);
  });
});

describe("anyToJson", () => {
  it("renders a known type and returns undefined for an unknown one", () => {
    const value = Inner.encode({ name: "n", count: "0", mood: 0, labels: [] }).finish();
    expect(kitchen.anyToJson("type.googleapis.com/kitchen.v1.Inner", value)).toEqual({ "@type": "type.googleapis.com/kitchen.v1.Inner", name: "n" });
    expect(kitchen.anyToJson("type.googleapis.com/google.protobuf.Duration", duration.Duration.encode({ seconds: "1", nanos: 0 }).finish())).toEqual({
      "@type": "type.googleapis.com/google.protobuf.Duration",
      value: "1s",
    });
    expect(kitchen.anyToJson("type.googleapis.com/x.Unknown", new Uint8Array([1]))).toBeUndefined();
  });
  it("throws a GatewayError for bytes that do not decode", () => {
    const error = gatewayErrorOf(() => kitchen.anyToJson("type.googleapis.com/kitchen.v1.Inner", new Uint8Array([0x0a, 0x05, 0x61])));
    expect(error.code).toBe(GrpcCode.INTERNAL);
  });
});

describe("toJson failures are INTERNAL (the upstream sent something with no JSON form)", () => {
  it.each([
    [{ timestamp: { seconds: "253402300800", nanos: 0 } }, 'field "timestamp"'],
    [{ duration: { seconds: "1", nanos: -1 } }, "different signs"],
    [{ fieldMask: ["fooBar"] }, "upper-case"],
    [{ value: NaN }, "no JSON form"],
    [{ struct: { a: Infinity } }, 'field "struct.a"'],
    [{ any: { typeUrl: "type.googleapis.com/x.Unknown", value: Buffer.from([1]) } }, "unknown message type"],
  ])("%j", (patch, detail) => {
    const error = gatewayErrorOf(() => write("WellKnown", { ...read("WellKnown", {}), ...patch }));
    expect(error.code).toBe(GrpcCode.INTERNAL);
    expect(error.reason).toBe("PG_ERR_INTERNAL");
    expect(error.message).toContain(detail);
  });
});

import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import fc from "fast-check";
import * as duration from "../../fixtures/kitchen/gen/google/protobuf/duration.js";
import * as wrappers from "../../fixtures/kitchen/gen/google/protobuf/wrappers.js";
import * as kitchenGen from "../../fixtures/kitchen/gen/kitchen/v1/kitchen.js";

/**
 * Test helper: fast-check arbitraries of valid ts-proto objects for any message type, built from
 * its descriptor (independently of the codec under test: shapes follow ts-proto's generated
 * interfaces, checked against its encode/decode by the property tests).
 */

type Arb = fc.Arbitrary<unknown>;

const noNegativeZero = (n: number): number => (Object.is(n, -0) ? 0 : n);
/** JSON values as they survive JSON text (no -0). */
const jsonValue: Arb = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
/** Struct keys: "__proto__" often, as data (it must never touch a prototype on the way). */
const structKey = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 6 }) }, { weight: 1, arbitrary: fc.constant("__proto__") });
const jsonObject: Arb = fc.dictionary(structKey, jsonValue, { maxKeys: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const jsonArray: Arb = fc.array(jsonValue, { maxLength: 4 });

/** 64-bit values at the edges: of the type, of 32 bits (one word or two), of exact doubles (2^53). */
const UINT64_EDGES = [0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
const INT64_EDGES = [-(2n ** 63n), -(2n ** 63n) + 1n, -(2n ** 53n) - 1n, -(2n ** 53n), -(2n ** 53n) + 1n, -(2n ** 32n), -(2n ** 31n) - 1n, -(2n ** 31n), -1n, ...UINT64_EDGES.filter((n) => n < 2n ** 63n)];

function scalar(type: ScalarType): Arb {
  switch (type) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer().map(noNegativeZero);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.integer({ min: 0, max: 0xffffffff });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(fc.constantFrom(...INT64_EDGES), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(String);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.constantFrom(...UINT64_EDGES), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(String);
    case ScalarType.FLOAT:
      return fc.float().map(noNegativeZero);
    case ScalarType.DOUBLE:
      return fc.double().map(noNegativeZero);
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return fc.string({ unit: "binary", maxLength: 8 });
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b));
  }
}

const snakePath = fc
  .array(fc.stringMatching(/^[a-z][a-z0-9]{0,4}(_[a-z][a-z0-9]{0,3}){0,2}$/), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join("."));

const anyPayload: Arb = fc.oneof(
  fc.tuple(fc.string({ maxLength: 5 }), scalar(ScalarType.INT64), fc.constantFrom(0, 1), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 })).map(([name, count, mood, labels]) => ({
    typeUrl: "type.googleapis.com/kitchen.v1.Inner",
    value: Buffer.from(kitchenGen.Inner.encode({ name, count: count as string, mood, labels }).finish()),
  })),
  fc.integer({ min: -1000, max: 1000 }).map((seconds) => ({
    typeUrl: "type.googleapis.com/google.protobuf.Duration",
    value: Buffer.from(duration.Duration.encode({ seconds: String(seconds), nanos: 0 }).finish()),
  })),
  fc.integer().map((value) => ({
    typeUrl: "type.googleapis.com/google.protobuf.Int32Value",
    value: Buffer.from(wrappers.Int32Value.encode({ value }).finish()),
  })),
);

/** The value of a message-typed field, in the shape ts-proto gives such a field. */
function messageValue(desc: DescMessage, depth: number): Arb | undefined {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return fc
        .tuple(fc.integer({ min: -62135596800, max: 253402300799 }), fc.integer({ min: 0, max: 999_999_999 }))
        .map(([s, n]) => ({ seconds: String(s), nanos: n }));
    case "google.protobuf.Duration":
      return fc
        .tuple(fc.integer({ min: -315576000000, max: 315576000000 }), fc.integer({ min: 0, max: 999_999_999 }))
        .map(([s, n]) => ({ seconds: String(s), nanos: n !== 0 && (s < 0 || (s === 0 && n % 2 === 1)) ? -n : n }));
    case "google.protobuf.FieldMask":
      return fc.array(snakePath, { maxLength: 3 });
    case "google.protobuf.Struct":
      return jsonObject;
    case "google.protobuf.Value":
      return jsonValue;
    case "google.protobuf.ListValue":
      return jsonArray;
    case "google.protobuf.Empty":
      return fc.constant({});
    case "google.protobuf.Any":
      return anyPayload;
  }
  if (desc.typeName.startsWith("google.protobuf.") && desc.typeName.endsWith("Value")) {
    const inner = desc.fields[0];
    return inner.fieldKind === "scalar" ? scalar(inner.scalar) : undefined;
  }
  return depth <= 0 ? undefined : arbitraryMessage(desc, depth - 1);
}

function enumValue(field: DescField): Arb {
  const values = field.enum!.values.map((v) => v.number);
  // NullValue has one value; any other number prints as null and cannot come back.
  if (field.enum!.typeName === "google.protobuf.NullValue") return fc.constant(0);
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 200 }) });
}

function singular(field: DescField, depth: number): Arb | undefined {
  if (field.fieldKind === "enum") return enumValue(field);
  if (field.fieldKind === "scalar") return scalar(field.scalar);
  if (field.fieldKind === "message") return messageValue(field.message, depth);
  return undefined;
}

function element(field: DescField & { fieldKind: "list" | "map" }, depth: number): Arb | undefined {
  const kind = field.fieldKind === "list" ? field.listKind : field.mapKind;
  if (kind === "enum") return enumValue(field);
  if (kind === "scalar") return scalar(field.scalar!);
  return messageValue(field.message!, depth);
}

/** Complete ts-proto objects of `desc` (every property present), nesting at most `depth` levels. */
export function arbitraryMessage(desc: DescMessage, depth = 2): fc.Arbitrary<Record<string, unknown>> {
  const parts: Array<fc.Arbitrary<Array<[string, unknown]>>> = [];
  const oneofsDone = new Set<string>();
  for (const field of desc.fields) {
    if (field.fieldKind === "list") {
      const item = element(field, depth);
      parts.push((item ? fc.array(item, { maxLength: 3 }) : fc.constant([])).map((v) => [[field.jsonName, v]]));
    } else if (field.fieldKind === "map") {
      const value = element(field, depth);
      const key = scalar(field.mapKey);
      parts.push((value ? fc.array(fc.tuple(key, value), { maxLength: 3 }).map((e) => new Map(e)) : fc.constant(new Map())).map((v) => [[field.jsonName, v]]));
    } else if (field.oneof !== undefined) {
      if (oneofsDone.has(field.oneof.name)) continue;
      oneofsDone.add(field.oneof.name);
      const members = field.oneof.fields;
      const unset: Array<[string, unknown]> = members.map((m) => [m.jsonName, undefined]);
      const choices = members.flatMap((m) => {
        const arb = singular(m, depth);
        return arb ? [arb.map((v): Array<[string, unknown]> => unset.map(([k]) => [k, k === m.jsonName ? v : undefined]))] : [];
      });
      parts.push(fc.oneof(fc.constant(unset), ...choices));
    } else {
      const arb = singular(field, depth);
      const explicit = field.fieldKind === "message" || field.proto.proto3Optional;
      const value = arb === undefined ? fc.constant(undefined) : explicit ? fc.option(arb, { nil: undefined }) : arb;
      parts.push(value.map((v) => [[field.jsonName, v]]));
    }
  }
  return fc.tuple(...parts).map((groups) => Object.fromEntries(groups.flat()));
}

import { ScalarType, type DescField, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { SKIP, enumJson } from "./enum-json.js";
import { JsonFieldError, describe, tooDeep, valueError, withSegment } from "./json-field-error.js";
import { isJsonObject, mapKeySegment, setOwn } from "./json-object.js";
import { keepKeyOrder, keyOrder, type KeyOrder } from "./key-order.js";
import { MAX_DEPTH } from "./json-policy.js";
import type { ElementCodec, FieldPlan, PlanContext } from "./plan-types.js";
import { scalarJson } from "./scalar-json.js";

const VALUE = "google.protobuf.Value";

/** Compiles the JSON handling of one field of a regular message. */
export function compileField(field: DescField, ctx: PlanContext): FieldPlan {
  let element: ElementCodec;
  let mapKey: FieldPlan["mapKey"];
  let order: KeyOrder | undefined;
  switch (field.fieldKind) {
    case "scalar":
      element = scalarElement(field.scalar);
      break;
    case "enum":
      element = enumElement(field, ctx);
      break;
    case "message":
      element = messageElement(field, ctx);
      break;
    case "list":
      element = field.listKind === "scalar" ? scalarElement(field.scalar) : field.listKind === "enum" ? enumElement(field, ctx) : messageElement(field, ctx);
      break;
    case "map": {
      element = field.mapKind === "scalar" ? scalarElement(field.scalar) : field.mapKind === "enum" ? enumElement(field, ctx) : messageElement(field, ctx);
      const key = scalarJson(field.mapKey);
      const boolKey = field.mapKey === ScalarType.BOOL;
      mapKey = { readString: key.readString, write: boolKey ? (k) => (k ? "true" : "false") : (k) => String(k) };
      order = keyOrder(field.mapKey);
      break;
    }
  }
  const cardinality = field.fieldKind === "list" ? "list" : field.fieldKind === "map" ? "map" : "singular";
  const common = {
    explicitPresence: hasExplicitPresence(field),
    desc: field,
    prop: field.jsonName,
    jsonName: field.jsonName,
    protoName: field.name,
    element,
    mapKey,
    oneof: field.fieldKind === "list" || field.fieldKind === "map" ? undefined : field.oneof?.name,
  };
  if (cardinality === "list") return { ...common, cardinality, ...listHandling(element) };
  if (cardinality === "map") return { ...common, cardinality, ...mapHandling(element, mapKey!, order!) };
  return { ...common, cardinality, ...singularHandling(element) };
}

/**
 * Whether a singular field is `T | undefined` in ts-proto, unset by default and printed whenever
 * set: message fields, oneof members and proto3 `optional` scalars.
 */
export function hasExplicitPresence(field: DescField): boolean {
  if (field.fieldKind === "message") return true;
  if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") return false;
  return field.oneof !== undefined || field.proto.proto3Optional === true;
}

function singularHandling(element: ElementCodec) {
  // JSON null: a Value holds NULL_VALUE, a NullValue enum is 0, anything else stays unset.
  const nullValue = element.acceptsNull ? (element.message !== undefined ? null : element.read(null, 0)) : SKIP;
  return { read: element.read, write: element.write, nullValue };
}

function listHandling(element: ElementCodec) {
  const read = (json: unknown, depth: number): unknown => {
    if (!Array.isArray(json)) throw valueError(`expected an array, got ${describe(json)}`);
    const out: unknown[] = [];
    let i = 0;
    try {
      for (; i < json.length; i++) {
        const item: unknown = json[i];
        if (item === null && !element.acceptsNull) throw valueError("null is not allowed in a repeated field");
        const value = element.read(item, depth);
        if (value !== SKIP) out.push(value);
      }
    } catch (error) {
      throw withSegment(error, `[${i}]`);
    }
    return out;
  };
  const write = (value: unknown, depth: number): JsonValue => {
    const list = value as readonly unknown[];
    const out = new Array<JsonValue>(list.length);
    let i = 0;
    try {
      for (; i < list.length; i++) out[i] = element.write(list[i], depth);
    } catch (error) {
      throw withSegment(error, `[${i}]`);
    }
    return out;
  };
  return { read, write, nullValue: SKIP };
}

/*
 * On the wire every map entry is a message of its own (key = 1, value = 2), one level below the
 * map's message, so entries count towards the depth limit (`depth` here is the level of the
 * message holding the map; a message value sits two levels below it).
 */
function mapHandling(element: ElementCodec, mapKey: NonNullable<FieldPlan["mapKey"]>, order: KeyOrder) {
  const read = (json: unknown, depth: number): unknown => {
    if (!isJsonObject(json)) throw valueError(`expected an object (a map), got ${describe(json)}`);
    const out = new Map<unknown, unknown>();
    const keys = Object.keys(json);
    if (keys.length > 0 && depth + 1 > MAX_DEPTH) throw tooDeep();
    let key = "";
    try {
      for (key of keys) {
        const k = mapKey.readString(key);
        // Two spellings of one key ("1" and "1e0" for an int32 key) would silently keep the last.
        if (out.has(k)) throw new JsonFieldError("duplicate", `the map key is also given as ${JSON.stringify(keys.find((other) => mapKey.readString(other) === k))}`);
        const item = json[key];
        if (item === null && !element.acceptsNull) throw valueError("null is not allowed as a map value");
        const value = element.read(item, depth + 1);
        if (value !== SKIP) out.set(k, value);
      }
    } catch (error) {
      throw withSegment(error, mapKeySegment(key));
    }
    return out;
  };
  // Entries are written in key order (see key-order.ts), not in the order the backend sent them.
  const write = (value: unknown, depth: number): JsonValue => {
    const out: JsonObject = {};
    const map = value as Map<unknown, unknown>;
    if (map.size > 0 && depth + 1 > MAX_DEPTH) throw tooDeep();
    let key = "";
    try {
      if (map.size < 2) {
        for (const [k, v] of map) setOwn(out, (key = mapKey.write(k)), element.write(v, depth + 1));
        return out;
      }
      const sorted = Array.from(map.keys());
      order.sort(sorted);
      for (const k of sorted) setOwn(out, (key = mapKey.write(k)), element.write(map.get(k), depth + 1));
      return order.mayBeMoved(sorted) ? keepKeyOrder(out, sorted.map(mapKey.write)) : out;
    } catch (error) {
      throw withSegment(error, mapKeySegment(key));
    }
  };
  return { read, write, nullValue: SKIP };
}

function scalarElement(type: ScalarType): ElementCodec {
  const codec = scalarJson(type);
  return {
    read: codec.read,
    write: codec.write,
    readString: codec.readString,
    acceptsNull: false,
    zero: codec.zero,
    isZero: codec.isZero,
    message: undefined,
  };
}

function enumElement(field: DescField, ctx: PlanContext): ElementCodec {
  const desc = field.enum!;
  const codec = enumJson(desc, ctx.ignoreUnknownFields);
  const zero = desc.values[0]?.number ?? 0;
  return {
    read: codec.read,
    write: codec.write,
    readString: codec.readString,
    acceptsNull: desc.typeName === "google.protobuf.NullValue",
    zero,
    isZero: (v) => v === zero,
    message: undefined,
  };
}

function messageElement(field: DescField, ctx: PlanContext): ElementCodec {
  const plan = ctx.plan(field.message!);
  return {
    read: (json, depth) => plan.readField(json, depth + 1),
    write: (value, depth) => plan.writeField(value, depth + 1),
    get readString() {
      return plan.readFieldString;
    },
    acceptsNull: plan.typeName === VALUE,
    zero: undefined,
    isZero: () => false,
    message: plan,
  };
}

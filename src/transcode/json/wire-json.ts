import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { hasExplicitPresence } from "./field-plan.js";
import { shortestFloat32 } from "./float32.js";
import { keyOrder } from "./key-order.js";
import { MAX_DEPTH } from "./json-policy.js";
import type { MessagePlan, PlanContext } from "./plan-types.js";
import { BAIL, bail, WIRE_BIT32, WIRE_BIT64, WIRE_LENGTH_DELIMITED, WIRE_VARINT, WireCursor } from "./wire-cursor.js";

/*
 * The direct binary -> JSON writer: protobuf bytes to proto3 JSON text without building the
 * message object and its JSON tree first (like Envoy's transcoder). For every reply it accepts it
 * writes exactly the text of the object path (plan.decode, then plan.writeJson and
 * JSON.stringify): same field order (declaration order, whatever the wire order), same defaults
 * left out, last occurrence wins for a singular field, both packed and unpacked repeated scalars,
 * map keys in key-order.ts's order, unknown fields skipped. Whatever it cannot vouch for (bytes
 * the object path may reject, a value with no JSON form, an unknown Any type) throws BAIL, and
 * the caller renders the reply through the object path, which then gives its own result or
 * error: the rare cases cost twice, and the errors are the object path's by construction.
 *
 * Each value is written as it is read: a message's fields are rendered in wire order into one
 * variable per field, and joined in declaration order at the end. Per message type the loop is
 * generated code (like message-codegen.ts) so every field has its own monomorphic call site.
 */

/**
 * Writes the message in `c` from `c.pos` to `end` (level `depth`, the root being 1) and leaves
 * `c.pos` at `end`. Returns NO_VALUE only for a google.protobuf.Value with no kind set.
 */
export type WireJson = (c: WireCursor, end: number, depth: number) => string;

/** What a Value with no kind writes: a field holding it is left out; in a list, map or Any it is null. */
export const NO_VALUE = "";

/** The JSON text of a whole reply of `plan`'s type, straight from its bytes; throws BAIL when it cannot vouch for it. */
export function writeWireJson(plan: MessagePlan, bytes: Uint8Array): string {
  const c = new WireCursor(bytes);
  return orNull(plan.writeWire(c, c.length, 1));
}

/** One value of a field (a singular value, a list element, a map value) read and written as JSON. */
export type ValueJson = (c: WireCursor, end: number, depth: number) => string;

/** How a field's values sit on the wire and print. */
export interface FieldWire {
  readonly number: number;
  /** The wire type of one value (list elements may also come packed, as one length-delimited run). */
  readonly wireType: number;
  readonly packable: boolean;
  /** One value as a list element or map value (a Value with no kind is null there). */
  readonly value: ValueJson;
  /** One value of a singular field (a Value with no kind gives NO_VALUE: the field is left out). */
  readonly single: ValueJson;
  /** Scalars and enums: the text of the default value. */
  readonly zeroText: string | undefined;
  /** Singular implicit-presence fields: one value, or undefined when it is the default (left out). */
  readonly valueUnlessZero: ((c: WireCursor, end: number) => string | undefined) | undefined;
  /** Map fields: reads one entry into `entries` (key as ts-proto holds it -> value JSON). */
  readonly entry: ((c: WireCursor, end: number, depth: number, entries: Map<unknown, string>) => void) | undefined;
  /** Map fields: the JSON object of the entries, in key order. */
  readonly mapJson: ((entries: Map<unknown, string>) => string) | undefined;
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** Compiles the direct writer of a regular message type (wire-json-wkt.ts has the well-known ones). */
export function compileRegularWireJson(desc: DescMessage, ctx: PlanContext): WireJson {
  // Left to the object path: a JSON name that is an array index ("7"), which a JavaScript object
  // lists first, or "@type", which an Any's JSON would then hold twice; and groups, which the
  // object path does not decode at all.
  const unsupported = desc.fields.some(
    (f) => (ARRAY_INDEX.test(f.jsonName) && Number(f.jsonName) < 2 ** 32 - 1) || f.jsonName === "@type" || (f.fieldKind === "message" && f.delimitedEncoding),
  );
  if (unsupported) return () => bail();
  const wires = desc.fields.map((f) => fieldWire(f, (message) => ctx.plan(message)));
  return generateWriter(desc.fields, wires);
}

const q = (text: string): string => JSON.stringify(text);

/*
 * Generated text holds only numbers, JSON-quoted keys and indices into the arrays passed in;
 * the reading and writing stays in the typed closures of fieldWire.
 */
function generateWriter(fields: readonly DescField[], wires: readonly FieldWire[]): WireJson {
  const bindings: string[] = [];
  const locals: string[] = [];
  const cases: string[] = [];
  const joins: string[] = [];
  fields.forEach((field, i) => {
    const wire = wires[i];
    const tag = (wireType: number): number => wire.number * 8 + wireType;
    const key = `${q(field.jsonName)}:`;
    const put = (value: string): string => `out = out === "" ? ${q(key)} + ${value} : out + ${q(`,${key}`)} + ${value};`;
    if (field.fieldKind === "list") {
      locals.push(`l${i} = ""`);
      bindings.push(`const v${i} = wires[${i}].value;`);
      const add = `{ const v = v${i}(c, e, depth); l${i} = l${i} === "" ? v : l${i} + "," + v; }`;
      cases.push(`case ${tag(wire.wireType)}: ${add} break;`);
      if (wire.packable) {
        const addPacked = `{ const v = v${i}(c, stop, depth); l${i} = l${i} === "" ? v : l${i} + "," + v; }`;
        cases.push(`case ${tag(WIRE_LENGTH_DELIMITED)}: { const stop = c.lengthEnd(e); while (c.pos < stop) ${addPacked} break; }`);
      }
      joins.push(`if (l${i} !== "") ${put(`"[" + l${i} + "]"`)}`);
    } else if (field.fieldKind === "map") {
      locals.push(`m${i}`);
      bindings.push(`const n${i} = wires[${i}].entry, j${i} = wires[${i}].mapJson;`);
      cases.push(`case ${tag(WIRE_LENGTH_DELIMITED)}: if (m${i} === undefined) m${i} = new Map(); n${i}(c, e, depth, m${i}); break;`);
      joins.push(`if (m${i} !== undefined) ${put(`j${i}(m${i})`)}`);
    } else {
      locals.push(`t${i}`);
      bindings.push(wire.valueUnlessZero !== undefined ? `const z${i} = wires[${i}].valueUnlessZero;` : `const s${i} = wires[${i}].single;`);
      const read = wire.valueUnlessZero !== undefined ? `z${i}(c, e)` : `s${i}(c, e, depth)`;
      cases.push(`case ${tag(wire.wireType)}: t${i} = ${read}; break;`);
      joins.push(`if (t${i} !== undefined && t${i} !== "") ${put(`t${i}`)}`);
    }
  });
  const source = `${bindings.join("\n")}
return function writeMessage(c, e, depth) {
  if (depth > ${MAX_DEPTH}) throw BAIL;
  ${locals.length > 0 ? `let ${locals.join(", ")};` : ""}
  while (c.pos < e) {
    const tag = c.tag(e);
    switch (tag) {
      ${cases.join("\n      ")}
      default: c.skip(tag, e);
    }
  }
  let out = "";
  ${joins.join("\n  ")}
  return "{" + out + "}";
};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see the note above.
  return new Function("wires", "BAIL", source)(wires, BAIL) as WireJson;
}

const NOT_MAP = { entry: undefined, mapJson: undefined } as const;

/** The plan of a message type (a PlanContext's `plan`). */
export type PlanOf = (desc: DescMessage) => MessagePlan;

/** Compiles how one field of a regular message is read and printed. */
export function fieldWire(field: DescField, planOf: PlanOf): FieldWire {
  switch (field.fieldKind) {
    case "scalar": {
      const scalar = scalarWire(field.scalar);
      const { wireType, value, zeroText } = scalar;
      const valueUnlessZero = hasExplicitPresence(field) ? undefined : unlessZero(scalar);
      return { number: field.number, wireType, packable: false, value, single: value, zeroText, valueUnlessZero, ...NOT_MAP };
    }
    case "enum": {
      const { wireType, value, text, zeroText } = enumWire(field.enum);
      const zero = field.enum.values[0]?.number ?? 0;
      const valueUnlessZero = hasExplicitPresence(field)
        ? undefined
        : (c: WireCursor, end: number): string | undefined => {
            const n = c.int32(end);
            return n === zero ? undefined : text(n);
          };
      return { number: field.number, wireType, packable: false, value, single: value, zeroText, valueUnlessZero, ...NOT_MAP };
    }
    case "message": {
      const nested = messageValue(planOf(field.message));
      return { number: field.number, wireType: WIRE_LENGTH_DELIMITED, packable: false, value: nested.element, single: nested.single, zeroText: undefined, valueUnlessZero: undefined, ...NOT_MAP };
    }
    case "list": {
      const element = field.listKind === "message" ? messageValue(planOf(field.message)).element : undefined;
      const scalar = field.listKind === "scalar" ? scalarWire(field.scalar) : field.listKind === "enum" ? enumWire(field.enum) : undefined;
      const value = element ?? scalar!.value;
      return {
        number: field.number,
        wireType: scalar?.wireType ?? WIRE_LENGTH_DELIMITED,
        packable: scalar !== undefined && scalar.wireType !== WIRE_LENGTH_DELIMITED,
        value,
        single: value,
        zeroText: undefined,
        valueUnlessZero: undefined,
        ...NOT_MAP,
      };
    }
    case "map":
      return mapWire(field, planOf);
  }
}

/** A nested message's JSON: as a singular field (NO_VALUE kept) and as an element (NO_VALUE is null). */
function messageValue(plan: MessagePlan): { single: ValueJson; element: ValueJson } {
  const single: ValueJson = (c, end, depth) => plan.writeWire(c, c.lengthEnd(end), depth + 1);
  const element: ValueJson = (c, end, depth) => orNull(plan.writeWire(c, c.lengthEnd(end), depth + 1));
  return { single, element };
}

export function orNull(text: string): string {
  return text === NO_VALUE ? "null" : text;
}

interface ScalarWire {
  readonly wireType: number;
  readonly value: ValueJson;
  readonly zeroText: string;
}

function unlessZero(scalar: ScalarWire): (c: WireCursor, end: number) => string | undefined {
  const { value, zeroText } = scalar;
  return (c, end) => {
    const text = value(c, end, 0);
    return text === zeroText ? undefined : text;
  };
}

/**
 * JSON.stringify of a string, which it equals: quotes around the string itself when nothing in it
 * needs escaping (the common case, checked in a fraction of JSON.stringify's time).
 */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x20 || unit === 0x22 || unit === 0x5c || (unit >= 0xd800 && unit <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** The JSON number of a float or double, or the string ts-proto's writer gives the specials. */
export function doubleText(n: number): string {
  if (Number.isFinite(n)) return String(n);
  return n !== n ? '"NaN"' : n > 0 ? '"Infinity"' : '"-Infinity"';
}

function floatText(n: number): string {
  return Number.isFinite(n) ? String(shortestFloat32(n)) : doubleText(n);
}

const s = (wireType: number, zeroText: string, value: ValueJson): ScalarWire => ({ wireType, zeroText, value });

/** How each scalar type is read and printed (64-bit integers as strings, bytes as base64). */
export function scalarWire(type: ScalarType): ScalarWire {
  switch (type) {
    case ScalarType.INT32:
      return s(WIRE_VARINT, "0", (c, e) => String(c.int32(e)));
    case ScalarType.SINT32:
      return s(WIRE_VARINT, "0", (c, e) => String(c.sint32(e)));
    case ScalarType.SFIXED32:
      return s(WIRE_BIT32, "0", (c, e) => String(c.sfixed32(e)));
    case ScalarType.UINT32:
      return s(WIRE_VARINT, "0", (c, e) => String(c.uint32(e)));
    case ScalarType.FIXED32:
      return s(WIRE_BIT32, "0", (c, e) => String(c.fixed32(e)));
    case ScalarType.INT64:
      return s(WIRE_VARINT, '"0"', (c, e) => `"${c.int64(e)}"`);
    case ScalarType.SINT64:
      return s(WIRE_VARINT, '"0"', (c, e) => `"${c.sint64(e)}"`);
    case ScalarType.SFIXED64:
      return s(WIRE_BIT64, '"0"', (c, e) => `"${c.sfixed64(e)}"`);
    case ScalarType.UINT64:
      return s(WIRE_VARINT, '"0"', (c, e) => `"${c.uint64(e)}"`);
    case ScalarType.FIXED64:
      return s(WIRE_BIT64, '"0"', (c, e) => `"${c.fixed64(e)}"`);
    case ScalarType.FLOAT:
      return s(WIRE_BIT32, "0", (c, e) => floatText(c.float(e)));
    case ScalarType.DOUBLE:
      return s(WIRE_BIT64, "0", (c, e) => doubleText(c.double(e)));
    case ScalarType.BOOL:
      return s(WIRE_VARINT, "false", (c, e) => (c.bool(e) ? "true" : "false"));
    case ScalarType.STRING:
      return s(WIRE_LENGTH_DELIMITED, '""', (c, e) => jsonString(c.string(e)));
    case ScalarType.BYTES:
      return s(WIRE_LENGTH_DELIMITED, '""', (c, e) => `"${c.base64(e)}"`);
  }
}

/** Enum values print by name; numbers without a name stay numbers; NullValue is always null. */
function enumWire(desc: DescEnum): ScalarWire & { text(n: number): string } {
  const names = new Map<number, string>();
  for (const value of desc.values) if (!names.has(value.number)) names.set(value.number, q(value.name));
  const text =
    desc.typeName === "google.protobuf.NullValue" ? (): string => "null" : (n: number): string => names.get(n) ?? String(n);
  return { wireType: WIRE_VARINT, zeroText: text(desc.values[0]?.number ?? 0), value: (c, e) => text(c.int32(e)), text };
}

/** A map key as ts-proto holds it: numbers for 32-bit types, decimal strings for 64-bit ones. */
function mapKeyReader(type: ScalarType): { read(c: WireCursor, end: number): unknown; zero: unknown; wireType: number } {
  switch (type) {
    case ScalarType.INT32:
      return { wireType: WIRE_VARINT, zero: 0, read: (c, e) => c.int32(e) };
    case ScalarType.SINT32:
      return { wireType: WIRE_VARINT, zero: 0, read: (c, e) => c.sint32(e) };
    case ScalarType.SFIXED32:
      return { wireType: WIRE_BIT32, zero: 0, read: (c, e) => c.sfixed32(e) };
    case ScalarType.UINT32:
      return { wireType: WIRE_VARINT, zero: 0, read: (c, e) => c.uint32(e) };
    case ScalarType.FIXED32:
      return { wireType: WIRE_BIT32, zero: 0, read: (c, e) => c.fixed32(e) };
    case ScalarType.INT64:
      return { wireType: WIRE_VARINT, zero: "0", read: (c, e) => c.int64(e) };
    case ScalarType.SINT64:
      return { wireType: WIRE_VARINT, zero: "0", read: (c, e) => c.sint64(e) };
    case ScalarType.SFIXED64:
      return { wireType: WIRE_BIT64, zero: "0", read: (c, e) => c.sfixed64(e) };
    case ScalarType.UINT64:
      return { wireType: WIRE_VARINT, zero: "0", read: (c, e) => c.uint64(e) };
    case ScalarType.FIXED64:
      return { wireType: WIRE_BIT64, zero: "0", read: (c, e) => c.fixed64(e) };
    case ScalarType.BOOL:
      return { wireType: WIRE_VARINT, zero: false, read: (c, e) => c.bool(e) };
    case ScalarType.STRING:
      return { wireType: WIRE_LENGTH_DELIMITED, zero: "", read: (c, e) => c.string(e) };
    default:
      throw new Error(`${ScalarType[type]} is not a map key type`);
  }
}

/*
 * Each map entry is a message one level below the map's (key = 1, value = 2, either may be
 * missing: the default then); a later entry with the same key replaces an earlier one, as in the
 * object path's Map. Entries are printed in key order (key-order.ts), whatever the wire order.
 */
export function mapWire(field: DescField & { fieldKind: "map" }, planOf: PlanOf): FieldWire {
  const key = mapKeyReader(field.mapKey);
  const order = keyOrder(field.mapKey);
  const keyText = field.mapKey === ScalarType.BOOL ? (k: unknown): string => (k ? '"true"' : '"false"') : (k: unknown): string => jsonString(String(k));
  const plan = field.mapKind === "message" ? planOf(field.message) : undefined;
  const scalar = field.mapKind === "scalar" ? scalarWire(field.scalar) : field.mapKind === "enum" ? enumWire(field.enum) : undefined;
  const element = plan !== undefined ? messageValue(plan).element : scalar!.value;
  const keyTag = 8 + key.wireType;
  const valueTag = 16 + (scalar?.wireType ?? WIRE_LENGTH_DELIMITED);
  const entry = (c: WireCursor, end: number, depth: number, entries: Map<unknown, string>): void => {
    if (depth + 1 > MAX_DEPTH) bail();
    const stop = c.lengthEnd(end);
    let k = key.zero;
    let value: string | undefined;
    while (c.pos < stop) {
      const tag = c.tag(stop);
      if (tag === keyTag) k = key.read(c, stop);
      else if (tag === valueTag) value = element(c, stop, depth + 1);
      else c.skip(tag, stop);
    }
    // A missing message value is the default message (written at its level: it may be too deep).
    entries.set(k, value ?? (plan !== undefined ? orNull(plan.writeWire(c, stop, depth + 2)) : scalar!.zeroText));
  };
  const mapJson = (entries: Map<unknown, string>): string => {
    if (entries.size === 1) {
      for (const [k, v] of entries) return `{${keyText(k)}:${v}}`;
    }
    const keys = Array.from(entries.keys());
    order.sort(keys);
    let out = "";
    for (let i = 0; i < keys.length; i++) out += `${i === 0 ? "" : ","}${keyText(keys[i])}:${entries.get(keys[i])!}`;
    return `{${out}}`;
  };
  return { number: field.number, wireType: WIRE_LENGTH_DELIMITED, packable: false, value: element, single: element, zeroText: undefined, valueUnlessZero: undefined, entry, mapJson };
}

import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ENUM_WIRE, scalarWire, type ScalarWire } from "./binary-plan.js";
import { SKIP } from "./enum-json.js";
import { isJsonObject } from "./json-object.js";
import { MAX_DEPTH } from "./json-policy.js";
import type { FieldPlan, MessagePlan, PlanContext } from "./plan-types.js";
import { scalarJson } from "./scalar-json.js";
import { BAIL, bail, WIRE_LENGTH_DELIMITED } from "./wire-cursor.js";
import type { WireWriter } from "./wire-writer.js";

/*
 * The direct JSON -> binary encoder: a request's proto3 JSON (the parsed body) straight to
 * protobuf bytes, without building the ts-proto message object first; the mirror image of
 * wire-json.ts. For every JSON value it accepts it writes exactly the bytes of the object path
 * (plan.readJson, then plan.encode): fields in declaration order whatever the key order,
 * defaults of implicit-presence fields left out, packed repeated scalars where the field is
 * packed, map entries in the JSON's key order with zero keys and values left out. Scalars are
 * written by the binary plans' own writers (binary-plan.ts's scalarWire).
 *
 * Values are read by the object path's own readers (scalarJson, enumJson, the well-known types'
 * plans): what they accept, and how, is theirs by construction. Whatever is unusual (an unknown
 * key, a null that is not "unset", two names or two oneof members given, a non-canonical map
 * key, a value a reader rejects, too deep) throws BAIL or the reader's error, and the caller
 * encodes the request through the object path, which then gives its own result or error.
 */

/**
 * Writes the fields of the message whose JSON is `json` (not null) at level `depth` (the root
 * being 1). `preset`: what path variables set, by field index: a scalar or enum value (ts-proto
 * shape) that replaces the JSON's, or for a message field the preset of that message (which is
 * then written even when the JSON does not set it). Only fields that are `presettable`.
 */
export type JsonBinary = (json: unknown, w: WireWriter, depth: number, preset: Preset | undefined) => void;

export type Preset = readonly unknown[];

/**
 * Whether a path variable can go through `field` as a preset (the leaf: a scalar or enum; on the
 * way: a regular message): singular fields outside oneofs (where the object path would set a
 * second member beside the body's, the request takes the object path).
 */
export function presettable(field: FieldPlan): boolean {
  return field.cardinality === "singular" && field.oneof === undefined && field.element.message?.wellKnown !== true;
}

export const EMPTY_JSON: Readonly<Record<string, unknown>> = Object.freeze({});

/** A well-known type with its own JSON form: read by its plan, written by its binary plan. */
export function compileSpecialJsonBinary(plan: MessagePlan): JsonBinary {
  return (json, w, depth) => {
    // As a field's value (the object path reads fields with readField and writes toMessage of it).
    plan.encodeTo(plan.toMessage(plan.readField(json, depth)), w, depth);
  };
}

/**
 * One field: reads its JSON value and writes it; returns whether it was set (for oneofs).
 * Undefined is unset; so is null, but for google.protobuf.Value (NULL_VALUE) and NullValue (0).
 */
type FieldEmit = (w: WireWriter, json: unknown, depth: number, preset: unknown) => boolean;

/** Compiles the direct encoder of a regular message type. */
export function compileRegularJsonBinary(desc: DescMessage, fields: readonly FieldPlan[], ctx: PlanContext): JsonBinary {
  if (desc.fields.some((f) => f.fieldKind === "message" && f.delimitedEncoding)) return () => bail();
  const emits = fields.map((f) => fieldEmit(f));
  return generateEncoder(fields, emits, ctx.ignoreUnknownFields);
}

const q = (text: string): string => JSON.stringify(text);

/*
 * Generated per message type (like message-codegen.ts): the keys of the JSON object go into one
 * variable per field, then the fields are written in declaration order, each through its own
 * call site. Generated text holds only JSON-quoted names and indices into the arrays passed in.
 */
function generateEncoder(fields: readonly FieldPlan[], emits: readonly FieldEmit[], ignoreUnknown: boolean): JsonBinary {
  const oneofBit = new Map<string, number>();
  for (const f of fields) if (f.oneof !== undefined && !oneofBit.has(f.oneof)) oneofBit.set(f.oneof, oneofBit.size);
  const cases: string[] = [];
  const writes: string[] = [];
  fields.forEach((f, i) => {
    const labels = f.jsonName === f.protoName ? [f.jsonName] : [f.jsonName, f.protoName];
    // A second name of a field already given is the object path's error ("also given as").
    cases.push(`${labels.map((l) => `case ${q(l)}:`).join(" ")} if (v${i} !== undefined) throw BAIL; v${i} = value; break;`);
    const presetArg = presettable(f) ? `preset === undefined ? undefined : preset[${i}]` : "undefined";
    const call = `e${i}(w, v${i}, depth, ${presetArg})`;
    const bit = f.oneof === undefined ? undefined : oneofBit.get(f.oneof)!;
    if (bit === undefined) writes.push(`${call};`);
    else {
      // A second member of a oneof set is the object path's error.
      const [word, mask] = [`o${Math.floor(bit / 30)}`, 2 ** (bit % 30)];
      writes.push(`if (${call}) { if ((${word} & ${mask}) !== 0) throw BAIL; ${word} |= ${mask}; }`);
    }
  });
  const words = Array.from({ length: Math.ceil(oneofBit.size / 30) }, (_, i) => `o${i} = 0`);
  const bindings = fields.map((_, i) => `const e${i} = emits[${i}];`).join("\n");
  const locals = [...fields.map((_, i) => `v${i}`), ...words];
  const source = `${bindings}
return function encodeJson(json, w, depth, preset) {
  if (!isJsonObject(json) || depth > ${MAX_DEPTH}) throw BAIL;
  ${locals.length > 0 ? `let ${locals.join(", ")};` : ""}
  const keys = Object.keys(json);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    const value = json[key];
    if (value === undefined) continue;
    switch (key) {
      ${cases.join("\n      ")}
      default: ${ignoreUnknown ? "continue;" : "throw BAIL;"}
    }
  }
  ${writes.join("\n  ")}
};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see the note above.
  return new Function("emits", "BAIL", "isJsonObject", source)(emits, BAIL, isJsonObject) as JsonBinary;
}

/** How a scalar or enum field's values are written (undefined for messages). */
function valueWrite(desc: DescField): ScalarWire | undefined {
  if (desc.enum !== undefined) return ENUM_WIRE;
  return desc.scalar === undefined ? undefined : scalarWire(desc.scalar);
}

/** A scalar value (or map key) equal to its type's zero (empty bytes included), which is left out. */
function isZeroValue(value: unknown, zero: unknown): boolean {
  return value instanceof Uint8Array ? value.length === 0 : value === zero;
}

function fieldEmit(field: FieldPlan): FieldEmit {
  const number = field.desc.number;
  const message = field.element.message;
  const write = valueWrite(field.desc);
  if (field.cardinality === "list") return message !== undefined ? messageListEmit(field, message) : scalarListEmit(field, write!);
  if (field.cardinality === "map") return mapEmit(field, write);
  const { acceptsNull } = field.element;
  if (message !== undefined) {
    return (w, json, depth, preset) => {
      if (json === undefined || (json === null && !acceptsNull)) {
        // A path variable inside an unset message sets it (the object path creates it on the way).
        if (preset === undefined) return false;
        json = EMPTY_JSON;
      }
      w.tag(number, WIRE_LENGTH_DELIMITED);
      w.fork();
      message.encodeJson(json, w, depth + 1, preset as Preset | undefined);
      w.join();
      return true;
    };
  }
  const { read } = field.element;
  const { wireType } = write!;
  const put = write!.write;
  const zero = field.element.zero;
  const explicit = field.explicitPresence;
  return (w, json, depth, preset) => {
    // The JSON value is read (and so checked) even when a path variable replaces it, as the object path does.
    let value = json === undefined || (json === null && !acceptsNull) ? undefined : read(json, depth);
    if (preset !== undefined) value = preset;
    if (value === undefined || value === SKIP) return false;
    if (!explicit && isZeroValue(value, zero)) return true;
    w.tag(number, wireType);
    put(w, value);
    return true;
  };
}

function messageListEmit(field: FieldPlan, message: MessagePlan): FieldEmit {
  const number = field.desc.number;
  const { acceptsNull } = field.element;
  return (w, json, depth) => {
    if (json === undefined || json === null) return false;
    if (!Array.isArray(json)) bail();
    for (let i = 0; i < json.length; i++) {
      const item: unknown = json[i];
      if (item === null && !acceptsNull) bail();
      w.tag(number, WIRE_LENGTH_DELIMITED);
      w.fork();
      message.encodeJson(item, w, depth + 1, undefined);
      w.join();
    }
    return false;
  };
}

function scalarListEmit(field: FieldPlan, write: ScalarWire): FieldEmit {
  const number = field.desc.number;
  const { read } = field.element;
  const { wireType } = write;
  const put = write.write;
  const { acceptsNull } = field.element;
  const packed = wireType !== WIRE_LENGTH_DELIMITED && field.desc.fieldKind === "list" && field.desc.packed;
  return (w, json, depth) => {
    if (json === undefined || json === null) return false;
    if (!Array.isArray(json)) bail();
    if (json.length === 0) return false;
    if (!packed) {
      for (let i = 0; i < json.length; i++) {
        const item: unknown = json[i];
        if (item === null && !acceptsNull) bail();
        const value = read(item, depth);
        if (value === SKIP) continue;
        w.tag(number, wireType);
        put(w, value);
      }
      return false;
    }
    const mark = w.pos;
    w.tag(number, WIRE_LENGTH_DELIMITED);
    w.fork();
    let written = 0;
    for (let i = 0; i < json.length; i++) {
      const item: unknown = json[i];
      if (item === null && !acceptsNull) bail();
      const value = read(item, depth);
      if (value === SKIP) continue;
      put(w, value);
      written++;
    }
    // Every element dropped (unknown enum names under ignoreUnknownFields): an empty list, not written.
    if (written === 0) {
      w.join();
      w.rewind(mark);
    } else w.join();
    return false;
  };
}

/*
 * Each entry is a message one level below the map's message (key = 1, value = 2), its message
 * value two levels below. A key is taken only in its canonical spelling (the one the object path
 * prints), so two JSON keys can never name one map key (the object path's "duplicate" error).
 */
function mapEmit(field: FieldPlan, write: ScalarWire | undefined): FieldEmit {
  const number = field.desc.number;
  const desc = field.desc as DescField & { fieldKind: "map" };
  const mapKey = field.mapKey!;
  const keyWrite = scalarWire(desc.mapKey);
  const keyZero = scalarJson(desc.mapKey).zero;
  const message = field.element.message;
  const { read, zero, acceptsNull } = field.element;
  return (w, json, depth) => {
    if (json === undefined || json === null) return false;
    if (!isJsonObject(json)) bail();
    const keys = Object.keys(json);
    if (keys.length === 0) return false;
    if (depth + 1 > MAX_DEPTH) bail();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const k = mapKey.readString(key);
      if (mapKey.write(k) !== key) bail();
      const item = json[key];
      if (item === undefined || (item === null && !acceptsNull)) bail();
      if (message !== undefined) {
        w.tag(number, WIRE_LENGTH_DELIMITED);
        w.fork();
        if (!isZeroValue(k, keyZero)) (w.tag(1, keyWrite.wireType), keyWrite.write(w, k));
        w.tag(2, WIRE_LENGTH_DELIMITED);
        w.fork();
        message.encodeJson(item, w, depth + 2, undefined);
        w.join();
        w.join();
        continue;
      }
      const value = read(item, depth + 1);
      if (value === SKIP) continue;
      w.tag(number, WIRE_LENGTH_DELIMITED);
      w.fork();
      if (!isZeroValue(k, keyZero)) (w.tag(1, keyWrite.wireType), keyWrite.write(w, k));
      if (!isZeroValue(value, zero)) (w.tag(2, write!.wireType), write!.write(w, value));
      w.join();
    }
    return false;
  };
}

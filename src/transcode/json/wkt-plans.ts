import type { DescMessage, JsonValue } from "@bufbuild/protobuf";
import { anyJson } from "./any-plan.js";
import { formatDuration, parseDuration } from "./duration-json.js";
import { formatFieldMask, parseFieldMask } from "./field-mask-json.js";
import { describe, fail, tooDeep, valueError } from "./json-field-error.js";
import { setOwn } from "./json-object.js";
import { MAX_DEPTH } from "./json-policy.js";
import type { MessagePlan, PlanContext } from "./plan-types.js";
import { scalarJson } from "./scalar-json.js";
import { readJsonArray, readJsonObject, readJsonValue, writeJsonArray, writeJsonObject, writeJsonValue, writeStructFields } from "./struct-json.js";
import { formatTimestamp, parseTimestamp, type SecondsNanos } from "./timestamp-json.js";

/** The JSON part of a plan that a well-known type overrides. */
export type WktJson = Pick<
  MessagePlan,
  "jsonIsObject" | "wellKnown" | "readJson" | "writeJson" | "readField" | "writeField" | "readFieldString" | "toMessage" | "toField"
>;

/** The wrapper types (`google.protobuf.Int32Value`...): JSON is their `value`. */
export const WRAPPERS: ReadonlySet<string> = new Set([
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

const identity = (v: unknown): unknown => v;

/**
 * The special JSON forms of the well-known types, in both the message shape and the (possibly
 * unwrapped) field shape ts-proto uses. Undefined for other types, including Empty, whose JSON
 * is the ordinary `{}` (and which an Any therefore inlines, like Google does).
 */
export function wellKnownJson(desc: DescMessage, ctx: PlanContext, create: () => Record<string, unknown>): WktJson | undefined {
  const name = desc.typeName;
  if (WRAPPERS.has(name)) return wrapperJson(desc);
  switch (name) {
    case "google.protobuf.Timestamp":
      return secondsNanosJson("a timestamp string", parseTimestamp, formatTimestamp);
    case "google.protobuf.Duration":
      return secondsNanosJson("a duration string", parseDuration, formatDuration);
    case "google.protobuf.FieldMask":
      return fieldMaskJson();
    case "google.protobuf.Struct":
      return structJson();
    case "google.protobuf.ListValue":
      return listValueJson();
    case "google.protobuf.Value":
      return valueJson();
    case "google.protobuf.Any":
      return anyJson(ctx, create);
    default:
      return undefined;
  }
}

function secondsNanosJson(
  expected: string,
  parse: (text: string) => SecondsNanos | string,
  format: (value: SecondsNanos) => string | { error: string },
): WktJson {
  const fromString = (text: string): SecondsNanos => {
    const parsed = parse(text);
    return typeof parsed === "string" ? fail(parsed) : parsed;
  };
  const read = (json: unknown): SecondsNanos => {
    if (typeof json !== "string") throw valueError(`expected ${expected}, got ${describe(json)}`);
    return fromString(json);
  };
  const write = (value: unknown): JsonValue => {
    if (typeof value !== "object" || value === null) throw valueError(`expected {seconds, nanos}, got ${describe(value)}`);
    const text = format(value as SecondsNanos);
    return typeof text === "string" ? text : fail(text);
  };
  return {
    jsonIsObject: false,
    wellKnown: true,
    readJson: read,
    writeJson: write,
    readField: read,
    writeField: write,
    readFieldString: fromString,
    toMessage: identity,
    toField: identity,
  };
}

function fieldMaskJson(): WktJson {
  const fromString = (text: string): string[] => {
    const paths = parseFieldMask(text);
    return typeof paths === "string" ? fail(paths) : paths;
  };
  const readField = (json: unknown): string[] => {
    if (typeof json !== "string") throw valueError(`expected a field mask string ("a.b,c"), got ${describe(json)}`);
    return fromString(json);
  };
  const writeField = (value: unknown): JsonValue => {
    if (!Array.isArray(value)) throw valueError(`expected an array of paths, got ${describe(value)}`);
    const text = formatFieldMask(value as string[]);
    return typeof text === "string" ? text : fail(text);
  };
  return {
    jsonIsObject: false,
    wellKnown: true,
    readJson: (json) => ({ paths: readField(json) }),
    writeJson: (message) => writeField((message as { paths: string[] }).paths),
    readField,
    writeField,
    readFieldString: fromString,
    toMessage: (paths) => ({ paths }),
    toField: (message) => (message as { paths: string[] }).paths,
  };
}

function structToMessage(object: unknown): { fields: Map<string, unknown> } {
  return { fields: new Map(Object.entries(object as Record<string, unknown>)) };
}

function structToField(message: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of (message as { fields: Map<string, unknown> }).fields) setOwn(out, key, value);
  return out;
}

function structJson(): WktJson {
  return {
    jsonIsObject: true,
    wellKnown: true,
    readJson: (json, depth) => structToMessage(readJsonObject(json, depth)),
    writeJson(message, depth) {
      const fields = (message as { fields: Map<string, unknown> }).fields;
      if (depth > MAX_DEPTH) throw tooDeep();
      return writeStructFields(Array.from(fields.keys()), (key) => fields.get(key), depth);
    },
    readField: readJsonObject,
    writeField: writeJsonObject,
    readFieldString: undefined,
    toMessage: structToMessage,
    toField: structToField,
  };
}

function listValueJson(): WktJson {
  return {
    jsonIsObject: false,
    wellKnown: true,
    readJson: (json, depth) => ({ values: readJsonArray(json, depth) }),
    writeJson: (message, depth) => writeJsonArray((message as { values: unknown[] }).values, depth),
    readField: readJsonArray,
    writeField: writeJsonArray,
    readFieldString: undefined,
    toMessage: (values) => ({ values }),
    toField: (message) => (message as { values: unknown[] }).values,
  };
}

interface ValueMessage {
  nullValue: number | undefined;
  numberValue: number | undefined;
  stringValue: string | undefined;
  boolValue: boolean | undefined;
  structValue: Record<string, unknown> | undefined;
  listValue: unknown[] | undefined;
}

/** Plain JSON -> ts-proto `Value` message (ts-proto's `Value.wrap`). */
function valueToMessage(value: unknown): ValueMessage {
  const m: ValueMessage = {
    nullValue: undefined,
    numberValue: undefined,
    stringValue: undefined,
    boolValue: undefined,
    structValue: undefined,
    listValue: undefined,
  };
  if (value === null) m.nullValue = 0;
  else if (typeof value === "boolean") m.boolValue = value;
  else if (typeof value === "number") m.numberValue = value;
  else if (typeof value === "string") m.stringValue = value;
  else if (Array.isArray(value)) m.listValue = value;
  else if (typeof value === "object") m.structValue = value as Record<string, unknown>;
  return m;
}

/** ts-proto `Value` message -> plain JSON (ts-proto's `Value.unwrap`: undefined when no kind is set). */
function valueToField(message: unknown): unknown {
  const m = message as ValueMessage;
  if (m.stringValue !== undefined) return m.stringValue;
  if (m.numberValue !== undefined) return m.numberValue;
  if (m.boolValue !== undefined) return m.boolValue;
  if (m.structValue !== undefined) return m.structValue;
  if (m.listValue !== undefined) return m.listValue;
  if (m.nullValue !== undefined) return null;
  return undefined;
}

function valueJson(): WktJson {
  return {
    jsonIsObject: false,
    wellKnown: true,
    readJson: (json, depth) => valueToMessage(readJsonValue(json, depth)),
    writeJson: (message, depth) => writeJsonValue(valueToField(message), depth),
    readField: readJsonValue,
    writeField: writeJsonValue,
    readFieldString: undefined,
    toMessage: valueToMessage,
    toField: valueToField,
  };
}

function wrapperJson(desc: DescMessage): WktJson {
  const inner = desc.fields[0];
  if (inner === undefined || inner.fieldKind !== "scalar") throw new Error(`${desc.typeName} is not a wrapper type`);
  const codec = scalarJson(inner.scalar);
  return {
    jsonIsObject: false,
    wellKnown: true,
    readJson: (json) => ({ value: codec.read(json) }),
    writeJson: (message) => codec.write((message as { value: unknown }).value),
    readField: (json) => codec.read(json),
    writeField: (value) => codec.write(value),
    readFieldString: codec.readString,
    toMessage: (value) => ({ value }),
    toField: (message) => (message as { value: unknown }).value,
  };
}

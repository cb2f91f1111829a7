import type { DescMessage } from "@bufbuild/protobuf";
import { formatDuration } from "./duration-json.js";
import { formatFieldMask } from "./field-mask-json.js";
import { MAX_DEPTH } from "./json-policy.js";
import type { PlanContext } from "./plan-types.js";
import { formatTimestamp, type SecondsNanos } from "./timestamp-json.js";
import { bail } from "./wire-cursor.js";
import { doubleText, jsonString, mapWire, NO_VALUE, orNull, scalarWire, type WireJson } from "./wire-json.js";
import { WRAPPERS } from "./wkt-plans.js";

/*
 * The direct writers of the well-known types with a JSON form of their own (wkt-plans.ts gives
 * the object path's). Empty has none: it is an ordinary message. Tags are written as numbers:
 * field number * 8 + wire type (0 varint, 1 64-bit, 2 length-delimited, 5 32-bit).
 */

/** The direct writer of a well-known type, or undefined for other types. */
export function wellKnownWireJson(desc: DescMessage, ctx: PlanContext): WireJson | undefined {
  if (WRAPPERS.has(desc.typeName)) return wrapper(desc);
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return secondsNanos(formatTimestamp);
    case "google.protobuf.Duration":
      return secondsNanos(formatDuration);
    case "google.protobuf.FieldMask":
      return fieldMask;
    case "google.protobuf.Struct":
      return struct(desc, ctx);
    case "google.protobuf.ListValue":
      return listValue(desc, ctx);
    case "google.protobuf.Value":
      return value(desc, ctx);
    case "google.protobuf.Any":
      return any(ctx);
    default:
      return undefined;
  }
}

function checkDepth(depth: number): void {
  if (depth > MAX_DEPTH) bail();
}

/** Timestamp and Duration: `seconds` (1, int64) and `nanos` (2, int32); out of range bails (the object path's error). */
function secondsNanos(format: (value: SecondsNanos) => string | { error: string }): WireJson {
  return (c, end, depth) => {
    checkDepth(depth);
    let seconds = "0";
    let nanos = 0;
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 8) seconds = c.int64(end);
      else if (tag === 16) nanos = c.int32(end);
      else c.skip(tag, end);
    }
    const text = format({ seconds, nanos });
    return typeof text === "string" ? `"${text}"` : bail();
  };
}

/** FieldMask: `paths` (1, repeated string) as one camelCase string. */
const fieldMask: WireJson = (c, end, depth) => {
  checkDepth(depth);
  const paths: string[] = [];
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 10) paths.push(c.string(end));
    else c.skip(tag, end);
  }
  const text = formatFieldMask(paths);
  return typeof text === "string" ? JSON.stringify(text) : bail();
};

/** A wrapper: the JSON of its `value` (1), printed even at the default. */
function wrapper(desc: DescMessage): WireJson {
  const inner = desc.fields[0];
  if (inner?.fieldKind !== "scalar") throw new Error(`${desc.typeName} is not a wrapper type`);
  const scalar = scalarWire(inner.scalar);
  const tag = 8 + scalar.wireType;
  return (c, end, depth) => {
    checkDepth(depth);
    let text = scalar.zeroText;
    while (c.pos < end) {
      const t = c.tag(end);
      if (t === tag) text = scalar.value(c, end, depth);
      else c.skip(t, end);
    }
    return text;
  };
}

/** Struct: its `fields` map (1, string -> Value), as a JSON object in key order. */
function struct(desc: DescMessage, ctx: PlanContext): WireJson {
  const fields = desc.fields[0];
  if (fields?.fieldKind !== "map") throw new Error(`${desc.typeName} has no fields map`);
  const { entry, mapJson } = mapWire(fields, (message) => ctx.plan(message));
  return (c, end, depth) => {
    checkDepth(depth);
    let entries: Map<unknown, string> | undefined;
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 10) entry!(c, end, depth, (entries ??= new Map()));
      else c.skip(tag, end);
    }
    return entries === undefined ? "{}" : mapJson!(entries);
  };
}

function nestedPlan(desc: DescMessage, number: number, ctx: PlanContext) {
  const field = desc.fields.find((f) => f.number === number);
  if (field?.message === undefined) throw new Error(`${desc.typeName} has no message field ${number}`);
  return ctx.plan(field.message);
}

/** ListValue: its `values` (1, repeated Value) as a JSON array; a Value with no kind is null. */
function listValue(desc: DescMessage, ctx: PlanContext): WireJson {
  const item = nestedPlan(desc, 1, ctx);
  return (c, end, depth) => {
    checkDepth(depth);
    let out = "";
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 10) {
        const text = orNull(item.writeWire(c, c.lengthEnd(end), depth + 1));
        out = out === "" ? text : `${out},${text}`;
      } else c.skip(tag, end);
    }
    return `[${out}]`;
  };
}

/**
 * Value: the kind that is set. Every kind on the wire is read (the object path decodes them all);
 * when several are, the object path's `Value.unwrap` order picks: string, number, bool, struct,
 * list, null. No kind: NO_VALUE.
 */
function value(desc: DescMessage, ctx: PlanContext): WireJson {
  const structPlan = nestedPlan(desc, 5, ctx);
  const listPlan = nestedPlan(desc, 6, ctx);
  return (c, end, depth) => {
    checkDepth(depth);
    let isNull = false;
    let number: number | undefined;
    let string: string | undefined;
    let bool: string | undefined;
    let structText: string | undefined;
    let listText: string | undefined;
    while (c.pos < end) {
      const tag = c.tag(end);
      switch (tag) {
        case 8:
          c.int32(end);
          isNull = true;
          break;
        case 17:
          number = c.double(end);
          break;
        case 26:
          string = jsonString(c.string(end));
          break;
        case 32:
          bool = c.bool(end) ? "true" : "false";
          break;
        case 42:
          structText = structPlan.writeWire(c, c.lengthEnd(end), depth + 1);
          break;
        case 50:
          listText = listPlan.writeWire(c, c.lengthEnd(end), depth + 1);
          break;
        default:
          c.skip(tag, end);
      }
    }
    if (string !== undefined) return string;
    // A non-finite number has no JSON form in a Value: the object path's error.
    if (number !== undefined) return Number.isFinite(number) ? doubleText(number) : bail();
    return bool ?? structText ?? listText ?? (isNull ? "null" : NO_VALUE);
  };
}

/**
 * Any: `{"@type": url, ...payload fields}`, or `{"@type": url, "value": payload JSON}` for a
 * well-known payload type; the payload is read in place, one level below the Any. An unknown
 * type bails (the object path's error).
 */
function any(ctx: PlanContext): WireJson {
  return (c, end, depth) => {
    checkDepth(depth);
    let typeUrl = "";
    let start = 0;
    let stop = 0;
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 10) typeUrl = c.string(end);
      else if (tag === 18) {
        stop = c.lengthEnd(end);
        start = c.pos;
        c.pos = stop;
      } else c.skip(tag, end);
    }
    if (typeUrl === "" && stop === start) return "{}";
    const plan = ctx.planForTypeUrl(typeUrl) ?? bail();
    c.pos = start;
    const body = orNull(plan.writeWire(c, stop, depth + 1));
    c.pos = end;
    const head = `{"@type":${jsonString(typeUrl)}`;
    if (plan.wellKnown) return `${head},"value":${body}}`;
    return body === "{}" ? `${head}}` : `${head},${body.slice(1)}`;
  };
}

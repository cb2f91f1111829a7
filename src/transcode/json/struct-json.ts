import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { describe, tooDeep, valueError, withSegment } from "./json-field-error.js";
import { isJsonObject, keySegment, setOwn } from "./json-object.js";
import { STRING_KEY_ORDER, keepKeyOrder, sortCodePoints } from "./key-order.js";
import { MAX_DEPTH } from "./json-policy.js";
import { LosslessInteger } from "./lossless-integer.js";

/*
 * google.protobuf.Struct / Value / ListValue as ts-proto holds them in fields: plain JSON
 * (objects, arrays, null, ...). Reading validates and copies. `depth` is always the message level
 * of the Struct, Value or ListValue itself, counted as the binary decoder will count it (see
 * MAX_DEPTH): a Struct's values sit two levels below it (fields entry, then Value), a ListValue's
 * one level below it, and a Value's object or array one level below the Value. Hostile nesting
 * ends in an error, never a stack overflow or a request no decoder accepts.
 */

const LONE_SURROGATE = /\p{Surrogate}/u;

/** Any JSON value (a `Value` at level `depth`): null stays null (NULL_VALUE). */
export function readJsonValue(json: unknown, depth: number): JsonValue {
  if (depth > MAX_DEPTH) throw tooDeep();
  switch (typeof json) {
    case "string":
      if (LONE_SURROGATE.test(json)) throw valueError("the string contains an unpaired surrogate (not valid Unicode)");
      return json;
    case "number":
      if (!Number.isFinite(json)) throw valueError(`${describe(json)} is not a JSON number`);
      return json;
    case "boolean":
      return json;
    case "object":
      if (json === null) return null;
      if (Array.isArray(json)) return readJsonArray(json, depth + 1);
      if (json instanceof LosslessInteger) return Number(json.text);
      if (isJsonObject(json)) return readJsonObject(json, depth + 1);
  }
  throw valueError(`${describe(json)} is not a JSON value`);
}

/** A `Struct` at level `depth`: must be a JSON object. */
export function readJsonObject(json: unknown, depth: number): JsonObject {
  if (!isJsonObject(json)) throw valueError(`expected a JSON object, got ${describe(json)}`);
  if (depth > MAX_DEPTH) throw tooDeep();
  const out: JsonObject = {};
  let key = "";
  try {
    for (key of Object.keys(json)) setOwn(out, key, readJsonValue(json[key], depth + 2));
  } catch (error) {
    throw withSegment(error, keySegment(key));
  }
  return out;
}

/** A `ListValue` at level `depth`: must be a JSON array. */
export function readJsonArray(json: unknown, depth: number): JsonValue[] {
  if (!Array.isArray(json)) throw valueError(`expected a JSON array, got ${describe(json)}`);
  if (depth > MAX_DEPTH) throw tooDeep();
  const out: JsonValue[] = new Array<JsonValue>(json.length);
  let i = 0;
  try {
    for (; i < json.length; i++) out[i] = readJsonValue(json[i], depth + 1);
  } catch (error) {
    throw withSegment(error, `[${i}]`);
  }
  return out;
}

/** Writes a `Value` (level `depth`) held as plain JSON; undefined (a Value with no kind) prints as null, like Google. */
export function writeJsonValue(value: unknown, depth: number): JsonValue {
  if (depth > MAX_DEPTH) throw tooDeep();
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw valueError(`${describe(value)} has no JSON form in a google.protobuf.Value`);
      return value;
    case "undefined":
      return null;
    case "object":
      if (value === null) return null;
      if (Array.isArray(value)) return writeJsonArray(value, depth + 1);
      return writeJsonObject(value, depth + 1);
  }
  throw valueError(`${describe(value)} is not a JSON value`);
}

/** Writes a `Struct` (level `depth`) held as a plain object. */
export function writeJsonObject(value: unknown, depth: number): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw valueError(`expected an object for a google.protobuf.Struct, got ${describe(value)}`);
  if (depth > MAX_DEPTH) throw tooDeep();
  const source = value as Record<string, unknown>;
  return writeStructFields(Object.keys(source), (key) => source[key], depth);
}

/**
 * The JSON object of a `Struct` (level `depth`) with these keys, in key order (see key-order.ts),
 * not in the order the backend sent them. `keys` may be sorted in place.
 */
export function writeStructFields(keys: string[], valueOf: (key: string) => unknown, depth: number): JsonObject {
  const out: JsonObject = {};
  let key = "";
  try {
    if (keys.length > 1) sortCodePoints(keys);
    // Each value is a Value message inside a fields entry: two levels below the Struct.
    for (key of keys) setOwn(out, key, writeJsonValue(valueOf(key), depth + 2));
  } catch (error) {
    throw withSegment(error, keySegment(key));
  }
  return keys.length > 1 && STRING_KEY_ORDER.mayBeMoved(keys) ? keepKeyOrder(out, keys) : out;
}

/** Writes a `ListValue` (level `depth`) held as an array. */
export function writeJsonArray(value: unknown, depth: number): JsonValue[] {
  if (!Array.isArray(value)) throw valueError(`expected an array for a google.protobuf.ListValue, got ${describe(value)}`);
  if (depth > MAX_DEPTH) throw tooDeep();
  const out: JsonValue[] = new Array<JsonValue>(value.length);
  let i = 0;
  try {
    for (; i < value.length; i++) out[i] = writeJsonValue(value[i], depth + 1);
  } catch (error) {
    throw withSegment(error, `[${i}]`);
  }
  return out;
}

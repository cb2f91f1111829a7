import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { JsonFieldError, describe, valueError, withSegment } from "./json-field-error.js";
import { isJsonObject, keySegment, setOwn } from "./json-object.js";
import { MAX_DEPTH } from "./json-policy.js";
import { LosslessInteger } from "./lossless-integer.js";

/*
 * google.protobuf.Struct / Value / ListValue as ts-proto holds them in fields: plain JSON
 * (objects, arrays, null, ...). Reading validates and copies; each object or array level counts
 * towards the depth limit, so hostile nesting ends in an error, not a stack overflow.
 */

const LONE_SURROGATE = /\p{Surrogate}/u;

function depthError(): JsonFieldError {
  return new JsonFieldError("depth", String(MAX_DEPTH));
}

/** Any JSON value (a `Value`): null stays null (NULL_VALUE). */
export function readJsonValue(json: unknown, depth: number): JsonValue {
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

/** A `Struct`: must be a JSON object. `depth` is the level of the object itself. */
export function readJsonObject(json: unknown, depth: number): JsonObject {
  if (!isJsonObject(json)) throw valueError(`expected a JSON object, got ${describe(json)}`);
  if (depth > MAX_DEPTH) throw depthError();
  const out: JsonObject = {};
  let key = "";
  try {
    for (key of Object.keys(json)) setOwn(out, key, readJsonValue(json[key], depth));
  } catch (error) {
    throw withSegment(error, keySegment(key));
  }
  return out;
}

/** A `ListValue`: must be a JSON array. */
export function readJsonArray(json: unknown, depth: number): JsonValue[] {
  if (!Array.isArray(json)) throw valueError(`expected a JSON array, got ${describe(json)}`);
  if (depth > MAX_DEPTH) throw depthError();
  const out: JsonValue[] = new Array<JsonValue>(json.length);
  let i = 0;
  try {
    for (; i < json.length; i++) out[i] = readJsonValue(json[i], depth);
  } catch (error) {
    throw withSegment(error, `[${i}]`);
  }
  return out;
}

/** Writes a `Value` held as plain JSON; undefined (a Value with no kind) prints as null, like Google. */
export function writeJsonValue(value: unknown, depth: number): JsonValue {
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

export function writeJsonObject(value: unknown, depth: number): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw valueError(`expected an object for a google.protobuf.Struct, got ${describe(value)}`);
  if (depth > MAX_DEPTH) throw depthError();
  const source = value as Record<string, unknown>;
  const out: JsonObject = {};
  let key = "";
  try {
    for (key of Object.keys(source)) setOwn(out, key, writeJsonValue(source[key], depth));
  } catch (error) {
    throw withSegment(error, keySegment(key));
  }
  return out;
}

export function writeJsonArray(value: unknown, depth: number): JsonValue[] {
  if (!Array.isArray(value)) throw valueError(`expected an array for a google.protobuf.ListValue, got ${describe(value)}`);
  if (depth > MAX_DEPTH) throw depthError();
  const out: JsonValue[] = new Array<JsonValue>(value.length);
  let i = 0;
  try {
    for (; i < value.length; i++) out[i] = writeJsonValue(value[i], depth);
  } catch (error) {
    throw withSegment(error, `[${i}]`);
  }
  return out;
}

import { ScalarType } from "@bufbuild/protobuf";
import { GraphQLBoolean, GraphQLFloat, GraphQLInt, GraphQLScalarType, GraphQLString } from "graphql";
import { wrappedScalar } from "../openapi/well-known.js";

/**
 * The scalars of the schema. GraphQL's own are used where a proto value fits them exactly; every
 * other proto scalar and well-known type gets a named scalar whose value is its proto3 JSON form,
 * so the runtime passes proto3 JSON through unchanged. Only the scalars a schema uses are printed.
 * These definitions only describe the values (codegen prints them); the runtime gives each its
 * parsing and serialising.
 */
const named = (name: string, description: string, specifiedByURL?: string) =>
  new GraphQLScalarType({ name, description, ...(specifiedByURL === undefined ? {} : { specifiedByURL }) });

export const Int64 = named("Int64", 'A 64-bit signed integer (int64, sint64, sfixed64), as a decimal string like proto3 JSON: "-9007199254740993". Input also accepts an Int.');
export const UInt64 = named("UInt64", 'A 64-bit unsigned integer (uint64, fixed64), as a decimal string like proto3 JSON: "18446744073709551615". Input also accepts an Int.');
export const UInt32 = named("UInt32", "A 32-bit unsigned integer (uint32, fixed32), as a JSON number from 0 to 4294967295 (too large for GraphQL's Int).");
export const Bytes = named("Bytes", 'Bytes, as base64 like proto3 JSON: "aGk=". Input also accepts URL-safe base64, with or without padding.');
export const Timestamp = named(
  "Timestamp",
  'google.protobuf.Timestamp: an RFC 3339 date-time, written in UTC ("Z") with 0, 3, 6 or 9 fractional digits, e.g. "2024-01-02T03:04:05.678Z". Offsets are accepted on input.',
  "https://www.rfc-editor.org/rfc/rfc3339",
);
export const Duration = named("Duration", 'google.protobuf.Duration: seconds with up to 9 fractional digits and an "s" suffix, e.g. "1.5s" or "-0.000001s".');
export const FieldMask = named("FieldMask", 'google.protobuf.FieldMask: field paths in lowerCamelCase separated by commas, e.g. "displayName,profile.email".');
export const JSONValue = named("JSON", "google.protobuf.Value (and NullValue): any JSON value.");
export const JSONObject = named("JSONObject", "google.protobuf.Struct: a JSON object.");
export const JSONArray = named("JSONArray", "google.protobuf.ListValue: a JSON array.");
export const AnyMessage = named("Any", 'google.protobuf.Any: a JSON object with "@type" (the packed message\'s type URL) and the message\'s fields, or its special JSON form in "value".');
export const Empty = named("Empty", "google.protobuf.Empty, or another message without fields: always the empty JSON object {}.");

/** The names every schema reserves for its scalars, whether or not it uses them (so a proto type never takes one). */
export const SCALAR_NAMES: readonly string[] = [Int64, UInt64, UInt32, Bytes, Timestamp, Duration, FieldMask, JSONValue, JSONObject, JSONArray, AnyMessage, Empty]
  .map((s) => s.name)
  .concat(["Int", "Float", "String", "Boolean", "ID"]);

/** The GraphQL scalar of a proto scalar type. */
export function scalarOf(scalar: ScalarType): GraphQLScalarType {
  switch (scalar) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return GraphQLFloat;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return GraphQLInt;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return UInt32;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return Int64;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return UInt64;
    case ScalarType.BOOL:
      return GraphQLBoolean;
    case ScalarType.STRING:
      return GraphQLString;
    case ScalarType.BYTES:
      return Bytes;
  }
}

const WELL_KNOWN: ReadonlyMap<string, GraphQLScalarType> = new Map([
  ["google.protobuf.Timestamp", Timestamp],
  ["google.protobuf.Duration", Duration],
  ["google.protobuf.FieldMask", FieldMask],
  ["google.protobuf.Struct", JSONObject],
  ["google.protobuf.Value", JSONValue],
  ["google.protobuf.ListValue", JSONArray],
  ["google.protobuf.Any", AnyMessage],
  ["google.protobuf.Empty", Empty],
]);

/**
 * The scalar standing for a message type whose proto3 JSON form is special (well-known types; a
 * wrapper is its wrapped scalar, nullable as every message field is), or undefined for messages
 * mapped field by field.
 */
export function wellKnownScalar(typeName: string): GraphQLScalarType | undefined {
  const wrapped = wrappedScalar(typeName);
  if (wrapped !== undefined) return scalarOf(wrapped);
  return WELL_KNOWN.get(typeName);
}

/** google.protobuf.NullValue, an enum whose JSON form is null: the JSON scalar. */
export const NULL_VALUE_ENUM = "google.protobuf.NullValue";

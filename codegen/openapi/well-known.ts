import { ScalarType } from "@bufbuild/protobuf";
import type { JsonSchema } from "./openapi-types.js";
import { nullable, scalarSchema } from "./scalar-schema.js";

/** Builds a `$ref` to another component schema, registering it. */
export type RefByName = (typeName: string) => JsonSchema;

/** Full name of the error message every operation documents as its `default` response. */
export const STATUS_TYPE = "google.rpc.Status";
export const ANY_TYPE = "google.protobuf.Any";
export const HTTP_BODY_TYPE = "google.api.HttpBody";

const WRAPPERS: ReadonlyMap<string, ScalarType> = new Map([
  ["google.protobuf.DoubleValue", ScalarType.DOUBLE],
  ["google.protobuf.FloatValue", ScalarType.FLOAT],
  ["google.protobuf.Int64Value", ScalarType.INT64],
  ["google.protobuf.UInt64Value", ScalarType.UINT64],
  ["google.protobuf.Int32Value", ScalarType.INT32],
  ["google.protobuf.UInt32Value", ScalarType.UINT32],
  ["google.protobuf.BoolValue", ScalarType.BOOL],
  ["google.protobuf.StringValue", ScalarType.STRING],
  ["google.protobuf.BytesValue", ScalarType.BYTES],
]);

/** The scalar a wrapper type (`google.protobuf.Int64Value`...) wraps, or undefined for other types. */
export function wrappedScalar(typeName: string): ScalarType | undefined {
  return WRAPPERS.get(typeName);
}

const SPECIAL: ReadonlyMap<string, (ref: RefByName) => JsonSchema> = new Map<string, (ref: RefByName) => JsonSchema>([
  [
    "google.protobuf.Timestamp",
    () => ({
      type: "string",
      format: "date-time",
      description: 'An RFC 3339 date-time; written in UTC ("Z") with 0, 3, 6 or 9 fractional digits, e.g. "2024-01-02T03:04:05.678Z". Offsets are accepted on input.',
    }),
  ],
  [
    "google.protobuf.Duration",
    () => ({
      type: "string",
      pattern: "^-?\\d+(\\.\\d{1,9})?s$",
      description: 'Seconds with up to 9 fractional digits and an "s" suffix, e.g. "1.5s" or "-0.000001s".',
    }),
  ],
  [
    "google.protobuf.FieldMask",
    () => ({ type: "string", description: 'Field paths in lowerCamelCase separated by commas, e.g. "displayName,profile.email".' }),
  ],
  ["google.protobuf.Struct", (ref) => ({ type: "object", additionalProperties: ref("google.protobuf.Value"), description: "An arbitrary JSON object." })],
  ["google.protobuf.Value", () => ({ description: "Any JSON value." })],
  ["google.protobuf.ListValue", (ref) => ({ type: "array", items: ref("google.protobuf.Value"), description: "An arbitrary JSON array." })],
  ["google.protobuf.NullValue", () => ({ type: "null", description: "JSON null." })],
  ["google.protobuf.Empty", () => ({ type: "object", additionalProperties: false, description: "An empty JSON object." })],
  [
    ANY_TYPE,
    () => ({
      type: "object",
      properties: {
        "@type": { type: "string", description: 'The type URL of the packed message, e.g. "type.googleapis.com/google.rpc.ErrorInfo".' },
      },
      required: ["@type"],
      additionalProperties: true,
      description:
        'A message of any type: its JSON fields next to "@type", or, for well-known types with a special JSON form, that form in "value".',
    }),
  ],
  [
    STATUS_TYPE,
    (ref) => ({
      type: "object",
      properties: {
        code: { type: "integer", format: "int32", description: "The gRPC status code (google.rpc.Code)." },
        message: { type: "string", description: "A developer-facing error message." },
        details: { type: "array", items: ref(ANY_TYPE), description: "Error details, e.g. google.rpc.ErrorInfo." },
      },
      description: "An error: the gRPC status of the call.",
    }),
  ],
]);

/**
 * The schema of a type whose JSON form the proto3 JSON mapping special-cases (and of
 * `google.rpc.Status`, the error body), or undefined for types mapped field by field.
 */
export function specialSchema(typeName: string, ref: RefByName): JsonSchema | undefined {
  const scalar = WRAPPERS.get(typeName);
  if (scalar !== undefined) return { ...nullable(scalarSchema(scalar)), description: "The wrapped value, or null." };
  return SPECIAL.get(typeName)?.(ref);
}

/** Whether `specialSchema` defines the schema of this type. */
export function hasSpecialSchema(typeName: string): boolean {
  return WRAPPERS.has(typeName) || SPECIAL.has(typeName);
}

/** Well-known types with a single-string (or scalar) JSON form, usable in paths and queries. */
export function isStringFormWellKnown(typeName: string): boolean {
  return WRAPPERS.has(typeName) || typeName === "google.protobuf.Timestamp" || typeName === "google.protobuf.Duration" || typeName === "google.protobuf.FieldMask";
}

import { ScalarType } from "@bufbuild/protobuf";
import type { JsonSchema, JsonType } from "./openapi-types.js";

/** The strings the proto3 JSON mapping uses for non-finite floating-point values. */
export const NON_FINITE_NUMBERS: readonly string[] = ["NaN", "Infinity", "-Infinity"];

/**
 * The proto3 JSON form of a scalar. 64-bit integers are always documented as decimal strings
 * (the form the gateway writes; parsers also accept JSON numbers, which the schema leaves out so
 * it is the same for requests and responses).
 */
export function scalarSchema(scalar: ScalarType): JsonSchema {
  switch (scalar) {
    case ScalarType.DOUBLE:
      return floatingPoint("double");
    case ScalarType.FLOAT:
      return floatingPoint("float");
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32", minimum: 0, maximum: 4294967295 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
  }
}

/** `schema` that also accepts JSON `null` (the form of the wrapper well-known types). */
export function nullable(schema: JsonSchema): JsonSchema {
  if (schema.oneOf) return { ...schema, oneOf: [...schema.oneOf, { type: "null" }] };
  const type = schema.type;
  if (type === undefined) return schema;
  const types: readonly JsonType[] = typeof type === "string" ? [type] : type;
  return types.includes("null") ? schema : { ...schema, type: [...types, "null"] };
}

function floatingPoint(format: "float" | "double"): JsonSchema {
  return { oneOf: [{ type: "number", format }, { type: "string", enum: [...NON_FINITE_NUMBERS] }] };
}

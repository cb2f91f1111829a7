import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import type { JsonSchema } from "./openapi-types.js";
import { scalarSchema } from "./scalar-schema.js";
import type { SchemaRegistry } from "./schema-registry.js";
import { isStringFormWellKnown, wrappedScalar } from "./well-known.js";

const NULL_VALUE = "google.protobuf.NullValue";

/**
 * The schema of a singular field as one path segment or query value: scalars, enums (by name)
 * and the well-known types with a string form (wrappers as their bare, non-null value).
 * Undefined when the field has no such form (other messages, `NullValue`, lists, maps).
 */
export function singularValueSchema(field: DescField, schemas: SchemaRegistry): JsonSchema | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return scalarSchema(field.scalar);
    case "enum":
      return enumValueSchema(field.enum, schemas);
    case "message":
      return messageValueSchema(field.message, schemas);
    default:
      return undefined;
  }
}

/** Like `singularValueSchema`, for the elements of a repeated field. */
export function elementValueSchema(field: DescField, schemas: SchemaRegistry): JsonSchema | undefined {
  if (field.fieldKind !== "list") return undefined;
  switch (field.listKind) {
    case "scalar":
      return scalarSchema(field.scalar);
    case "enum":
      return enumValueSchema(field.enum, schemas);
    case "message":
      return undefined;
  }
}

/** Like `singularValueSchema`, for the values of a map field. */
export function mapValueSchema(field: DescField, schemas: SchemaRegistry): JsonSchema | undefined {
  if (field.fieldKind !== "map") return undefined;
  switch (field.mapKind) {
    case "scalar":
      return scalarSchema(field.scalar);
    case "enum":
      return enumValueSchema(field.enum, schemas);
    case "message":
      return undefined;
  }
}

function enumValueSchema(desc: DescEnum, schemas: SchemaRegistry): JsonSchema | undefined {
  return desc.typeName === NULL_VALUE ? undefined : schemas.ref(desc);
}

function messageValueSchema(desc: DescMessage, schemas: SchemaRegistry): JsonSchema | undefined {
  if (!isStringFormWellKnown(desc.typeName)) return undefined;
  const wrapped = wrappedScalar(desc.typeName);
  return wrapped === undefined ? schemas.ref(desc) : scalarSchema(wrapped);
}

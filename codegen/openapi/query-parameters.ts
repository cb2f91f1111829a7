import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { isOutputOnly, isRequired } from "../../src/transcode/field-behavior/field-behavior.js";
import type { CodegenBinding } from "../model.js";
import { commentOf } from "./comments.js";
import { startsWith } from "./fields.js";
import type { JsonSchema, OpenApiParameter } from "./openapi-types.js";
import { elementValueSchema, mapValueSchema, singularValueSchema } from "./parameter-schema.js";
import { mapKeySchema, type SchemaRegistry } from "./schema-registry.js";
import { hasSpecialSchema } from "./well-known.js";

/** Limits that keep wide or deep (even recursive) request messages from exploding the document. */
export interface QueryLimits {
  /** Message fields followed below the request message. */
  readonly maxDepth: number;
  /** Parameters per operation. */
  readonly maxParameters: number;
  /** Fields examined per operation, parameters or not. */
  readonly maxFieldsVisited: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 8, maxParameters: 256, maxFieldsVisited: 4096 };

export interface QueryParameters {
  readonly parameters: OpenApiParameter[];
  /** Whether a limit cut the list short (the operation is marked `x-protogate-query-truncated`). */
  readonly truncated: boolean;
}

/**
 * The query parameters of a binding: every field of the request message not bound by the path
 * or the body, named by JSON names joined with "." (`filter.displayName`), following singular
 * message fields. Repeated scalars and enums are exploded arrays (`tags=a&tags=b`), maps of
 * scalars deepObjects (`labels[key]=value`). Fields with no query form (repeated messages, maps
 * of messages, Struct, Value, Any...) are left out, and so is everything when the body is `*`.
 * A message field whose type is already on the way down is not followed (recursive messages).
 */
export function queryParameters(binding: CodegenBinding, schemas: SchemaRegistry, limits: QueryLimits = DEFAULT_QUERY_LIMITS): QueryParameters {
  const parameters: OpenApiParameter[] = [];
  if (binding.body.kind === "all") return { parameters, truncated: false };
  const bodyField = binding.body.kind === "field" ? binding.body.fieldPath : undefined;
  const bound = binding.template.variables.map((v) => v.fieldPath);
  let visited = 0;
  let truncated = false;
  let stopped = false;

  // `present`: every message on the way is REQUIRED, so a REQUIRED leaf below is required of every request.
  const walk = (message: DescMessage, protoPrefix: readonly string[], jsonPrefix: readonly string[], stack: readonly string[], present: boolean): void => {
    for (const field of message.fields) {
      if (stopped) return;
      if (++visited > limits.maxFieldsVisited) {
        truncated = stopped = true;
        return;
      }
      const protoPath = [...protoPrefix, field.name];
      // OUTPUT_ONLY (google.api.field_behavior): the gateway drops it from requests (or refuses it).
      if (isOutputOnly(field)) continue;
      if (bodyField && startsWith(protoPath, bodyField)) continue;
      if (bound.some((path) => startsWith(protoPath, path))) continue;
      const jsonPath = [...jsonPrefix, field.jsonName];
      const leaf = leafParameter(field, protoPath, jsonPath, schemas);
      if (leaf) {
        // A leaf that a longer path variable reaches into (`create_time.seconds`) is set by the path.
        if (bound.some((path) => startsWith(path, protoPath))) continue;
        if (parameters.length >= limits.maxParameters) {
          truncated = stopped = true;
          return;
        }
        parameters.push(present && isRequired(field) ? { ...leaf, required: true } : leaf);
        continue;
      }
      if (field.fieldKind !== "message" || hasSpecialSchema(field.message.typeName)) continue;
      if (stack.includes(field.message.typeName)) continue;
      if (stack.length > limits.maxDepth) {
        truncated = true;
        continue;
      }
      walk(field.message, protoPath, jsonPath, [...stack, field.message.typeName], present && isRequired(field));
    }
  };

  walk(binding.rpc.input, [], [], [binding.rpc.input.typeName], true);
  return { parameters, truncated };
}

function leafParameter(field: DescField, protoPath: readonly string[], jsonPath: readonly string[], schemas: SchemaRegistry): OpenApiParameter | undefined {
  let shape: { schema: JsonSchema; style?: "form" | "deepObject"; explode?: boolean } | undefined;
  if (field.fieldKind === "list") {
    const items = elementValueSchema(field, schemas);
    if (items) shape = { schema: { type: "array", items }, style: "form", explode: true };
  } else if (field.fieldKind === "map") {
    const values = mapValueSchema(field, schemas);
    const keys = mapKeySchema(field.mapKey);
    if (values) {
      const schema: JsonSchema = keys ? { type: "object", additionalProperties: values, propertyNames: keys } : { type: "object", additionalProperties: values };
      shape = { schema, style: "deepObject", explode: true };
    }
  } else {
    const schema = singularValueSchema(field, schemas);
    if (schema) shape = { schema };
  }
  if (!shape) return undefined;
  const description = commentOf(field);
  return {
    name: jsonPath.join("."),
    in: "query",
    ...(description === undefined ? {} : { description }),
    ...(field.deprecated ? { deprecated: true } : {}),
    ...(shape.style === undefined ? {} : { style: shape.style, explode: shape.explode }),
    schema: shape.schema,
    "x-protogate-field": protoPath.join("."),
  };
}

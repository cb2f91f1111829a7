import { errorResponse } from "../../codegen/openapi/bodies.js";
import type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter, OpenApiTag } from "../../codegen/openapi/openapi-types.js";
import { authResponses, operationSecurity } from "../../codegen/openapi/security.js";
import { STATUS_TYPE } from "../../codegen/openapi/well-known.js";
import type { CallShape, ShapeField } from "../aggregate/answer-shape.js";
import type { PreparedAggregate } from "../aggregate/compile-aggregate.js";
import { FIELDS_PARAMETER } from "../gateway/partial-response.js";

/** The tag of aggregate operations in the served document. */
export const AGGREGATES_TAG = "Aggregates";

type Schemas = OpenApiDocument["components"]["schemas"];

/**
 * The generated OpenAPI document with the aggregate routes added (aggregates live in
 * gateway.yaml, so `protogate generate` cannot know them: the served document is merged at start).
 * Each aggregate is a GET operation with its path variables, the query parameters its calls read
 * and `fields`, its own security, a 200 schema derived from its calls' selections over the
 * document's own component schemas (a `$ref` where a whole response is kept), and the error
 * responses other routes have. Returns a new document; `document` is not changed.
 */
export function withAggregates(document: OpenApiDocument, aggregates: readonly PreparedAggregate[]): OpenApiDocument {
  if (aggregates.length === 0) return document;
  // Boundary: a generated document; guarded for one written by another tool without these keys.
  const schemas: Record<string, JsonSchema> = { ...(document.components?.schemas ?? {}) };
  // Every error body refers to it; a document that has none gets the shape the gateway writes.
  schemas[STATUS_TYPE] ??= STATUS_SCHEMA;
  const refs = { refSpecial: (typeName: string): JsonSchema => ({ $ref: componentRef(typeName) }) };
  const paths = { ...(document.paths ?? {}) };
  for (const aggregate of aggregates) {
    const operation: OpenApiOperation = {
      operationId: `Aggregate_${aggregate.name}`,
      summary:
        aggregate.typed === undefined
          ? `Aggregate ${aggregate.name}: ${aggregate.calls.map((call) => call.route.binding.rpcPath.slice(1)).join(", ")} in one request.`
          : `Aggregate ${aggregate.name} (written in code: its module makes the calls).`,
      tags: [AGGREGATES_TAG],
      parameters: parametersOf(aggregate),
      responses: {
        "200": { description: `The answers of the calls of ${aggregate.name}, each under its name.`, content: { "application/json": { schema: answerSchema(aggregate, schemas) } } },
        ...authResponses(aggregate.rule, refs),
        default: errorResponse(refs),
      },
      security: operationSecurity(aggregate.rule),
      "x-protogate-rpc": aggregate.binding.rpcPath,
    };
    paths[aggregate.binding.pattern] = { ...paths[aggregate.binding.pattern], get: operation };
  }
  const tag: OpenApiTag = { name: AGGREGATES_TAG, description: "Aggregate routes (gateway.yaml `aggregates:`): one request answered by several RPCs." };
  const existing = document.tags ?? [];
  const tags = existing.some((known) => known.name === AGGREGATES_TAG) ? existing : [...existing, tag];
  return { ...document, tags, paths, components: { ...document.components, schemas } };
}

const STATUS_SCHEMA: JsonSchema = {
  type: "object",
  description: "The google.rpc.Status of a failed call.",
  properties: { code: { type: "integer", format: "int32" }, message: { type: "string" }, details: { type: "array", items: { type: "object" } } },
};

function componentRef(typeName: string): string {
  return `#/components/schemas/${typeName}`;
}

function parametersOf(aggregate: PreparedAggregate): OpenApiParameter[] {
  const parameters: OpenApiParameter[] = aggregate.template.variables.map((variable) => ({
    name: variable.fieldPath.join("."),
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  for (const query of aggregate.queryParameters) {
    parameters.push({ name: query.name, in: "query", schema: query.repeated ? { type: "array", items: { type: "string" } } : { type: "string" }, ...(query.repeated && { explode: true }) });
  }
  if (aggregate.fields !== undefined) {
    parameters.push({
      name: FIELDS_PARAMETER,
      in: "query",
      description: "Keeps only these paths of the answer (comma-separated; a call's name, then its keys), as a FieldMask would; `errors` is always kept. Calls whose key is left out, and that no kept call reads, are not made.",
      schema: { type: "string" },
    });
  }
  return parameters;
}

const ERRORS_SCHEMA: JsonSchema = {
  type: "object",
  description: "The google.rpc.Status of each call that failed under `onError: partial`, by the call's name (absent when none failed).",
  additionalProperties: { $ref: componentRef(STATUS_TYPE) },
};

function answerSchema(aggregate: PreparedAggregate, schemas: Schemas): JsonSchema {
  // A typed aggregate's answer is whatever its code writes: an object, with `errors` when a partial call failed.
  if (aggregate.typed !== undefined) return { type: "object", description: "The answer of the aggregate's module.", properties: { errors: ERRORS_SCHEMA }, additionalProperties: true };
  const properties: Record<string, JsonSchema> = {};
  for (const call of aggregate.shape.calls) properties[call.key] = callSchema(call, schemas);
  if (aggregate.calls.some((call) => call.policy.kind === "partial")) {
    properties.errors = ERRORS_SCHEMA;
  }
  return { type: "object", properties };
}

function callSchema(call: CallShape, schemas: Schemas): JsonSchema {
  const typeName = call.response.typeName;
  if (call.whole && schemas[typeName] !== undefined) return { $ref: componentRef(typeName) };
  return objectSchema(call.fields, schemas[typeName], schemas);
}

/** An object of the selected fields: each field's own property schema from the message's component, narrowed where only some of its subfields are kept. */
function objectSchema(fields: readonly ShapeField[], component: JsonSchema | undefined, schemas: Schemas): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const field of fields) properties[field.key] = fieldSchema(field, propertyOf(component, field, schemas), schemas);
  return { type: "object", ...(component?.description !== undefined && { description: component.description }), properties };
}

/** The generated property schema of a field (by JSON name, or proto name when the document was generated with those). */
function propertyOf(component: JsonSchema | undefined, field: ShapeField, schemas: Schemas): JsonSchema | undefined {
  const resolved = component?.$ref === undefined ? component : schemas[component.$ref.slice(componentRef("").length)];
  return resolved?.properties?.[field.field.jsonName] ?? resolved?.properties?.[field.field.protoName];
}

function fieldSchema(field: ShapeField, property: JsonSchema | undefined, schemas: Schemas): JsonSchema {
  if (field.whole) return property ?? {};
  const element = field.field.element.message;
  const children = field.children() ?? [];
  const elementSchema = objectSchema(children, element === undefined ? undefined : schemas[element.typeName], schemas);
  const described = property?.description === undefined ? {} : { description: property.description };
  if (field.field.cardinality === "list") return { type: "array", ...described, items: elementSchema };
  if (field.field.cardinality === "map") return { type: "object", ...described, additionalProperties: elementSchema };
  return { ...elementSchema, ...described };
}

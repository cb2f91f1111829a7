import type { DescField } from "@bufbuild/protobuf";
import type { CodegenBinding } from "../model.js";
import { commentOf } from "./comments.js";
import { resolveField } from "./fields.js";
import type { OpenApiParameter } from "./openapi-types.js";
import { fieldTemplate, segmentsRegex, segmentsText, type OpenApiPathParts, type PathSlot } from "./openapi-path.js";
import { singularValueSchema } from "./parameter-schema.js";
import type { SchemaRegistry } from "./schema-registry.js";

/** What a parameter over a `**` says about its value. */
function deepNote(slot: PathSlot): string {
  const form = slot.segments.length === 1 ? "Any number of path segments" : `Path segments of the form \`${segmentsText(slot.segments)}\` (\`*\` is one segment, \`**\` any number of them)`;
  return `${form}: their "/" separators are sent as they are, not percent-encoded.`;
}

/**
 * The path parameters of one binding, one per slot of its OpenAPI path, named `names[i]` (see
 * `slotNames`, or the names another binding of the same path shape chose). Each says which
 * request field it sets in `x-protogate-field`; a part of an expanded variable also carries the
 * field's whole value in `x-protogate-field-template` (`projects/{project}/services/{service}`),
 * which its description repeats.
 */
export function pathParameters(binding: CodegenBinding, split: OpenApiPathParts, names: readonly string[], schemas: SchemaRegistry): OpenApiParameter[] {
  return split.slots.map((slot, i) => {
    const name = names[i];
    const variable = slot.variable;
    if (!variable) {
      return {
        name,
        in: "path",
        required: true,
        description: slot.deep ? `Bound to no request field. ${deepNote(slot)}` : "Any single path segment (bound to no request field).",
        schema: slot.deep ? { type: "string", pattern: segmentsRegex(slot.segments) } : { type: "string" },
        ...(slot.deep ? { "x-protogate-pattern": segmentsText(slot.segments) } : {}),
      } satisfies OpenApiParameter;
    }
    const fieldPath = variable.fieldPath.join(".");
    const field = resolveField(binding.rpc.input, variable.fieldPath, binding.source);
    return slot.whole ? wholeParameter(name, fieldPath, field, slot, schemas) : partParameter(name, fieldPath, field, slot, split, names);
  });
}

/** A parameter that is a variable's whole value: typed like its field when it is one segment. */
function wholeParameter(name: string, fieldPath: string, field: DescField, slot: PathSlot, schemas: SchemaRegistry): OpenApiParameter {
  const renamed = name === fieldPath ? undefined : `Sets the request field \`${fieldPath}\`.`;
  const description = [commentOf(field), renamed, slot.deep ? deepNote(slot) : undefined].filter((s) => s !== undefined).join("\n\n");
  const schema = (slot.deep ? undefined : singularValueSchema(field, schemas)) ?? { type: "string", ...(slot.deep ? { pattern: segmentsRegex(slot.segments) } : {}) };
  return {
    name,
    in: "path",
    required: true,
    ...(description === "" ? {} : { description }),
    ...(field.deprecated ? { deprecated: true } : {}),
    schema,
    "x-protogate-field": fieldPath,
    ...(slot.deep ? { "x-protogate-pattern": segmentsText(slot.segments) } : {}),
  };
}

/**
 * A parameter that is one wildcard (or run of wildcards with a `**`) of an expanded variable. The field's comment goes on the
 * variable's first parameter only (viewers list the parameters together).
 */
function partParameter(name: string, fieldPath: string, field: DescField, slot: PathSlot, split: OpenApiPathParts, names: readonly string[]): OpenApiParameter {
  const expanded = split.variables.find((v) => v.variable === slot.variable);
  const template = expanded === undefined ? `{${name}}` : fieldTemplate(split, expanded, names);
  const first = expanded?.pieces.find((p) => typeof p !== "string") === slot;
  const what = slot.deep ? `Path segments of the request field \`${fieldPath}\`` : `A segment of the request field \`${fieldPath}\``;
  const mapping = `${what}: the gateway sets \`${fieldPath}\` to \`${template}\`.`;
  const description = [first ? commentOf(field) : undefined, mapping, slot.deep ? deepNote(slot) : undefined].filter((s) => s !== undefined).join("\n\n");
  return {
    name,
    in: "path",
    required: true,
    description,
    ...(field.deprecated ? { deprecated: true } : {}),
    schema: slot.deep ? { type: "string", pattern: segmentsRegex(slot.segments) } : { type: "string" },
    "x-protogate-field": fieldPath,
    "x-protogate-field-template": template,
    ...(slot.deep ? { "x-protogate-pattern": segmentsText(slot.segments) } : {}),
  };
}

/**
 * Variables whose pattern has no wildcard (`{name=users/me}`): the path sets the field to fixed
 * text, which no parameter shows, so the operation's description says it.
 */
export function fixedFieldNotes(split: OpenApiPathParts): string[] {
  return split.variables
    .filter((v) => v.pieces.every((p) => typeof p === "string"))
    .map((v) => `This path sets the request field \`${v.variable.fieldPath.join(".")}\` to \`${v.pieces.join("/")}\`.`);
}

import type { CodegenBinding } from "../model.js";
import { commentOf } from "./comments.js";
import { resolveField } from "./fields.js";
import type { OpenApiParameter } from "./openapi-types.js";
import { segmentsRegex, segmentsText, type PathExpression } from "./openapi-path.js";
import { singularValueSchema } from "./parameter-schema.js";
import type { SchemaRegistry } from "./schema-registry.js";

/**
 * The path parameters of one binding, one per expression of its OpenAPI path, named `names[i]`
 * (the field path, unless another binding of the same path shape chose the names). A variable
 * over more than one `*` becomes a plain string with the template's pattern as a regex.
 */
export function pathParameters(
  binding: CodegenBinding,
  expressions: readonly PathExpression[],
  names: readonly string[],
  schemas: SchemaRegistry,
): OpenApiParameter[] {
  return expressions.map((expression, i) => {
    const name = names[i];
    const text = segmentsText(expression.segments);
    const patternNote = expression.single
      ? undefined
      : `Has the form \`${text}\` (\`*\` is one path segment, \`**\` any number of them); its "/" separators are sent as they are, not percent-encoded.`;
    const extensions = expression.single ? {} : { "x-protogate-pattern": text };
    const variable = expression.variable;
    if (!variable) {
      const description = expression.single ? "Any single path segment (bound to no request field)." : `Any path segments (bound to no request field). ${patternNote}`;
      return {
        name,
        in: "path",
        required: true,
        description,
        schema: expression.single ? { type: "string" } : { type: "string", pattern: segmentsRegex(expression.segments) },
        ...extensions,
      } satisfies OpenApiParameter;
    }
    const fieldPath = variable.fieldPath.join(".");
    const field = resolveField(binding.rpc.input, variable.fieldPath, binding.source);
    const renamed = name === fieldPath ? undefined : `Sets the request field \`${fieldPath}\`.`;
    const description = [commentOf(field), renamed, patternNote].filter((s) => s !== undefined).join("\n\n");
    const schema = (expression.single ? singularValueSchema(field, schemas) : undefined) ?? {
      type: "string",
      pattern: segmentsRegex(expression.segments),
    };
    const parameter: OpenApiParameter = {
      name,
      in: "path",
      required: true,
      ...(description === "" ? {} : { description }),
      ...(field.deprecated ? { deprecated: true } : {}),
      schema,
      "x-protogate-field": fieldPath,
      ...extensions,
    };
    return parameter;
  });
}

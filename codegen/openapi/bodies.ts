import type { DescField } from "@bufbuild/protobuf";
import type { CodegenBinding } from "../model.js";
import { commentOf } from "./comments.js";
import { resolveField } from "./fields.js";
import type { OpenApiMediaType, OpenApiRequestBody, OpenApiResponse } from "./openapi-types.js";
import type { SchemaRegistry } from "./schema-registry.js";
import { HTTP_BODY_TYPE, STATUS_TYPE } from "./well-known.js";

const JSON_MEDIA_TYPE = "application/json";

/** Raw bytes of any media type: how `google.api.HttpBody` travels (its content_type is the Content-Type). */
function binaryContent(): { [mediaType: string]: OpenApiMediaType } {
  return { "*/*": { schema: { type: "string", contentMediaType: "application/octet-stream", description: "Raw bytes of any media type." } } };
}

function isHttpBodyField(field: DescField): boolean {
  return field.fieldKind === "message" && field.message.typeName === HTTP_BODY_TYPE;
}

/**
 * The request body of a binding: none without a `body`; for `*` the request message minus the
 * path-bound fields; for a field, that field's JSON value. An `HttpBody` body is raw bytes.
 */
export function requestBody(binding: CodegenBinding, schemas: SchemaRegistry): OpenApiRequestBody | undefined {
  const input = binding.rpc.input;
  switch (binding.body.kind) {
    case "none":
      return undefined;
    case "all": {
      if (input.typeName === HTTP_BODY_TYPE) {
        return { description: `The raw body of the ${HTTP_BODY_TYPE} request.`, required: true, content: binaryContent() };
      }
      const schema = schemas.messageWithout(input, binding.template.variables.map((v) => v.fieldPath));
      return { required: true, content: { [JSON_MEDIA_TYPE]: { schema } } };
    }
    case "field": {
      const field = resolveField(input, binding.body.fieldPath, binding.source);
      const comment = commentOf(field);
      const description = `The request field \`${binding.body.fieldPath.join(".")}\`${comment === undefined ? "." : `: ${comment}`}`;
      if (isHttpBodyField(field)) return { description, required: true, content: binaryContent() };
      return { description, required: true, content: { [JSON_MEDIA_TYPE]: { schema: schemas.valueSchema(field) } } };
    }
  }
}

/** The `200` response: the response message, its `response_body` field, or raw `HttpBody` bytes. */
export function successResponse(binding: CodegenBinding, schemas: SchemaRegistry): OpenApiResponse {
  const output = binding.rpc.output;
  if (binding.responseBody.length === 0) {
    if (output.typeName === HTTP_BODY_TYPE) return { description: `The raw body of the ${HTTP_BODY_TYPE} response; its content_type is the Content-Type.`, content: binaryContent() };
    return { description: `The ${output.typeName} response.`, content: { [JSON_MEDIA_TYPE]: { schema: schemas.ref(output) } } };
  }
  const field = resolveField(output, binding.responseBody, binding.source);
  const description = `The \`${binding.responseBody.join(".")}\` field of the ${output.typeName} response.`;
  if (isHttpBodyField(field)) return { description, content: binaryContent() };
  return { description, content: { [JSON_MEDIA_TYPE]: { schema: schemas.valueSchema(field) } } };
}

/** The `default` response of every operation: a `google.rpc.Status` JSON body. */
export function errorResponse(schemas: SchemaRegistry): OpenApiResponse {
  return { description: `An error, as a ${STATUS_TYPE}.`, content: { [JSON_MEDIA_TYPE]: { schema: schemas.refSpecial(STATUS_TYPE) } } };
}

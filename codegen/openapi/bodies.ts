import type { DescField } from "@bufbuild/protobuf";
import type { CodegenBinding } from "../model.js";
import { commentOf } from "./comments.js";
import { resolveField } from "./fields.js";
import type { JsonSchema, OpenApiHeader, OpenApiMediaType, OpenApiRequestBody, OpenApiResponse } from "./openapi-types.js";
import type { SchemaRegistry } from "./schema-registry.js";
import { HTTP_BODY_TYPE, STATUS_TYPE } from "./well-known.js";

export const JSON_MEDIA_TYPE = "application/json";

/**
 * What one message carries on the HTTP side: a JSON value of `schema`, or (`google.api.HttpBody`)
 * raw bytes of any media type. `description` says which part of the message it is.
 */
export type BodyValue = { readonly raw: false; readonly schema: JsonSchema; readonly description?: string } | { readonly raw: true; readonly description: string };

/** Raw bytes of any media type: how `google.api.HttpBody` travels (its content_type is the Content-Type). */
export function binaryContent(): { [mediaType: string]: OpenApiMediaType } {
  return { "*/*": { schema: { type: "string", contentMediaType: "application/octet-stream", description: "Raw bytes of any media type." } } };
}

function isHttpBodyField(field: DescField): boolean {
  return field.fieldKind === "message" && field.message.typeName === HTTP_BODY_TYPE;
}

/**
 * The HTTP body of one request message, per the binding's `body`: none without one; for `*` the
 * request message minus the path-bound fields; for a field, that field's JSON value; an
 * `HttpBody` is raw bytes. The messages of a client stream under a rule without `body` are whole
 * request messages (the gateway has nowhere else to take them from): `streamed` says so.
 */
export function requestValue(binding: CodegenBinding, schemas: SchemaRegistry, streamed = false): BodyValue | undefined {
  const input = binding.rpc.input;
  const body = streamed && binding.body.kind === "none" ? ({ kind: "all" } as const) : binding.body;
  switch (body.kind) {
    case "none":
      return undefined;
    case "all":
      if (input.typeName === HTTP_BODY_TYPE) return { raw: true, description: `The raw body of the ${HTTP_BODY_TYPE} request.` };
      return { raw: false, schema: schemas.messageWithout(input, binding.template.variables.map((v) => v.fieldPath)) };
    case "field": {
      const field = resolveField(input, body.fieldPath, binding.source);
      const comment = commentOf(field);
      const description = `The request field \`${body.fieldPath.join(".")}\`${comment === undefined ? "." : `: ${comment}`}`;
      return isHttpBodyField(field) ? { raw: true, description } : { raw: false, schema: schemas.valueSchema(field), description };
    }
  }
}

/** The request body of a unary or server-streaming binding (one message). */
export function requestBody(binding: CodegenBinding, schemas: SchemaRegistry): OpenApiRequestBody | undefined {
  const value = requestValue(binding, schemas);
  if (value === undefined) return undefined;
  if (value.raw) return { description: value.description, required: true, content: binaryContent() };
  return { ...(value.description === undefined ? {} : { description: value.description }), required: true, content: { [JSON_MEDIA_TYPE]: { schema: value.schema } } };
}

/** The HTTP body of one response message: the message, its `response_body` field, or raw `HttpBody` bytes. */
export function responseValue(binding: CodegenBinding, schemas: SchemaRegistry): BodyValue & { readonly description: string } {
  const output = binding.rpc.output;
  if (binding.responseBody.length === 0) {
    if (output.typeName === HTTP_BODY_TYPE) return { raw: true, description: `The raw body of the ${HTTP_BODY_TYPE} response; its content_type is the Content-Type.` };
    return { raw: false, schema: schemas.ref(output), description: `The ${output.typeName} response.` };
  }
  const field = resolveField(output, binding.responseBody, binding.source);
  const description = `The \`${binding.responseBody.join(".")}\` field of the ${output.typeName} response.`;
  return isHttpBodyField(field) ? { raw: true, description } : { raw: false, schema: schemas.valueSchema(field), description };
}

/**
 * The success response of a unary or client-streaming binding (one message), under its status
 * code: 200, or the method's `(protogate.v1.success)` (204 without content, 201 with its
 * `Location` header when it has one).
 */
export function successResponse(binding: CodegenBinding, schemas: SchemaRegistry): { code: string; response: OpenApiResponse } {
  const success = binding.success;
  if (success?.status === 204) return { code: "204", response: { description: `No content: the ${binding.rpc.output.typeName} response is not sent.` } };
  const value = responseValue(binding, schemas);
  const response: OpenApiResponse = { description: value.description, content: value.raw ? binaryContent() : { [JSON_MEDIA_TYPE]: { schema: value.schema } } };
  if (success === undefined) return { code: "200", response };
  const location = success.location;
  if (location === undefined) return { code: String(success.status), response };
  const template = location.map((part) => ("text" in part ? part.text : `{${part.field.join(".")}}`)).join("");
  const header: OpenApiHeader = { description: `The created resource: \`${template}\`, each {field} taken from the ${binding.rpc.output.typeName} response (absent when it is empty).`, schema: { type: "string" } };
  return { code: String(success.status), response: { ...response, headers: { Location: header } } };
}

/** The `default` response of every operation: a `google.rpc.Status` JSON body. */
export function errorResponse(schemas: Pick<SchemaRegistry, "refSpecial">): OpenApiResponse {
  return { description: `An error, as a ${STATUS_TYPE}.`, content: { [JSON_MEDIA_TYPE]: { schema: schemas.refSpecial(STATUS_TYPE) } } };
}

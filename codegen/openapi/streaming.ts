import type { MethodKind } from "../../src/binding.js";
import type { CodegenBinding } from "../model.js";
import { binaryContent, JSON_MEDIA_TYPE, requestValue, responseValue } from "./bodies.js";
import type { JsonSchema, OpenApiRequestBody, OpenApiResponse } from "./openapi-types.js";
import type { SchemaRegistry } from "./schema-registry.js";
import { STATUS_TYPE } from "./well-known.js";

// How the gateway frames streams over HTTP (src/transcode/stream-format.ts, src/gateway/stream-call.ts)
// and WebSocket; this module only documents it.

export const NDJSON_MEDIA_TYPE = "application/x-ndjson";
export const SSE_MEDIA_TYPE = "text/event-stream";

/** A streaming method kind (what `x-protogate-streaming` says). */
export type StreamingKind = Exclude<MethodKind, "unary">;

/** Whether the responses of a method kind are a stream. */
export function streamsResponses(kind: MethodKind): boolean {
  return kind === "server" || kind === "bidi";
}

/** Whether the requests of a method kind are a stream. */
export function streamsRequests(kind: MethodKind): boolean {
  return kind === "client" || kind === "bidi";
}

/**
 * The `200` response of a server-streaming or bidirectional binding: NDJSON lines (the default)
 * or Server-Sent Events (`Accept: text/event-stream`). OpenAPI 3.1 has no schema for the items of
 * a sequential media type, so the NDJSON schema is that of one line and the SSE one a string,
 * each described. A raw `google.api.HttpBody` stream is the messages' bytes one after the other.
 */
export function streamedResponse(binding: CodegenBinding, schemas: SchemaRegistry): OpenApiResponse {
  const value = responseValue(binding, schemas);
  const output = binding.rpc.output.typeName;
  const what = binding.responseBody.length === 0 ? `${output} messages` : `the \`${binding.responseBody.join(".")}\` field of each ${output} message`;
  if (value.raw) {
    return {
      description: `A stream of ${what}: their raw bytes one after the other, under the first message's content_type. A failure before the first message is an ordinary error response (see default); after it, the response is cut off (raw bytes have no way to say "failed").`,
      content: binaryContent(),
    };
  }
  const status = schemas.refSpecial(STATUS_TYPE);
  const line: JsonSchema = {
    type: "object",
    description: `One line of the stream; each line is one such object: {"result": <message>} for each message, or, as the last line, {"error": <${STATUS_TYPE}>} when the call fails after its first message.`,
    properties: { result: value.schema, error: status },
    oneOf: [{ required: ["result"] }, { required: ["error"] }],
    additionalProperties: false,
  };
  const events: JsonSchema = {
    type: "string",
    description: `Server-Sent Events: one event \`data: <message JSON>\` per message (the same JSON as an NDJSON line's result); a failure after the first message as an event \`event: error\` with \`data: <${STATUS_TYPE} JSON>\`; comment lines (\`: keep-alive\`) while the stream is idle.`,
  };
  return {
    description: `A stream of ${what}: as newline-delimited JSON (${NDJSON_MEDIA_TYPE}, the default), or as Server-Sent Events when the request has \`Accept: ${SSE_MEDIA_TYPE}\`. A failure before the first message is an ordinary error response (see default); after it, the last NDJSON line or SSE event carries it.`,
    content: { [NDJSON_MEDIA_TYPE]: { schema: line }, [SSE_MEDIA_TYPE]: { schema: events } },
  };
}

/**
 * The request body of a client-streaming or bidirectional binding: a sequence of JSON values, one
 * request message each per the body rule, as NDJSON or as `application/json` values separated by
 * whitespace. A stream of raw `google.api.HttpBody` messages is not JSON: it keeps raw bytes.
 */
export function streamedRequestBody(binding: CodegenBinding, schemas: SchemaRegistry): OpenApiRequestBody {
  const value = requestValue(binding, schemas, true);
  if (value === undefined) throw new Error(`${binding.source}: a streamed request always has a body`);
  if (value.raw) return { description: value.description, required: true, content: binaryContent() };
  const input = binding.rpc.input.typeName;
  const bound = binding.template.variables.map((variable) => variable.fieldPath.join("."));
  const each =
    binding.body.kind === "field"
      ? `the \`${binding.body.fieldPath.join(".")}\` field of the ${input} message`
      : `the ${input} message${bound.length === 0 ? "" : ` without the fields the path sets (${bound.join(", ")})`}`;
  return {
    description: `A stream of request messages, one JSON value each: ${each}; in ${NDJSON_MEDIA_TYPE} one per line (in ${JSON_MEDIA_TYPE}, whitespace between values is enough). Each message is sent upstream as it arrives; path and query parameters set their fields in every message. A bad message fails the call with INVALID_ARGUMENT, naming its index.`,
    required: true,
    content: { [NDJSON_MEDIA_TYPE]: { schema: value.schema }, [JSON_MEDIA_TYPE]: { schema: value.schema } },
  };
}

const KIND_NOTES: Record<StreamingKind, string> = {
  server: "Server streaming: the response is a stream of messages (see the 200 response).",
  client: "Client streaming: the request body is a stream of messages, each sent upstream as it arrives; the one response comes after the body ends.",
  bidi: "Bidirectional streaming: over HTTP the request body and the response are both streams, and responses can arrive while the body is still being sent; a WebSocket gives full duplex.",
};

/** The note every streaming operation's description ends with: its kind, and the WebSocket form. */
export function streamingNote(kind: StreamingKind): string {
  return [
    KIND_NOTES[kind],
    "WebSocket: a GET with `Upgrade: websocket` on this path (whatever this operation's HTTP method; the same path and query parameters) opens the same call. Each text frame is one JSON request message, and each response message comes as one text frame; an empty text frame half-closes the client's side. The call ends with close code 1000 on OK, or 4000 + the gRPC code (4005 for NOT_FOUND, ...) with the status message as the close reason.",
  ].join("\n\n");
}

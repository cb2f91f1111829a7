import type { AnyBinding, Binding } from "../binding.js";
import { decodeReply } from "./decode-reply.js";
import { existingLeafParent, resolveFieldPath } from "./field-path.js";
import type { CodecRegistry } from "./json/codec-registry.js";
import { toWriteError } from "./json/json-field-error.js";
import type { MessagePlan } from "./json/plan-types.js";
import { writeWireJson } from "./json/wire-json.js";
import { compileFieldWireJson } from "./json/wire-json-field.js";

/** An HTTP response body with its content type. */
export interface ShapedResponse {
  contentType: string;
  body: string | Buffer;
}

const HTTP_BODY = "google.api.HttpBody";
const JSON_TYPE = "application/json";
const OCTET_STREAM = "application/octet-stream";

/**
 * Compiles, for one binding, how an upstream reply (protobuf bytes) becomes the HTTP body:
 * - `response_body` empty: the whole message as proto3 JSON;
 * - `response_body: "f"`: that field's JSON, whatever its type (a scalar prints even at its
 *   default, a repeated field as an array). An unset message field prints `{}` when its JSON form
 *   is an object (like grpc-gateway) and `null` for Timestamp, Duration, wrappers and the like,
 *   whose default JSON would claim a value nobody sent;
 * - a `google.api.HttpBody` (the response, or the response_body field): its raw `data` with its
 *   `content_type` (application/octet-stream when empty).
 * JSON is written straight from the bytes (json/wire-json.ts). A reply that writer leaves alone
 * (bytes that may not decode, a value with no JSON form, rare wire shapes) and HttpBody replies
 * take the object path: decoded (decode-reply.ts), then written by `createMessageShaper`, which
 * gives the same text or the error.
 */
export function createResponseShaper(registry: CodecRegistry, binding: AnyBinding): (reply: Uint8Array) => ShapedResponse {
  const fromMessage = createMessageShaper(registry, binding);
  const viaMessage = (reply: Uint8Array): ShapedResponse => fromMessage(decodeReply(binding, reply));
  const direct = directJson(registry, binding);
  if (direct === undefined) return viaMessage;
  return (reply) => {
    let body: string;
    try {
      body = direct(reply);
    } catch {
      // BAIL, or anything unforeseen: the object path has the answer (or the error) for this reply.
      return viaMessage(reply);
    }
    return { contentType: JSON_TYPE, body };
  };
}

/** The direct JSON writer of the binding's replies, or undefined when they are raw (HttpBody). */
function directJson(registry: CodecRegistry, binding: AnyBinding): ((reply: Uint8Array) => string) | undefined {
  if (repliesAreRaw(registry, binding)) return undefined;
  const root = registry.plan(binding.responseType);
  if (binding.responseBody.length === 0) return (reply) => writeWireJson(root, reply);
  const resolved = resolveFieldPath(root, binding.responseBody, false);
  if (typeof resolved === "string") return undefined; // createMessageShaper has thrown already
  return compileFieldWireJson(root, resolved.fields, unsetJson(resolved.leaf.cardinality === "singular" ? resolved.leaf.element.message : undefined), (desc) => registry.plan(desc.typeName));
}

/** What an unset message `response_body` field prints: `{}` when its JSON is an object, else `null`. */
function unsetJson(leafMessage: MessagePlan | undefined): string {
  return leafMessage?.jsonIsObject ? "{}" : "null";
}

/**
 * The object path: how a decoded response message becomes the HTTP body (see createResponseShaper).
 * The direct writer's fallback, and the model its tests compare it with.
 */
export function createMessageShaper<Res>(registry: CodecRegistry, binding: Binding<unknown, Res>): (message: Res) => ShapedResponse {
  const root = registry.plan(binding.responseType);
  const where = `${binding.httpMethod} ${binding.pattern} (${binding.source})`;

  if (binding.responseBody.length === 0) {
    if (root.typeName === HTTP_BODY) return (message) => raw(message);
    return (message) => json(() => root.writeJson(message, 1), root.typeName);
  }

  const resolved = resolveFieldPath(root, binding.responseBody, false);
  if (typeof resolved === "string") throw new Error(`${where}: response_body "${binding.responseBody.join(".")}": ${resolved}`);
  const { leaf } = resolved;
  const leafMessage: MessagePlan | undefined = leaf.cardinality === "singular" ? leaf.element.message : undefined;
  const what = `${root.typeName}.${binding.responseBody.join(".")}`;

  if (leafMessage?.typeName === HTTP_BODY) {
    return (message) => raw(existingLeafParent(message as Record<string, unknown>, resolved)?.[leaf.prop]);
  }
  const depth = resolved.fields.length;
  const unset = unsetJson(leafMessage);
  return (message) => {
    const value = existingLeafParent(message as Record<string, unknown>, resolved)?.[leaf.prop];
    if (value === undefined || (value === null && !leaf.element.acceptsNull)) {
      return { contentType: JSON_TYPE, body: leaf.cardinality === "list" ? "[]" : leaf.cardinality === "map" ? "{}" : unset };
    }
    return json(() => leaf.write(value, depth), what);
  };
}

/** Whether the replies of `binding` are raw bytes: a `google.api.HttpBody`, whole or as `response_body`. */
export function repliesAreRaw(registry: CodecRegistry, binding: Binding<unknown, unknown>): boolean {
  const root = registry.plan(binding.responseType);
  if (binding.responseBody.length === 0) return root.typeName === HTTP_BODY;
  const resolved = resolveFieldPath(root, binding.responseBody, false);
  return typeof resolved !== "string" && resolved.leaf.cardinality === "singular" && resolved.leaf.element.message?.typeName === HTTP_BODY;
}

function json(write: () => unknown, what: string): ShapedResponse {
  try {
    return { contentType: JSON_TYPE, body: JSON.stringify(write()) };
  } catch (error) {
    throw toWriteError(error, what);
  }
}

function raw(message: unknown): ShapedResponse {
  const body = message as { contentType?: string; data?: Uint8Array } | undefined;
  const data = body?.data;
  return {
    contentType: body?.contentType || OCTET_STREAM,
    body: data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  };
}

import type { Binding } from "../binding.js";
import { GatewayError, badRequest } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { isJsonContentType } from "./content-type.js";
import { leafParent, resolveFieldPath } from "./field-path.js";
import { SKIP } from "./json/enum-json.js";
import { toReadError } from "./json/json-field-error.js";
import { parseJsonText } from "./json/parse-json.js";
import type { MessagePlan } from "./json/plan-types.js";
import { emptyBytes } from "./json/scalar-json.js";

const HTTP_BODY = "google.api.HttpBody";
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Compiles how the HTTP body becomes the start of the request message (HttpRule.body): none,
 * the whole message (`*`) or one field, as proto3 JSON, or as raw bytes when the target is a
 * `google.api.HttpBody` (any content type). An empty body is an empty message; JSON needs a
 * JSON content type (415 otherwise).
 */
export function compileBody(
  root: MessagePlan,
  binding: Binding<unknown, unknown>,
  where: string,
): (body: Buffer | undefined, contentType: string | undefined) => Record<string, unknown> {
  const body = binding.body;
  if (body.kind === "none") return () => root.create();

  if (body.kind === "all") {
    if (root.typeName === HTTP_BODY) return (bytes, contentType) => httpBody(root, bytes, contentType);
    return (bytes, contentType) => {
      const json = readJsonBody(bytes, contentType);
      if (json === undefined) return root.create();
      try {
        return root.readJson(json, 1) as Record<string, unknown>;
      } catch (error) {
        throw toReadError(error, [], "the request body");
      }
    };
  }

  const resolved = resolveFieldPath(root, body.fieldPath, false);
  if (typeof resolved === "string") throw new Error(`${where}: body "${body.fieldPath.join(".")}": ${resolved}`);
  const { leaf } = resolved;
  const prefix = resolved.fields.map((f) => f.jsonName);
  const leafMessage = leaf.cardinality === "singular" ? leaf.element.message : undefined;

  if (leafMessage?.typeName === HTTP_BODY) {
    return (bytes, contentType) => {
      const message = root.create();
      leafParent(message, resolved)[leaf.prop] = httpBody(leafMessage, bytes, contentType);
      return message;
    };
  }
  const depth = resolved.fields.length; // the leaf's parent level (root = 1)
  return (bytes, contentType) => {
    const message = root.create();
    const json = readJsonBody(bytes, contentType, prefix);
    let value: unknown;
    if (json === undefined) {
      if (leafMessage === undefined) return message;
      value = leafMessage.toField(leafMessage.create());
    } else {
      try {
        value = json === null ? leaf.nullValue : leaf.read(json, depth);
      } catch (error) {
        throw toReadError(error, prefix, `field "${prefix.join(".")}"`);
      }
      if (value === SKIP) return message;
    }
    leafParent(message, resolved)[leaf.prop] = value;
    return message;
  };
}

/** The body's JSON value, or undefined for an empty body. `prefix`: where it sits in the message (JSON names), for errors. */
export function readJsonBody(bytes: Buffer | undefined, contentType: string | undefined, prefix: readonly string[] = []): unknown {
  if (bytes === undefined || bytes.length === 0) return undefined;
  if (!isJsonContentType(contentType)) {
    throw new GatewayError(
      GrpcCode.INVALID_ARGUMENT,
      "PG_ERR_UNSUPPORTED_MEDIA_TYPE",
      contentType === undefined ? "the request has a body but no Content-Type; send application/json" : `unsupported Content-Type ${JSON.stringify(contentType.slice(0, 100))}; send application/json`,
      { httpStatus: 415 },
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw badRequest("PG_ERR_BAD_JSON", "the request body is not valid UTF-8", error);
  }
  return parseJsonText(text, prefix);
}

function httpBody(plan: MessagePlan, bytes: Buffer | undefined, contentType: string | undefined): Record<string, unknown> {
  const message = plan.create();
  message.contentType = contentType ?? "";
  message.data = bytes ?? emptyBytes();
  return message;
}

import type { Binding } from "../binding.js";
import { resolveFieldPath } from "./field-path.js";
import type { CodecRegistry } from "./json/codec-registry.js";
import { presettable } from "./json/json-binary.js";
import { WireWriter } from "./json/wire-writer.js";
import { createRequestBuilder, type RequestBuilderOptions, type RequestInput } from "./request-builder.js";
import { readJsonBody } from "./request-body.js";

const HTTP_BODY = "google.api.HttpBody";
const EMPTY_JSON: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * Compiles, for one binding, the function that turns an HTTP request into the protobuf bytes of
 * its request message: the request builder's message (request-builder.ts), encoded by the
 * binding's codec. The common case skips the message object: a JSON body for the whole message
 * (`body: "*"`, or no body) and path variables bound to top-level scalar fields go straight from
 * the parsed JSON to bytes (json/json-binary.ts), with the same bytes. Anything else (query
 * parameters, `body: "field"`, HttpBody, nested or message-typed path variables, and whatever the
 * direct encoder cannot vouch for, every invalid request included) takes the builder's path,
 * whose result or error is then the answer: errors are the builder's by construction.
 */
export function createRequestEncoder<Req>(
  registry: CodecRegistry,
  binding: Binding<Req, unknown>,
  options: RequestBuilderOptions,
): (input: RequestInput) => Uint8Array {
  const build = createRequestBuilder(registry, binding, options);
  const codec = binding.requestCodec;
  const viaObject = (input: RequestInput): Uint8Array => codec.encode(build(input)).finish();

  const root = registry.plan(binding.requestType);
  const bodyKind = options.streamedMessages && binding.body.kind === "none" ? "all" : binding.body.kind;
  if (bodyKind === "field" || root.typeName === HTTP_BODY || root.wellKnown) return viaObject;

  // Path variables as presets: the field's index in the root message, by proto name.
  const presetIndex = new Map<string, number>();
  for (const variable of binding.template.variables) {
    const resolved = resolveFieldPath(root, variable.fieldPath, false);
    if (typeof resolved === "string" || resolved.fields.length !== 1 || !presettable(resolved.leaf)) return viaObject;
    presetIndex.set(variable.fieldPath[0], root.fields.indexOf(resolved.leaf));
  }
  const expectsBody = bodyKind === "all";
  const writer = new WireWriter();

  const direct = (input: RequestInput): Uint8Array => {
    const json = expectsBody ? readJsonBody(input.body, input.contentType) : undefined;
    let preset: unknown[] | undefined;
    const { variables } = input;
    for (let i = 0; i < variables.length; i++) {
      const { fieldPath, value } = variables[i];
      const index = fieldPath.length === 1 ? presetIndex.get(fieldPath[0]) : undefined;
      if (index === undefined) throw new Error("unexpected path variable");
      (preset ??= [])[index] = root.fields[index].element.readString!(value);
    }
    writer.reset();
    root.encodeJson(json === undefined ? EMPTY_JSON : json, writer, 1, preset);
    return writer.finish();
  };

  return (input) => {
    // Query parameters are left to the builder (measured: see the README's note on request encoding).
    if (input.query.length > 0) return viaObject(input);
    try {
      return direct(input);
    } catch {
      // BAIL, or any error of the direct path: the builder's path gives the answer (or its own error).
      return viaObject(input);
    }
  };
}

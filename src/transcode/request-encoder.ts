import type { Binding } from "../binding.js";
import { resolveFieldPath } from "./field-path.js";
import type { CodecRegistry } from "./json/codec-registry.js";
import { EMPTY_JSON, presettable, type Preset } from "./json/json-binary.js";
import { setOwn } from "./json/json-object.js";
import { BAIL } from "./json/wire-cursor.js";
import { WireWriter } from "./json/wire-writer.js";
import { createRequestBuilder, type RequestBuilderOptions, type RequestInput } from "./request-builder.js";
import { readJsonBody } from "./request-body.js";

const HTTP_BODY = "google.api.HttpBody";
/** One scratch writer for every route: encoding is synchronous, so two calls never overlap. */
const writer = new WireWriter();

/** A path variable as the direct encoder takes it: field indices from the root down, and the leaf's string form. */
interface PresetPath {
  readonly indices: readonly number[];
  readonly parse: (text: string) => unknown;
}

/**
 * Compiles, for one binding, the function that turns an HTTP request into the protobuf bytes of
 * its request message: the request builder's message (request-builder.ts) encoded by the
 * binding's codec. The common case skips the message object: a JSON body (`body: "*"`, a
 * top-level `body: "field"`, or none) and path variables bound to scalar fields (through
 * regular messages) go straight from the parsed JSON to bytes (json/json-binary.ts), with the
 * same bytes. Everything else takes the builder's path: query parameters, HttpBody, deeper body
 * fields, path variables through oneofs or into well-known types, and whatever the direct
 * encoder cannot vouch for, every invalid request included (errors are the builder's by
 * construction; an invalid request costs its parse twice).
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
  if (root.typeName === HTTP_BODY || root.wellKnown) return viaObject;
  // Under a rule without `body`, each message of a client stream is the whole request message.
  const body = options.streamedMessages && binding.body.kind === "none" ? ({ kind: "all" } as const) : binding.body;

  // `body: "field"` reads as `body: "*"` of the JSON {field: body}; an empty body sets a message field to an empty message.
  let bodyKey: string | undefined;
  let emptyBody: unknown = EMPTY_JSON;
  if (body.kind === "field") {
    const resolved = resolveFieldPath(root, body.fieldPath, false);
    if (typeof resolved === "string" || resolved.fields.length !== 1) return viaObject;
    const leafMessage = resolved.leaf.cardinality === "singular" ? resolved.leaf.element.message : undefined;
    if (leafMessage?.wellKnown === true || leafMessage?.typeName === HTTP_BODY) return viaObject;
    bodyKey = resolved.leaf.jsonName;
    if (leafMessage !== undefined) emptyBody = wrap(bodyKey, EMPTY_JSON);
  }

  const presets = new Map<string, PresetPath>();
  for (const variable of binding.template.variables) {
    const resolved = resolveFieldPath(root, variable.fieldPath, false);
    if (typeof resolved === "string" || !resolved.fields.every(presettable) || resolved.leaf.element.message !== undefined) return viaObject;
    const indices: number[] = [];
    let plan = root;
    for (const field of resolved.fields) {
      indices.push(plan.fields.indexOf(field));
      plan = field.element.message ?? plan;
    }
    presets.set(variable.fieldPath.join("."), { indices, parse: resolved.leaf.element.readString! });
  }

  const readsBody = body.kind !== "none";

  const direct = (input: RequestInput): Uint8Array => {
    const parsed = readsBody ? readJsonBody(input.body, input.contentType) : undefined;
    const json = parsed === undefined ? emptyBody : bodyKey === undefined ? parsed : wrap(bodyKey, parsed);
    let preset: Preset | undefined;
    const { variables } = input;
    for (let i = 0; i < variables.length; i++) preset = withVariable(preset, presets, variables[i].fieldPath, variables[i].value);
    writer.reset();
    root.encodeJson(json, writer, 1, preset);
    return writer.finish();
  };

  return (input) => {
    // Query parameters are left to the builder (see the README's note on request encoding).
    if (input.query.length > 0) return viaObject(input);
    try {
      return direct(input);
    } catch {
      // BAIL, or any error of the direct path: the builder's path gives the answer (or its own error).
      return viaObject(input);
    }
  };
}

function wrap(key: string, value: unknown): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  setOwn(json, key, value);
  return json;
}

/** `preset` (made if need be) with the variable's parsed value at its field indices. */
function withVariable(preset: Preset | undefined, presets: ReadonlyMap<string, PresetPath>, fieldPath: readonly string[], value: string): Preset {
  const path = presets.get(fieldPath.length === 1 ? fieldPath[0] : fieldPath.join("."));
  if (path === undefined) throw BAIL; // not this binding's: the builder reports it
  const top: unknown[] = (preset as unknown[] | undefined) ?? [];
  let node = top;
  const { indices } = path;
  for (let k = 0; k < indices.length - 1; k++) node = (node[indices[k]] ??= []) as unknown[];
  node[indices[indices.length - 1]] = path.parse(value);
  return top;
}

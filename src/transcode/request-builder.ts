import type { Binding } from "../binding.js";
import { GatewayError, badRequest } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { isJsonContentType } from "./content-type.js";
import { leafParent, resolveFieldPath, type ResolvedFieldPath } from "./field-path.js";
import type { CodecRegistry } from "./json/codec-registry.js";
import { SKIP } from "./json/enum-json.js";
import { JsonFieldError, toReadError } from "./json/json-field-error.js";
import { parseJsonText } from "./json/parse-json.js";
import type { FieldPlan, MessagePlan } from "./json/plan-types.js";
import { emptyBytes } from "./json/scalar-json.js";

/** One HTTP request as the request builder needs it. */
export interface RequestInput {
  /** From the router, already percent-decoded; field paths are proto field names. */
  variables: ReadonlyArray<{ fieldPath: readonly string[]; value: string }>;
  /** From parseQueryString. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Raw body bytes, undefined if none. */
  body: Buffer | undefined;
  contentType: string | undefined;
}

export interface RequestBuilderOptions {
  /** Skip query parameters that name no field instead of answering 400. */
  ignoreUnknownQueryParameters: boolean;
}

const HTTP_BODY = "google.api.HttpBody";
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Compiles, for one binding, the function that turns an HTTP request into the complete ts-proto
 * request message (gRPC transcoding, google/api/http.proto):
 *
 * 1. the body, per `body`: `*` is the whole message, `field` that one field, both as proto3 JSON
 *    (or raw bytes into a `google.api.HttpBody`); an empty body is an empty message;
 * 2. path variables, parsed from their string form per the field's type. They are applied after
 *    the body, so when the body also sets a path-bound field **the path wins** (like
 *    grpc-gateway), and the body cannot redirect a request to another resource;
 * 3. query parameters, for fields bound neither by the path nor by the body: `a.b=1`,
 *    repeated `tag=x&tag=y`, maps `labels[k]=v`, names as proto or JSON names. A parameter for
 *    a bound field, a second value for a singular field, or a message-typed leaf is a 400.
 *
 * Resolution of paths and the body field happens here, once; configuration errors (a template
 * naming a field that does not exist) throw at start-up.
 */
export function createRequestBuilder<Req>(
  registry: CodecRegistry,
  binding: Binding<Req, unknown>,
  options: RequestBuilderOptions,
): (input: RequestInput) => Req {
  const root = registry.plan(binding.requestType);
  const where = `${binding.httpMethod} ${binding.pattern} (${binding.source})`;

  const pathSetters = new Map<string, (message: Record<string, unknown>, value: string) => void>();
  const pathBound: Array<readonly string[]> = [];
  for (const variable of binding.template.variables) {
    const resolved = resolveFieldPath(root, variable.fieldPath, false);
    if (typeof resolved === "string") throw new Error(`${where}: path variable {${variable.fieldPath.join(".")}}: ${resolved}`);
    pathSetters.set(variable.fieldPath.join("."), compilePathSetter(resolved, variable.fieldPath.join("."), where));
    pathBound.push(variable.fieldPath);
  }

  const readBody = compileBody(root, binding, where);
  const bodyBound = binding.body.kind === "field" ? binding.body.fieldPath : undefined;
  const applyQuery = compileQuery(root, binding.body.kind === "all", pathBound, bodyBound, options.ignoreUnknownQueryParameters);

  return (input) => {
    const message = readBody(input.body, input.contentType);
    for (const variable of input.variables) {
      const set = pathSetters.get(variable.fieldPath.join("."));
      if (set === undefined) throw new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", `the router bound {${variable.fieldPath.join(".")}}, which ${where} does not have`);
      set(message, variable.value);
    }
    if (input.query.length > 0) applyQuery(message, input.query);
    return message as Req;
  };
}

function compilePathSetter(path: ResolvedFieldPath, name: string, where: string): (message: Record<string, unknown>, value: string) => void {
  const { leaf } = path;
  const parse = leaf.element.readString;
  if (leaf.cardinality !== "singular" || parse === undefined) {
    throw new Error(`${where}: path variable {${name}} must be a singular field with a string form, not ${describeField(leaf)}`);
  }
  return (message, value) => {
    let parsed: unknown;
    try {
      parsed = parse(value);
    } catch (error) {
      if (!(error instanceof JsonFieldError)) throw error;
      throw badRequest("PG_ERR_BAD_PATH", `invalid value for path parameter "${name}": ${error.detail}`, error);
    }
    leafParent(message, path)[leaf.prop] = parsed;
  };
}

function compileBody(root: MessagePlan, binding: Binding<unknown, unknown>, where: string): (body: Buffer | undefined, contentType: string | undefined) => Record<string, unknown> {
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
    const json = readJsonBody(bytes, contentType);
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

/** The body's JSON value, or undefined for an empty body. */
function readJsonBody(bytes: Buffer | undefined, contentType: string | undefined): unknown {
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
  return parseJsonText(text);
}

function httpBody(plan: MessagePlan, bytes: Buffer | undefined, contentType: string | undefined): Record<string, unknown> {
  const message = plan.create();
  message.contentType = contentType ?? "";
  message.data = bytes ?? emptyBytes();
  return message;
}

function describeField(field: FieldPlan): string {
  if (field.cardinality !== "singular") return `a ${field.cardinality === "list" ? "repeated" : "map"} field`;
  return field.element.message ? `a ${field.element.message.typeName} field` : "this field";
}

/** Whether one field path is a prefix of the other (they touch the same data). */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compileQuery(
  root: MessagePlan,
  bodyIsAll: boolean,
  pathBound: ReadonlyArray<readonly string[]>,
  bodyBound: readonly string[] | undefined,
  ignoreUnknown: boolean,
): (message: Record<string, unknown>, query: ReadonlyArray<readonly [string, string]>) => void {
  const bad = (message: string): GatewayError => badRequest("PG_ERR_BAD_QUERY", message);

  return (message, query) => {
    let assigned: Set<string> | undefined;
    for (const [name, raw] of query) {
      const shown = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
      if (bodyIsAll) {
        if (ignoreUnknown) continue;
        throw bad(`unknown query parameter ${shown}: the request body carries the whole message, so no query parameters are accepted`);
      }
      // `labels[key]` addresses one map entry; the key may contain dots.
      let fieldName = name;
      let mapKey: string | undefined;
      const bracket = name.indexOf("[");
      if (bracket > 0 && name.endsWith("]")) {
        fieldName = name.slice(0, bracket);
        mapKey = name.slice(bracket + 1, -1);
      }
      const resolved = fieldName === "" ? "empty name" : resolveFieldPath(root, fieldName.split("."), true);
      if (typeof resolved === "string") {
        if (ignoreUnknown) continue;
        throw bad(`unknown query parameter ${shown}: ${resolved}`);
      }
      const protoPath = resolved.fields.map((f) => f.protoName);
      for (const bound of pathBound) {
        if (overlaps(bound, protoPath)) throw bad(`query parameter ${shown} sets a field bound by the URL path ("${bound.join(".")}")`);
      }
      if (bodyBound !== undefined && overlaps(bodyBound, protoPath)) {
        throw bad(`query parameter ${shown} sets a field that the request body carries ("${bodyBound.join(".")}")`);
      }

      const { leaf } = resolved;
      const parse = leaf.element.readString;
      if (parse === undefined) {
        throw bad(`query parameter ${shown} names ${describeField(leaf)}, which cannot be set from a query parameter`);
      }
      if ((leaf.cardinality === "map") !== (mapKey !== undefined)) {
        throw bad(leaf.cardinality === "map" ? `query parameter ${shown} names a map field: use ${JSON.stringify(`${fieldName}[key]`)}` : `query parameter ${shown}: ${JSON.stringify(fieldName)} is not a map field`);
      }

      const parent = leafParent(message, resolved);
      checkOneofs(message, resolved, shown);
      const slot = `${protoPath.join(".")}${mapKey === undefined ? "" : `[${mapKey}]`}`;
      if (leaf.cardinality !== "list") {
        assigned ??= new Set();
        if (assigned.has(slot)) throw bad(`query parameter ${shown} is given more than once, but the field is not repeated`);
        assigned.add(slot);
      }
      try {
        const value = parse(raw);
        if (leaf.cardinality === "list") (parent[leaf.prop] as unknown[]).push(value);
        else if (leaf.cardinality === "map") (parent[leaf.prop] as Map<unknown, unknown>).set(leaf.mapKey!.readString(mapKey!), value);
        else parent[leaf.prop] = value;
      } catch (error) {
        if (!(error instanceof JsonFieldError)) throw error;
        throw badRequest("PG_ERR_BAD_QUERY", `invalid value for query parameter ${shown}: ${error.detail}`, error);
      }
    }
  };
}

/** Setting a oneof member (or a field under one) while another member is set is a 400. */
function checkOneofs(message: Record<string, unknown>, path: ResolvedFieldPath, shown: string): void {
  let current: Record<string, unknown> = message;
  for (const field of path.fields) {
    if (field.oneof !== undefined) {
      for (const other of field.desc.parent.fields) {
        if (other.oneof?.name !== field.oneof || other.jsonName === field.prop) continue;
        if (current[other.jsonName] !== undefined) {
          throw badRequest("PG_ERR_BAD_QUERY", `query parameter ${shown} sets oneof "${field.oneof}", which "${other.name}" already sets`);
        }
      }
    }
    const child = current[field.prop];
    if (field === path.leaf || typeof child !== "object" || child === null) break;
    current = child as Record<string, unknown>;
  }
}

import type { Binding } from "../binding.js";
import { GatewayError, badRequest } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { leafParent, resolveFieldPath, type ResolvedFieldPath } from "./field-path.js";
import type { CodecRegistry } from "./json/codec-registry.js";
import { JsonFieldError } from "./json/json-field-error.js";
import { describeField, compileQuery } from "./query-params.js";
import { compileBody } from "./request-body.js";

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
  /**
   * The body is one message of a client stream (a JSON value, or a WebSocket frame): under a rule
   * without `body`, it is the whole request message (there is nowhere else for a stream's
   * messages to come from); path variables and query parameters still set their fields in it.
   */
  streamedMessages?: boolean;
}

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

  const bodySelector = options.streamedMessages && binding.body.kind === "none" ? ({ kind: "all" } as const) : binding.body;
  const readBody = compileBody(root, { ...binding, body: bodySelector }, where);
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

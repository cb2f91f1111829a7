import type { AnyBinding } from "../binding.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { resolveFieldPath } from "../transcode/field-path.js";
import { compileSelection, parseFieldsParameter, type FieldSelection, type SelectionProblem } from "../transcode/field-selection.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import type { MessagePlan } from "../transcode/json/plan-types.js";
import { repliesAreRaw } from "../transcode/response-shaper.js";

/** The query parameter of partial responses (`?fields=userId,displayName,orders.total`). */
export const FIELDS_PARAMETER = "fields";

type Query = ReadonlyArray<readonly [string, string]>;

/** A unary route's partial responses: the `fields` parameter taken off the query and compiled. */
export interface PartialResponse {
  /**
   * The query without its `fields` parameters, and their selection (undefined when the request
   * has none). Throws a 400 INVALID_ARGUMENT (with a google.rpc.BadRequest detail) naming each
   * path the response message does not have, before any upstream call.
   */
  take(query: Query): { readonly query: Query; readonly selection: FieldSelection | undefined };
}

const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";
/** Distinct `fields` values whose compiled selection a route keeps (clients repeat theirs). */
const CACHED_SELECTIONS = 64;

/**
 * The partial responses of a unary binding, or undefined when `fields` is not the gateway's:
 * the request message has a field of that name (the parameter then binds to it, as any query
 * parameter does) or the binding is streaming. A response with no fields to select (HttpBody, a
 * scalar `response_body`) refuses the parameter with a 400 saying so.
 */
export function createPartialResponse(codecs: CodecRegistry, binding: AnyBinding): PartialResponse | undefined {
  if (binding.kind !== "unary" || codecs.plan(binding.requestType).field(FIELDS_PARAMETER) !== undefined) return undefined;
  const root = repliesAreRaw(codecs, binding) ? `the response of this route is raw bytes (google.api.HttpBody), not JSON: it has no fields to select` : selectableRoot(codecs.plan(binding.responseType), binding.responseBody);
  const cache = new Map<string, FieldSelection>();
  const compile = (values: readonly string[]): FieldSelection => {
    const key = values.join("&");
    const known = cache.get(key);
    if (known !== undefined) return known;
    if (typeof root === "string") throw fieldsError([{ path: values.join(","), message: root }]);
    const entries = parseFieldsParameter(values);
    if (entries.length === 0) throw fieldsError([{ path: "", message: "the fields parameter names no field" }]);
    const compiled = compileSelection(root, entries);
    if (Array.isArray(compiled)) throw fieldsError(compiled);
    if (cache.size === CACHED_SELECTIONS) cache.clear();
    cache.set(key, compiled);
    return compiled;
  };
  return {
    take(query) {
      let values: string[] | undefined;
      for (const [key] of query) if (key === FIELDS_PARAMETER) values = [];
      if (values === undefined) return { query, selection: undefined };
      const rest: Array<readonly [string, string]> = [];
      for (const pair of query) {
        if (pair[0] === FIELDS_PARAMETER) values.push(pair[1]);
        else rest.push(pair);
      }
      return { query: rest, selection: compile(values) };
    },
  };
}

/** The message whose JSON the response body is: the response, or its `response_body` field's message. */
function selectableRoot(response: MessagePlan, responseBody: readonly string[]): MessagePlan | string {
  const usable = (plan: MessagePlan | undefined): boolean => plan !== undefined && !plan.wellKnown && plan.jsonIsObject && plan.fields.length > 0;
  if (responseBody.length === 0) return usable(response) ? response : `the response of this route (${response.typeName}) has no fields to select`;
  const resolved = resolveFieldPath(response, responseBody, false);
  if (typeof resolved === "string") return resolved;
  const { leaf } = resolved;
  const message = leaf.cardinality === "map" ? undefined : leaf.element.message;
  return message !== undefined && usable(message) ? message : `the response of this route (${response.typeName}.${responseBody.join(".")}) has no fields to select`;
}

/** 400 INVALID_ARGUMENT naming every bad path, each also a google.rpc.BadRequest field violation. */
export function fieldsError(problems: readonly SelectionProblem[]): GatewayError {
  const described = problems.map((problem) => `${JSON.stringify(problem.path)}: ${problem.message}`);
  return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_QUERY", `query parameter fields: ${described.join("; ")}`, {
    details: [{ "@type": BAD_REQUEST_TYPE, fieldViolations: problems.map((problem) => ({ field: FIELDS_PARAMETER, description: `${JSON.stringify(problem.path)}: ${problem.message}` })) }],
  });
}

/** The JSON body pruned by `selection` (the shaper's JSON text in, JSON text out). */
export function selectBody(body: string | Buffer, selection: FieldSelection): string {
  return JSON.stringify(selection.apply(JSON.parse(typeof body === "string" ? body : body.toString("utf8"))));
}

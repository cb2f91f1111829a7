import type { JsonValue } from "@bufbuild/protobuf";
import { FIELDS_PARAMETER, fieldsError } from "../gateway/partial-response.js";
import { parseFieldsParameter, type SelectionProblem } from "../transcode/field-selection.js";
import type { AnswerShape, ShapeField } from "./answer-shape.js";

type Query = ReadonlyArray<readonly [string, string]>;

/** The answer's key for failed `partial` calls: never pruned. */
const ERRORS_KEY = "errors";
/** Most path segments accepted (as field-selection.ts). */
const MAX_SEGMENTS = 32;
/** Distinct `fields` values whose compiled pruning an aggregate keeps (clients repeat theirs). */
const CACHED = 64;

/** `?fields=` of one aggregate request, compiled against the answer's shape. */
export interface AnswerPruning {
  /** The calls whose keys are kept (some or all of them). */
  readonly keptCalls: ReadonlySet<string>;
  /** The answer with only the selected paths (and `errors`, always). */
  apply(answer: Record<string, JsonValue>): Record<string, JsonValue>;
}

/** An aggregate's `fields` parameter: taken off the query and compiled. */
export interface AnswerFields {
  /**
   * The query without its `fields` parameters, and their pruning (undefined without any). Throws
   * a 400 INVALID_ARGUMENT (PG_ERR_BAD_QUERY, a google.rpc.BadRequest detail) naming every path
   * the answer's shape does not have, before any call is made.
   */
  take(query: Query): { readonly query: Query; readonly pruning: AnswerPruning | undefined };
}

/** What is kept of one object: key -> what is kept inside it (undefined: all of it). */
type PruneNode = Map<string, PruneEntry>;
interface PruneEntry {
  sub: PruneNode | undefined;
  /** The field is a map: `sub` applies to each of its values. */
  readonly map: boolean;
}

export function createAnswerFields(shape: AnswerShape): AnswerFields {
  const cache = new Map<string, AnswerPruning>();
  const compile = (values: readonly string[]): AnswerPruning => {
    const key = values.join("&");
    const known = cache.get(key);
    if (known !== undefined) return known;
    const entries = parseFieldsParameter(values);
    if (entries.length === 0) throw fieldsError([{ path: "", message: "the fields parameter names no field" }]);
    const compiled = compileAnswerFields(shape, entries.map((entry) => entry.path));
    if (Array.isArray(compiled)) throw fieldsError(compiled);
    if (cache.size === CACHED) cache.clear();
    cache.set(key, compiled);
    return compiled;
  };
  return {
    take(query) {
      if (!query.some(([name]) => name === FIELDS_PARAMETER)) return { query, pruning: undefined };
      const values: string[] = [];
      const rest: Array<readonly [string, string]> = [];
      for (const pair of query) {
        if (pair[0] === FIELDS_PARAMETER) values.push(pair[1]);
        else rest.push(pair);
      }
      return { query: rest, pruning: compile(values) };
    },
  };
}

/**
 * Compiles paths over the answer's keys: a call's name, then its output keys (a renamed field by
 * its new name; other fields by JSON or proto name). Every bad path is listed.
 */
export function compileAnswerFields(shape: AnswerShape, paths: readonly string[]): AnswerPruning | SelectionProblem[] {
  const problems: SelectionProblem[] = [];
  const tree: PruneNode = new Map();
  for (const path of paths) {
    const problem = addPath(tree, shape, path);
    if (problem !== undefined) problems.push({ path, message: problem });
  }
  if (problems.length > 0) return problems;
  // `errors` is never in the tree (addPath accepts it and adds nothing): only call names are.
  const keptCalls = new Set(tree.keys());
  return {
    keptCalls,
    apply(answer) {
      const out: Record<string, JsonValue> = {};
      for (const key of Object.keys(answer)) {
        if (key === ERRORS_KEY) out[key] = answer[key];
        const entry = tree.get(key);
        if (entry !== undefined) out[key] = pruneEntry(entry, answer[key]);
      }
      return out;
    },
  };
}

function addPath(tree: PruneNode, shape: AnswerShape, path: string): string | undefined {
  const segments = path.split(".");
  if (path === "" || segments.some((segment) => segment === "")) return "a path needs names separated by single dots";
  if (segments.length > MAX_SEGMENTS) return `a path has at most ${MAX_SEGMENTS} segments`;
  const [callKey, ...rest] = segments;
  if (callKey === ERRORS_KEY) return rest.length === 0 ? undefined : `"${ERRORS_KEY}" (the failed calls' statuses) is kept whole, always`;
  const call = shape.calls.find((candidate) => candidate.key === callKey);
  if (call === undefined) return `the answer has no key ${JSON.stringify(callKey)} (keys: ${[...shape.calls.map((c) => c.key), ERRORS_KEY].join(", ")})`;
  // Resolve first, so a bad path leaves the tree as it was.
  const resolved: ShapeField[] = [];
  let fields: readonly ShapeField[] | undefined = call.fields;
  for (let i = 0; i < rest.length; i++) {
    if (fields === undefined) return `${JSON.stringify(segments.slice(0, i + 1).join("."))} has no subfields (only message fields, repeated or not, and maps of messages have)`;
    const field: ShapeField | undefined = fields.find((candidate) => candidate.key === rest[i] || candidate.alias === rest[i]);
    if (field === undefined) {
      const where = i === 0 ? `call "${callKey}"` : JSON.stringify(segments.slice(0, i + 1).join("."));
      return `${where} has no key ${JSON.stringify(rest[i])} in the answer (keys: ${fields.map((f) => f.key).join(", ") || "none"})`;
    }
    resolved.push(field);
    fields = field.children();
  }
  let entry: PruneEntry | undefined = tree.get(callKey);
  if (entry === undefined) {
    entry = { sub: rest.length === 0 ? undefined : new Map(), map: false };
    tree.set(callKey, entry);
  } else if (rest.length === 0) entry.sub = undefined;
  for (let i = 0; i < resolved.length; i++) {
    const node: PruneNode | undefined = entry.sub;
    if (node === undefined) return undefined; // all of it is kept already
    const field = resolved[i];
    const last = i === resolved.length - 1;
    let next: PruneEntry | undefined = node.get(field.key);
    if (next === undefined) {
      next = { sub: last ? undefined : new Map(), map: field.field.cardinality === "map" };
      node.set(field.key, next);
    } else if (last) next.sub = undefined; // the whole field wins over some of its subfields
    entry = next;
  }
  return undefined;
}

function pruneEntry(entry: PruneEntry, json: JsonValue): JsonValue {
  const { sub } = entry;
  if (sub === undefined) return json;
  if (!entry.map) return pruneNode(sub, json);
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(json)) out[key] = pruneNode(sub, json[key]);
  return out;
}

function pruneNode(node: PruneNode, json: JsonValue): JsonValue {
  if (Array.isArray(json)) return json.map((element) => pruneNode(node, element));
  if (json === null || typeof json !== "object") return json;
  const out: Record<string, JsonValue> = {};
  // The answer's key order, not the paths'.
  for (const key of Object.keys(json)) {
    const entry = node.get(key);
    if (entry !== undefined) out[key] = pruneEntry(entry, json[key]);
  }
  return out;
}

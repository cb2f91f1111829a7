import { badRequest } from "../errors/gateway-error.js";
import { routeShape } from "./format-template.js";
import { decodeComponent, decodeKeepingSlashes } from "./percent-decode.js";
import { createTrieNode, findRoute, insertRoute, type TrieNode } from "./route-trie.js";
import type { PathTemplate } from "./template.js";

/** One route to register: an upper-case HTTP method, a compiled template and what to return. */
export interface RouteDefinition<T> {
  readonly httpMethod: string;
  readonly template: PathTemplate;
  readonly value: T;
}

/** A path variable's value, decoded as http.proto prescribes for its kind. */
export interface RouteVariableValue {
  readonly fieldPath: readonly string[];
  readonly value: string;
}

/** The outcome of `Router.match`. */
export type RouteMatch<T> =
  | { readonly kind: "found"; readonly value: T; readonly variables: RouteVariableValue[] }
  /** The path matches routes of other methods only; `allow` lists them, sorted. */
  | { readonly kind: "methodNotAllowed"; readonly allow: string[] }
  | { readonly kind: "notFound" };

/** Matches request paths against the registered templates. */
export interface Router<T> {
  /**
   * `rawPath` is the path of the request target exactly as received (still percent-encoded,
   * without the query string). Throws `GatewayError` INVALID_ARGUMENT `PG_ERR_BAD_PATH` for
   * invalid percent-encoding and for paths over the size limits.
   */
  match(method: string, rawPath: string): RouteMatch<T>;
}

export interface RouterOptions {
  /** Longest accepted `rawPath`, in UTF-16 code units (default 8192). */
  readonly maxPathLength?: number;
  /** Most segments accepted in a path (default 256). */
  readonly maxSegments?: number;
}

interface CompiledVariable {
  readonly fieldPath: readonly string[];
  /** Template indexes [start, end); see `pathIndex` for the path segments they cover. */
  readonly start: number;
  readonly end: number;
  /** Covers several segments or `**`: decoded except `%2F`. Otherwise fully decoded. */
  readonly multi: boolean;
}

interface CompiledRoute<T> {
  readonly value: T;
  /** The route as registered, for conflict reports. */
  readonly definition: RouteDefinition<T>;
  readonly variables: readonly CompiledVariable[];
  /** Template index of the `**`, or -1. */
  readonly deep: number;
  /** Number of template segments. */
  readonly count: number;
}

interface MethodTable<T> {
  verbless: TrieNode<CompiledRoute<T>> | undefined;
  /** One trie per custom verb (decoded). */
  readonly verbs: Map<string, TrieNode<CompiledRoute<T>>>;
}

interface SplitPath {
  /** Segments as received (percent-encoded). */
  readonly raw: string[];
  /** Fully decoded segments; the same array as `raw` when the path has no `%`. */
  readonly decoded: string[];
}

interface TableMatch<T> extends SplitPath {
  readonly route: CompiledRoute<T>;
}

const NOT_FOUND: RouteMatch<never> = { kind: "notFound" };
const SLASH = 0x2f;

/**
 * Builds a router over `routes` (all precomputation happens here). Matching rules:
 *
 * - The path is split on "/" and every segment is percent-decoded (invalid escapes or invalid
 *   UTF-8 -> 400 `PG_ERR_BAD_PATH`, even if no route would match). A literal matches the decoded
 *   segment, `*` exactly one segment, `**` zero or more segments.
 * - A single trailing slash is ignored (`/v1/users/` is `/v1/users`); `/` is the root path (zero
 *   segments). A path with any other empty segment (`/a//b`, `/a//`) matches nothing, not even
 *   `**`. A path not starting with "/" matches nothing.
 * - Paths over `maxPathLength` characters or `maxSegments` segments -> 400 `PG_ERR_BAD_PATH`.
 * - Custom verbs: when the last segment contains ":", it is split at its LAST raw ":" and the
 *   routes with that (decoded) verb are tried first; if none matches, the whole path is tried
 *   against the routes without a verb, so `/v1/users/a:b` can bind `a:b` to `{id}`. A `%3A`
 *   never separates a verb. So a verb route beats a verbless `**` route for the same method.
 *   A last segment that is only ":verb" (`/v1/users/:cancel`) is the verb of the segment before
 *   it (like a trailing slash), which also lets `/v1/{path=**}:cancel` bind "" via `/v1/:cancel`.
 * - Precedence among matching templates: compare segment by segment, left to right, literal
 *   beats `*` beats `**`; at the end of the path a template ending there beats one whose `**`
 *   would match zero segments (`/v1/files` beats `/v1/files/{path=**}` for `/v1/files`). A `**`
 *   may be followed by more segments (once per template): they match the end of the path, and
 *   among templates that agree up to the `**`, the longer tail wins.
 * - Methods match exactly (case-sensitive, no HEAD -> GET). Routes of the request's method are
 *   searched first; only when none matches, the path is checked against the other methods to
 *   tell 405 (`allow`, sorted) from 404.
 * - Variables over exactly one non-`**` segment get the fully decoded value; variables over
 *   several segments or `**` are decoded except `%2F`/`%2f`, kept as written, and their
 *   segments joined with "/". A `**` matching zero segments gives "".
 *
 * Throws an Error when two routes of the same method have the same shape (see `routeShape`).
 */
export function createRouter<T>(routes: ReadonlyArray<RouteDefinition<T>>, options: RouterOptions = {}): Router<T> {
  const maxPathLength = options.maxPathLength ?? 8192;
  const maxSegments = options.maxSegments ?? 256;
  const tables = buildTables(routes, (first, second) => {
    throw new Error(`two routes for ${second.httpMethod} ${routeShape(second.template)}: the second can never match`);
  });
  const byMethod = [...tables.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  function split(rawPath: string): SplitPath | undefined {
    if (rawPath.length > maxPathLength) {
      throw badRequest("PG_ERR_BAD_PATH", `the request path is longer than ${maxPathLength} characters`);
    }
    if (rawPath.charCodeAt(0) !== SLASH) return undefined;
    let end = rawPath.length;
    if (end > 2 && rawPath.charCodeAt(end - 1) === SLASH && rawPath.charCodeAt(end - 2) !== SLASH) end--;
    if (end === 1) return { raw: [], decoded: [] };
    const raw = rawPath.slice(1, end).split("/");
    if (raw.length > maxSegments) {
      throw badRequest("PG_ERR_BAD_PATH", `the request path has more than ${maxSegments} segments`);
    }
    let empty = false;
    for (const segment of raw) if (segment.length === 0) empty = true;
    if (rawPath.indexOf("%") === -1) return empty ? undefined : { raw, decoded: raw };
    const decoded = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const value = decodeComponent(raw[i]);
      if (value === undefined) {
        throw badRequest("PG_ERR_BAD_PATH", `path segment ${i + 1} ${quote(raw[i])} has invalid percent-encoding (or is not UTF-8 once decoded)`);
      }
      decoded[i] = value;
    }
    return empty ? undefined : { raw, decoded };
  }

  return {
    match(method, rawPath) {
      const path = split(rawPath);
      if (path === undefined) return NOT_FOUND;
      const own = tables.get(method);
      const found = own === undefined ? undefined : matchTable(own, path);
      if (found !== undefined) return { kind: "found", value: found.route.value, variables: bindVariables(found) };
      const allow: string[] = [];
      for (const [other, table] of byMethod) {
        if (other !== method && matchTable(table, path) !== undefined) allow.push(other);
      }
      return allow.length === 0 ? NOT_FOUND : { kind: "methodNotAllowed", allow };
    },
  };
}

/** Two routes of the same method and shape: the router cannot tell them apart, so `second` can never match. */
export interface RouteConflict<T> {
  readonly first: RouteDefinition<T>;
  readonly second: RouteDefinition<T>;
}

/**
 * Every pair of routes the router would reject (see `createRouter`), found with the router's own
 * tables, so codegen reports exactly the conflicts `serve` would refuse. Each later route is
 * paired with the first one of its shape.
 */
export function findRouteConflicts<T>(routes: ReadonlyArray<RouteDefinition<T>>): Array<RouteConflict<T>> {
  const conflicts: Array<RouteConflict<T>> = [];
  buildTables(routes, (first, second) => conflicts.push({ first, second }));
  return conflicts;
}

/** One trie per method and custom verb; `onConflict` gets each route whose shape is taken already. */
function buildTables<T>(routes: ReadonlyArray<RouteDefinition<T>>, onConflict: (first: RouteDefinition<T>, second: RouteDefinition<T>) => void): Map<string, MethodTable<T>> {
  const tables = new Map<string, MethodTable<T>>();
  for (const route of routes) {
    const { httpMethod, template } = route;
    let table = tables.get(httpMethod);
    if (table === undefined) {
      table = { verbless: undefined, verbs: new Map() };
      tables.set(httpMethod, table);
    }
    let root: TrieNode<CompiledRoute<T>>;
    if (template.verb === null) root = table.verbless ??= createTrieNode();
    else {
      root = table.verbs.get(template.verb) ?? createTrieNode();
      table.verbs.set(template.verb, root);
    }
    const taken = insertRoute(root, template.segments, compileRoute(route));
    if (taken !== undefined) onConflict(taken.definition, route);
  }
  return tables;
}

function compileRoute<T>(definition: RouteDefinition<T>): CompiledRoute<T> {
  const { template, value } = definition;
  const count = template.segments.length;
  const deep = template.segments.findIndex((segment) => segment.kind === "deepWildcard");
  const variables = template.variables.map((v): CompiledVariable => {
    const coversDeep = deep >= v.start && deep < v.end;
    return { fieldPath: v.fieldPath, start: v.start, end: v.end, multi: coversDeep || v.end - v.start > 1 };
  });
  return { value, definition, variables, deep, count };
}

/**
 * The path segment index of template index `t` (or, for an exclusive end, of the boundary
 * before it) in a path of `length` segments: up to the `**` they agree; after it they count from
 * the path's end, because the `**` takes whatever its tail leaves.
 */
function pathIndex(route: CompiledRoute<unknown>, t: number, length: number): number {
  return route.deep < 0 || t <= route.deep ? t : length - route.count + t;
}

/** Verb routes first (split at the last raw ":"), then the whole path against verbless routes. */
function matchTable<T>(table: MethodTable<T>, path: SplitPath): TableMatch<T> | undefined {
  const { raw, decoded } = path;
  const last = raw.length - 1;
  if (table.verbs.size > 0 && last >= 0) {
    const colon = raw[last].lastIndexOf(":");
    if (colon !== -1) {
      // The whole segment decoded, so both parts do too: ":" cannot split an escape or a UTF-8 sequence.
      const root = table.verbs.get(decodeComponent(raw[last].slice(colon + 1)) as string);
      if (root !== undefined) {
        // `/a/:verb` (nothing before ":") is `/a:verb`, as `/a/` is `/a`.
        const verbRaw = colon === 0 ? raw.slice(0, last) : raw.slice();
        let verbDecoded = verbRaw;
        if (colon > 0) verbRaw[last] = raw[last].slice(0, colon);
        if (decoded !== raw) {
          verbDecoded = decoded.slice(0, verbRaw.length);
          if (colon > 0) verbDecoded[last] = decodeComponent(verbRaw[last]) as string;
        }
        const route = findRoute(root, verbDecoded);
        if (route !== undefined) return { route, raw: verbRaw, decoded: verbDecoded };
      }
    }
  }
  if (table.verbless === undefined) return undefined;
  const route = findRoute(table.verbless, decoded);
  return route === undefined ? undefined : { route, raw, decoded };
}

function bindVariables<T>(match: TableMatch<T>): RouteVariableValue[] {
  const { route, raw, decoded } = match;
  const values: RouteVariableValue[] = new Array(route.variables.length);
  for (let v = 0; v < route.variables.length; v++) {
    const variable = route.variables[v];
    const start = pathIndex(route, variable.start, raw.length);
    let value: string;
    if (!variable.multi) value = decoded[start];
    else {
      const end = pathIndex(route, variable.end, raw.length);
      value = "";
      for (let i = start; i < end; i++) {
        const piece = decoded === raw ? raw[i] : decodeKeepingSlashes(raw[i]);
        value = i === start ? piece : `${value}/${piece}`;
      }
    }
    values[v] = { fieldPath: variable.fieldPath, value };
  }
  return values;
}

/** A raw segment for an error message: bounded in length, quoted. */
function quote(segment: string): string {
  return JSON.stringify(segment.length > 64 ? `${segment.slice(0, 64)}...` : segment);
}

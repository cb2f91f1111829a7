import { GatewayError, badRequest } from "../errors/gateway-error.js";
import { leafParent, resolveFieldPath, type ResolvedFieldPath } from "./field-path.js";
import { JsonFieldError } from "./json/json-field-error.js";
import { MAX_DEPTH } from "./json/json-policy.js";
import type { FieldPlan, MessagePlan } from "./json/plan-types.js";

/**
 * Compiles how query parameters set fields not bound by the path or the body: `a.b=1`,
 * repeated `tag=x&tag=y`, maps `labels[k]=v`, names as proto or JSON names, values in their
 * string form. A parameter naming no field is a 400 unless ignored; one for a bound field, a
 * second value for a singular field, a second oneof member, or a message-typed leaf is a 400.
 */
export function compileQuery(
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
      // `a.b.c=` nests messages like a JSON body does (a recursive message allows any length), and
      // the same limit applies: the leaf's parent is at level fields.length, a map entry and a
      // message value (Timestamp, wrappers) one level each below it.
      if (resolved.fields.length + (leaf.cardinality === "map" ? 1 : 0) + (leaf.element.message ? 1 : 0) > MAX_DEPTH) {
        throw badRequest("PG_ERR_TOO_DEEP", `query parameter ${shown} is nested too deeply: more than ${MAX_DEPTH} protobuf message levels`);
      }
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

/** "a repeated field", "a kitchen.v1.Inner field", ... for error messages. */
export function describeField(field: FieldPlan): string {
  if (field.cardinality !== "singular") return `a ${field.cardinality === "list" ? "repeated" : "map"} field`;
  return field.element.message ? `a ${field.element.message.typeName} field` : "this field";
}

/** Whether one field path is a prefix of the other (they touch the same data). */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

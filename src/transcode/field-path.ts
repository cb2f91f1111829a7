import type { FieldPlan, MessagePlan } from "./json/plan-types.js";

/** A field path resolved against message plans: the fields from the root message down. */
export interface ResolvedFieldPath {
  /** Every field on the way, the leaf last; all but the leaf are singular regular-message fields. */
  readonly fields: readonly FieldPlan[];
  readonly leaf: FieldPlan;
}

/**
 * Resolves `["user", "user_id"]` (proto names; JSON names too when `jsonNames`) from `root`.
 * Returns an error detail when a segment names no field or an intermediate field is not a
 * singular, ordinary message (there is nothing to descend into in a list, map or Timestamp).
 */
export function resolveFieldPath(root: MessagePlan, path: readonly string[], jsonNames: boolean): ResolvedFieldPath | string {
  if (path.length === 0) return "the field path is empty";
  const fields: FieldPlan[] = [];
  let plan: MessagePlan = root;
  for (let i = 0; i < path.length; i++) {
    const field = plan.field(path[i]);
    if (field === undefined || (!jsonNames && field.protoName !== path[i])) {
      return `${plan.typeName} has no field ${JSON.stringify(path[i])}`;
    }
    fields.push(field);
    if (i === path.length - 1) break;
    const next = field.element.message;
    if (field.cardinality !== "singular" || next === undefined || next.wellKnown) {
      return `${JSON.stringify(path.slice(0, i + 1).join("."))} is not a singular message field, so it has no subfields`;
    }
    plan = next;
  }
  return { fields, leaf: fields[fields.length - 1] };
}

/**
 * The message that holds the leaf, creating empty intermediate messages on the way (ts-proto
 * objects need every property, so they come from the plan's `create`).
 */
export function leafParent(message: Record<string, unknown>, path: ResolvedFieldPath): Record<string, unknown> {
  let current = message;
  for (let i = 0; i < path.fields.length - 1; i++) {
    const field = path.fields[i];
    let child = current[field.prop] as Record<string, unknown> | undefined;
    if (child === undefined || child === null) {
      child = field.element.message!.create();
      current[field.prop] = child;
    }
    current = child;
  }
  return current;
}

/** The leaf's parent if every intermediate message is set, else undefined (reading, no creation). */
export function existingLeafParent(message: Record<string, unknown>, path: ResolvedFieldPath): Record<string, unknown> | undefined {
  let current: Record<string, unknown> | undefined = message;
  for (let i = 0; i < path.fields.length - 1 && current !== undefined; i++) {
    const child: unknown = current[path.fields[i].prop];
    current = child === undefined || child === null ? undefined : (child as Record<string, unknown>);
  }
  return current;
}

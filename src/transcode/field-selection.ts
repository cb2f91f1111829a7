import type { JsonValue } from "@bufbuild/protobuf";
import type { FieldPlan, MessagePlan } from "./json/plan-types.js";

/**
 * FieldMask-style selection of a message's proto3 JSON: which fields to keep (`a.b` keeps `b`
 * inside `a`), optionally under another key. One module for both the `fields` query parameter
 * (partial responses) and an aggregate call's `select` (aggregate/), compiled once against the
 * message's descriptor, applied to each reply's JSON.
 *
 * Paths:
 * - segments are field names, proto (`display_name`) or JSON (`displayName`); the output keeps
 *   the JSON name (the key the reply's JSON has) unless renamed;
 * - a path through a repeated message field applies to every element (`orders.total` keeps
 *   `total` of each order), through a map of messages to every value (`byId.total`);
 * - a path ending at a message keeps all of it; `a` together with `a.b` keeps all of `a`;
 * - fields with a JSON form of their own (Timestamp, Struct, wrappers, ...) and scalars end a path.
 * Selected fields the reply does not have (proto3 JSON omits defaults) stay absent.
 */
export interface SelectionEntry {
  /** Dotted path, e.g. `orders.total`. */
  readonly path: string;
  /** Writes the path's last field under this key instead of its JSON name. */
  readonly rename?: string;
}

/** A compiled selection: applies to one message's JSON (or an array of them). */
export interface FieldSelection {
  /** The selected part of `json` (a new value; `json` is not changed). */
  apply(json: JsonValue): JsonValue;
  /** What the output holds, in the message's field order: the shape aggregates derive their answer's from (`?fields=`, OpenAPI). */
  readonly outline: readonly SelectionOutline[];
}

/** One field a selection writes: under which key, from which field, and which of its subfields (undefined: all of it). */
export interface SelectionOutline {
  readonly outKey: string;
  readonly field: FieldPlan;
  readonly sub: readonly SelectionOutline[] | undefined;
}

/** What is wrong with one path of a selection. */
export interface SelectionProblem {
  readonly path: string;
  readonly message: string;
}

interface SelectedField {
  /** The key in the output. */
  outKey: string;
  readonly field: FieldPlan;
  /** Set when the path went through this field: only these subfields are kept. Undefined: all of it. */
  sub: SelectionNode | undefined;
  /** The field is a map: `sub` applies to each of its values. */
  readonly map: boolean;
  /** Whether a rename set `outKey` (two different renames of one field are an error). */
  renamed: boolean;
}

/** The selected fields of one message, by the JSON key the reply uses. */
type SelectionNode = Map<string, SelectedField>;

/** Most path segments accepted (deeper paths are refused rather than walked). */
const MAX_SEGMENTS = 32;

/**
 * Compiles `entries` against `root`; every problem (unknown field, a path into a scalar, a
 * rename clash) is listed, each naming its path.
 */
export function compileSelection(root: MessagePlan, entries: readonly SelectionEntry[]): FieldSelection | SelectionProblem[] {
  const problems: SelectionProblem[] = [];
  const tree: SelectionNode = new Map();
  for (const entry of entries) {
    const problem = addPath(tree, root, entry);
    if (problem !== undefined) problems.push({ path: entry.path, message: problem });
  }
  if (problems.length === 0) {
    const clash = findKeyClash(tree, "");
    if (clash !== undefined) problems.push(clash);
  }
  if (problems.length > 0) return problems;
  return { apply: (json) => applyNode(tree, json), outline: outlineOf(tree, root) };
}

/** The tree as the output's outline, in the message's field order (the order replies are written in). */
function outlineOf(node: SelectionNode, plan: MessagePlan): SelectionOutline[] {
  const outline: SelectionOutline[] = [];
  for (const field of plan.fields) {
    const selected = node.get(field.jsonName);
    if (selected === undefined) continue;
    const next = field.element.message;
    outline.push({ outKey: selected.outKey, field, sub: selected.sub === undefined || next === undefined ? undefined : outlineOf(selected.sub, next) });
  }
  return outline;
}

/** Adds one path to the tree; the problem with it, if any. */
function addPath(tree: SelectionNode, root: MessagePlan, entry: SelectionEntry): string | undefined {
  const segments = entry.path.split(".");
  if (entry.path === "" || segments.some((segment) => segment === "")) return "a path needs field names separated by single dots";
  if (segments.length > MAX_SEGMENTS) return `a path has at most ${MAX_SEGMENTS} segments`;
  if (entry.rename !== undefined && !/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(entry.rename)) return `cannot rename to ${JSON.stringify(entry.rename)} (letters, digits, _ $ - only)`;
  // Resolve first, so a bad path leaves the tree as it was.
  const fields: FieldPlan[] = [];
  let plan: MessagePlan | undefined = root;
  for (let i = 0; i < segments.length; i++) {
    if (plan === undefined) {
      return `${JSON.stringify(segments.slice(0, i).join("."))} has no subfields (only message fields, repeated or not, and maps of messages have)`;
    }
    const field: FieldPlan | undefined = plan.field(segments[i]);
    if (field === undefined) return `${plan.typeName} has no field ${JSON.stringify(segments[i])}`;
    fields.push(field);
    const next: MessagePlan | undefined = field.element.message;
    plan = next === undefined || next.wellKnown || !next.jsonIsObject || next.fields.length === 0 ? undefined : next;
  }
  let node = tree;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    const last = i === fields.length - 1;
    let selected = node.get(field.jsonName);
    if (selected === undefined) {
      selected = { outKey: field.jsonName, field, sub: last ? undefined : new Map(), map: field.cardinality === "map", renamed: false };
      node.set(field.jsonName, selected);
    } else if (last) {
      selected.sub = undefined; // the whole field wins over some of its subfields
    }
    if (last) {
      if (entry.rename !== undefined) {
        if (selected.renamed && selected.outKey !== entry.rename) return `${JSON.stringify(field.jsonName)} is renamed twice (${JSON.stringify(selected.outKey)} and ${JSON.stringify(entry.rename)})`;
        selected.outKey = entry.rename;
        selected.renamed = true;
      }
      return undefined;
    }
    if (selected.sub === undefined) return undefined; // all of it is selected already
    node = selected.sub;
  }
  return undefined;
}

/** Two fields written under one key (a rename onto another selected field). */
function findKeyClash(node: SelectionNode, prefix: string): SelectionProblem | undefined {
  const seen = new Map<string, string>();
  for (const [jsonName, selected] of node) {
    const other = seen.get(selected.outKey);
    if (other !== undefined) return { path: `${prefix}${jsonName}`, message: `${JSON.stringify(other)} and ${JSON.stringify(jsonName)} would both be written as ${JSON.stringify(selected.outKey)}` };
    seen.set(selected.outKey, jsonName);
    if (selected.sub !== undefined) {
      const clash = findKeyClash(selected.sub, `${prefix}${jsonName}.`);
      if (clash !== undefined) return clash;
    }
  }
  return undefined;
}

function applyNode(node: SelectionNode, json: JsonValue): JsonValue {
  if (Array.isArray(json)) return json.map((element) => applyNode(node, element));
  if (json === null || typeof json !== "object") return json;
  const out: Record<string, JsonValue> = {};
  // The reply's key order (the message's field order), not the selection's.
  for (const key of Object.keys(json)) {
    const selected = node.get(key);
    if (selected === undefined) continue;
    const value = json[key];
    out[selected.outKey] = selected.sub === undefined ? value : selected.map ? applyToValues(selected.sub, value) : applyNode(selected.sub, value);
  }
  return out;
}

function applyToValues(node: SelectionNode, json: JsonValue): JsonValue {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(json)) out[key] = applyNode(node, json[key]);
  return out;
}

/** `fields=a,b.c` (and repeated `fields=` parameters): the paths, trimmed, empty ones dropped. */
export function parseFieldsParameter(values: readonly string[]): SelectionEntry[] {
  const entries: SelectionEntry[] = [];
  for (const value of values) {
    for (const part of value.split(",")) {
      const path = part.trim();
      if (path !== "") entries.push({ path });
    }
  }
  return entries;
}

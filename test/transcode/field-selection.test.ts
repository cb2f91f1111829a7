import type { JsonValue } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSelection, parseFieldsParameter, type FieldSelection, type SelectionEntry, type SelectionProblem } from "../../src/transcode/field-selection.js";
import type { FieldPlan, MessagePlan } from "../../src/transcode/json/plan-types.js";
import { arbitraryMessage } from "./json/arbitrary-message.js";
import { kitchen } from "./json/kitchen-fixture.js";

type Json = { [key: string]: JsonValue };

const tree = kitchen.plan("kitchen.v1.Tree");
const maps = kitchen.plan("kitchen.v1.Maps");
const kitchenMessage = kitchen.plan("kitchen.v1.Kitchen");

function compiled(plan: MessagePlan, entries: readonly SelectionEntry[]): FieldSelection {
  const result = compileSelection(plan, entries);
  if (Array.isArray(result)) throw new Error(`unexpected problems: ${JSON.stringify(result)}`);
  return result;
}

function problems(plan: MessagePlan, entries: readonly SelectionEntry[]): SelectionProblem[] {
  const result = compileSelection(plan, entries);
  if (!Array.isArray(result)) throw new Error("expected problems");
  return result;
}

/** Every path of at most `depth` segments from `plan` (JSON names), through message fields only. */
function allPaths(plan: MessagePlan, depth: number): string[][] {
  const paths: string[][] = [];
  for (const field of plan.fields) {
    paths.push([field.jsonName]);
    const next = field.element.message;
    if (depth > 1 && next !== undefined && !next.wellKnown && next.fields.length > 0) {
      for (const rest of allPaths(next, depth - 1)) paths.push([field.jsonName, ...rest]);
    }
  }
  return paths;
}

/** The reference: each path picked on its own (lists element-wise), then the picks merged. */
function pick(json: JsonValue, path: readonly string[]): JsonValue {
  if (path.length === 0) return json;
  if (Array.isArray(json)) return json.map((element) => pick(element, path));
  if (json === null || typeof json !== "object") return json;
  const [key, ...rest] = path;
  return key in json ? { [key]: pick(json[key], rest) } : {};
}

function merge(a: JsonValue, b: JsonValue): JsonValue {
  if (Array.isArray(a) && Array.isArray(b)) return a.map((element, i) => merge(element, b[i]));
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Json = { ...a };
    for (const [key, value] of Object.entries(b)) out[key] = key in out ? merge(out[key], value) : value;
    return out;
  }
  return a;
}

/** A path and the whole of its prefix: the prefix's whole value wins over the merge (merge keeps subsets). */
function reference(json: JsonValue, paths: readonly string[][]): JsonValue {
  let out: JsonValue = {};
  // Shorter paths first: a whole field picked before its subfields, so the merge keeps the whole.
  for (const path of [...paths].sort((x, y) => x.length - y.length)) out = merge(out, pick(json, path));
  return out;
}

const treePaths = allPaths(tree, 3);
const protoName = (plan: MessagePlan, path: readonly string[]): string => {
  const names: string[] = [];
  let current: MessagePlan | undefined = plan;
  for (const segment of path) {
    const field: FieldPlan = current!.field(segment)!;
    names.push(field.protoName);
    current = field.element.message;
  }
  return names.join(".");
};

describe("compileSelection (properties against a pick-and-merge reference)", () => {
  it("keeps exactly the selected paths of a Tree, lists element-wise, proto or JSON names alike", () => {
    fc.assert(
      fc.property(
        arbitraryMessage(tree.desc, 3),
        fc.uniqueArray(fc.constantFrom(...treePaths), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (message, paths, useProtoNames) => {
          const json = tree.writeJson(message, 1);
          const entries = paths.map((path) => ({ path: useProtoNames ? protoName(tree, path) : path.join(".") }));
          expect(compiled(tree, entries).apply(json)).toEqual(reference(json, paths));
        },
      ),
    );
  });

  it("applies a path through a map of messages to every value", () => {
    const inner = allPaths(kitchen.plan("kitchen.v1.Inner"), 1).map((path) => path[0]);
    fc.assert(
      fc.property(arbitraryMessage(maps.desc, 2), fc.uniqueArray(fc.constantFrom(...inner), { minLength: 1, maxLength: 3 }), (message, keep) => {
        const json = maps.writeJson(message, 1) as Json;
        const selected = compiled(maps, keep.map((name) => ({ path: `stringMessage.${name}` }))).apply(json);
        const values = json.stringMessage as Json | undefined;
        const expected: Json = values === undefined ? {} : { stringMessage: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, reference(value, keep.map((name) => [name]))])) };
        expect(selected).toEqual(expected);
      }),
    );
  });

  it("a rename moves the field's value to the new key and changes nothing else", () => {
    fc.assert(
      fc.property(arbitraryMessage(tree.desc, 2), fc.constantFrom(...treePaths.filter((path) => path.length <= 2)), (message, path) => {
        const json = tree.writeJson(message, 1);
        const plain = compiled(tree, [{ path: path.join(".") }]).apply(json);
        const renamed = compiled(tree, [{ path: path.join("."), rename: "renamed" }]).apply(json);
        const renameIn = (value: JsonValue, at: readonly string[]): JsonValue => {
          if (Array.isArray(value)) return value.map((element) => renameIn(element, at));
          if (value === null || typeof value !== "object") return value;
          const [key, ...rest] = at;
          if (!(key in value)) return value;
          if (rest.length === 0) return { renamed: value[key] };
          return { [key]: renameIn(value[key], rest) };
        };
        expect(renamed).toEqual(renameIn(plain, path));
      }),
    );
  });
});

describe("compileSelection", () => {
  const json: Json = { nodeName: "root", left: { nodeName: "l", inner: { name: "n", count: "2" } }, children: [{ nodeName: "c1", inner: { name: "a" } }, { nodeName: "c2" }], inner: { name: "top", labels: ["x"] } };

  it("keeps the reply's field order, not the selection's", () => {
    expect(JSON.stringify(compiled(tree, [{ path: "inner" }, { path: "nodeName" }]).apply(json))).toBe('{"nodeName":"root","inner":{"name":"top","labels":["x"]}}');
  });

  it("a whole field wins over some of its subfields, in either order", () => {
    const expected = { left: json.left };
    expect(compiled(tree, [{ path: "left.nodeName" }, { path: "left" }]).apply(json)).toEqual(expected);
    expect(compiled(tree, [{ path: "left" }, { path: "left.nodeName" }]).apply(json)).toEqual(expected);
  });

  it("writes a field under its json_name, whichever name the path uses", () => {
    const reply = tree.writeJson({ ...tree.create(), [tree.field("renamed_field")!.prop]: "r" }, 1);
    expect(compiled(tree, [{ path: "renamed_field" }]).apply(reply)).toEqual({ custom_json: "r" });
    expect(compiled(tree, [{ path: "custom_json" }]).apply(reply)).toEqual({ custom_json: "r" });
  });

  it("nested and repeated paths", () => {
    expect(compiled(tree, [{ path: "children.inner.name" }, { path: "left.inner.count" }]).apply(json)).toEqual({ left: { inner: { count: "2" } }, children: [{ inner: { name: "a" } }, {}] });
  });

  it("renames nested fields, inside each element of a list", () => {
    expect(compiled(tree, [{ path: "children.nodeName", rename: "title" }]).apply(json)).toEqual({ children: [{ title: "c1" }, { title: "c2" }] });
  });

  it("applies to an array of messages (a repeated response_body) element-wise", () => {
    expect(compiled(tree, [{ path: "nodeName" }]).apply([json, { nodeName: "b", left: {} }])).toEqual([{ nodeName: "root" }, { nodeName: "b" }]);
  });

  it.each<[string, readonly SelectionEntry[], string, RegExp]>([
    ["an unknown field", [{ path: "nope" }], "nope", /kitchen\.v1\.Tree has no field "nope"/],
    ["an unknown nested field", [{ path: "left.inner.nope" }], "left.inner.nope", /kitchen\.v1\.Inner has no field "nope"/],
    ["a path into a scalar", [{ path: "nodeName.x" }], "nodeName.x", /"nodeName" has no subfields/],
    ["a path into a repeated scalar", [{ path: "inner.labels.x" }], "inner.labels.x", /"inner.labels" has no subfields/],
    ["an empty segment", [{ path: "left..value" }], "left..value", /single dots/],
    ["an empty path", [{ path: "" }], "", /single dots/],
    ["a bad rename", [{ path: "nodeName", rename: "a.b" }], "nodeName", /cannot rename/],
    ["two renames of one field", [{ path: "nodeName", rename: "a" }, { path: "nodeName", rename: "b" }], "nodeName", /renamed twice/],
    ["a rename onto another selected field", [{ path: "nodeName", rename: "inner" }, { path: "inner" }], "inner", /would both be written as "inner"/],
  ])("refuses %s, naming the path", (_name, entries, path, message) => {
    const found = problems(tree, entries);
    expect(found[0]!.path).toBe(path);
    expect(found[0]!.message).toMatch(message);
  });

  it("lists every bad path, not only the first", () => {
    expect(problems(tree, [{ path: "a" }, { path: "nodeName" }, { path: "b.c" }]).map((problem) => problem.path)).toEqual(["a", "b.c"]);
  });

  it("ends a path at a well-known type: its JSON form has no fields to select", () => {
    const wkt = allPaths(kitchenMessage, 1).find((path) => kitchenMessage.field(path[0])!.element.message?.wellKnown);
    if (wkt !== undefined) expect(problems(kitchenMessage, [{ path: `${wkt[0]}.seconds` }])[0]!.message).toMatch(/has no subfields/);
  });
});

describe("parseFieldsParameter", () => {
  it.each<[readonly string[], string[]]>([
    [["a,b.c"], ["a", "b.c"]],
    [["a", "b"], ["a", "b"]],
    [[" a , ,b "], ["a", "b"]],
    [[""], []],
  ])("%j -> %j", (values, paths) => {
    expect(parseFieldsParameter(values).map((entry) => entry.path)).toEqual(paths);
  });
});

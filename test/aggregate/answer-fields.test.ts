import type { JsonValue } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileAnswerFields, type AnswerPruning } from "../../src/aggregate/answer-fields.js";
import { answerShape } from "../../src/aggregate/answer-shape.js";
import { compileSelection, type FieldSelection } from "../../src/transcode/field-selection.js";
import type { MessagePlan } from "../../src/transcode/json/plan-types.js";
import { arbitraryMessage } from "../transcode/json/arbitrary-message.js";
import { kitchen } from "../transcode/json/kitchen-fixture.js";

type Json = Record<string, JsonValue>;
const tree = kitchen.plan("kitchen.v1.Tree");

function selection(plan: MessagePlan, entries: ReadonlyArray<{ path: string; rename?: string }>): FieldSelection {
  const result = compileSelection(plan, entries);
  if (Array.isArray(result)) throw new Error(JSON.stringify(result));
  return result;
}

function pruning(shape: ReturnType<typeof answerShape>, paths: readonly string[]): AnswerPruning {
  const result = compileAnswerFields(shape, paths);
  if (Array.isArray(result)) throw new Error(JSON.stringify(result));
  return result;
}

/** Every path of at most `depth` segments under `plan` (JSON names), through walkable message fields. */
function allPaths(plan: MessagePlan, depth: number): string[] {
  const paths: string[] = [];
  for (const field of plan.fields) {
    paths.push(field.jsonName);
    const next = field.element.message;
    if (depth > 1 && next !== undefined && !next.wellKnown && next.jsonIsObject && next.fields.length > 0) for (const rest of allPaths(next, depth - 1)) paths.push(`${field.jsonName}.${rest}`);
  }
  return paths;
}

const treePaths = allPaths(tree, 3);
/** Two calls answering a Tree: `whole` without select, `picked` with a selection that renames a top-level field. */
const picked = selection(tree, [{ path: treePaths[0], rename: "renamedFirst" }, ...treePaths.slice(1, 4).map((path) => ({ path }))]);
const shape = answerShape([
  { name: "whole", hidden: false, responsePlan: tree, selection: undefined },
  { name: "picked", hidden: false, responsePlan: tree, selection: picked },
  { name: "input", hidden: true, responsePlan: tree, selection: undefined },
]);

describe("compileAnswerFields (properties)", () => {
  it("under a whole call, prunes exactly as the same paths' FieldMask selection of the call's message would", () => {
    fc.assert(
      fc.property(arbitraryMessage(tree.desc, 3), fc.uniqueArray(fc.constantFrom(...treePaths), { minLength: 1, maxLength: 6 }), (message, paths) => {
        const json = tree.writeJson(message, 1);
        const answer: Json = { whole: json, picked: picked.apply(json), errors: { other: { code: 14 } } };
        const pruned = pruning(shape, paths.map((path) => `whole.${path}`)).apply(answer);
        expect(pruned).toEqual({ whole: selection(tree, paths.map((path) => ({ path }))).apply(json), errors: answer.errors });
      }),
    );
  });

  it("keeps every call named by a path, and only those", () => {
    fc.assert(
      fc.property(fc.subarray(["whole", "picked", "errors"], { minLength: 1 }), (keys) => {
        expect([...pruning(shape, keys).keptCalls].sort()).toEqual(keys.filter((key) => key !== "errors").sort());
      }),
    );
  });

  it("the pruned answer is always part of the answer: no key added, values kept as they were at leaves", () => {
    const isPart = (part: JsonValue, whole: JsonValue): boolean => {
      if (Array.isArray(part)) return Array.isArray(whole) && part.length === whole.length && part.every((element, i) => isPart(element, whole[i]));
      if (part !== null && typeof part === "object") return whole !== null && typeof whole === "object" && !Array.isArray(whole) && Object.entries(part).every(([key, value]) => key in whole && isPart(value, whole[key]));
      return part === whole;
    };
    const outputPaths = [...treePaths.map((path) => `whole.${path}`), "picked", "picked.renamedFirst", "errors"];
    fc.assert(
      fc.property(arbitraryMessage(tree.desc, 3), fc.uniqueArray(fc.constantFrom(...outputPaths), { minLength: 1, maxLength: 5 }), (message, paths) => {
        const json = tree.writeJson(message, 1);
        const answer: Json = { whole: json, picked: picked.apply(json) };
        expect(isPart(pruning(shape, paths).apply(answer), answer)).toBe(true);
      }),
    );
  });
});

describe("compileAnswerFields: bad paths", () => {
  it.each<[string, RegExp]>([
    ["input", /the answer has no key "input" \(keys: whole, picked, errors\)/],
    [`picked.${treePaths[0]}`, new RegExp(`call "picked" has no key "${treePaths[0]}"`)],
    ["errors.whole", /kept whole, always/],
    ["whole..x", /single dots/],
  ])("%s", (path, message) => {
    const result = compileAnswerFields(shape, [path]);
    expect(Array.isArray(result)).toBe(true);
    expect((result as Array<{ path: string; message: string }>)[0]).toMatchObject({ path });
    expect((result as Array<{ message: string }>)[0].message).toMatch(message);
  });

  it("lists every bad path, not the first only", () => {
    const result = compileAnswerFields(shape, ["nope", "whole", "whole.nope"]);
    expect((result as Array<{ path: string }>).map((problem) => problem.path)).toEqual(["nope", "whole.nope"]);
  });
});

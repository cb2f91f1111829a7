import { create, fromBinary, isFieldSet, toBinary, type DescField, type DescMessage, type FileRegistry, type Message } from "@bufbuild/protobuf";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { createBehaviorCheck, MAX_LISTED_VIOLATIONS } from "../../../src/transcode/field-behavior/behavior-check.js";
import { createBehaviorPlans } from "../../../src/transcode/field-behavior/behavior-plan.js";
import { walkMessage, type BehaviorFindings } from "../../../src/transcode/field-behavior/behavior-walk.js";
import { isOutputOnly, isRequired } from "../../../src/transcode/field-behavior/field-behavior.js";
import { fuzzRuns } from "../../support/fuzz.js";
import { buildFieldBehaviorRegistry, message } from "./fixture.js";

let registry: FileRegistry;
let Root: DescMessage;
beforeAll(() => {
  registry = buildFieldBehaviorRegistry();
  Root = message(registry, "fb.v1.Root");
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test boundary: dynamic messages of the fixture.
type Init = Record<string, any>;

/** The bytes of a fixture message, as an encoder writes them. */
function bytesOf(desc: DescMessage, init: Init): Uint8Array {
  return toBinary(desc, create(desc, init));
}

/** Everything a Root needs to pass. */
const COMPLETE: Init = { id: "r", count: 1n, opt: 0, child: { sku: "s" }, numbers: [0], kind: 1, ratio: 0.5, words: [""] };

function check(desc: DescMessage, init: Init, mode: "drop" | "reject" = "drop"): { bytes: Uint8Array } | { error: GatewayError } {
  const run = createBehaviorCheck(createBehaviorPlans(), desc, mode);
  if (run === undefined) throw new Error(`${desc.typeName} has nothing to check`);
  try {
    return { bytes: run(bytesOf(desc, init)) };
  } catch (error) {
    if (error instanceof GatewayError) return { error };
    throw error;
  }
}

function violationsOf(result: { bytes: Uint8Array } | { error: GatewayError }): string[] {
  if (!("error" in result)) return [];
  const detail = result.error.details[0] as { fieldViolations: Array<{ field: string }> };
  return detail.fieldViolations.map((v) => v.field);
}

describe("REQUIRED fields (proto3: a default value is missing; presence for messages, optional, lists and maps)", () => {
  it.each<[string, Init, string[]]>([
    ["a complete message", COMPLETE, []],
    ["an empty message: every REQUIRED field, by JSON name", {}, ["id", "count", "opt", "child", "numbers", "kind", "ratio", "words"]],
    ["default values of implicit-presence scalars and enums", { ...COMPLETE, id: "", count: 0n, kind: 0, ratio: 0 }, ["id", "count", "kind", "ratio"]],
    ["an explicit-presence field set to its default is set", { ...COMPLETE, opt: 0 }, []],
    ["an empty message field is set; its own REQUIRED fields are missing", { ...COMPLETE, child: {} }, ["child.sku"]],
    ["a list of defaults is set (it has elements)", { ...COMPLETE, numbers: [0, 0], words: ["", ""] }, []],
    ["repeated message elements, by index", { ...COMPLETE, children: [{ sku: "a" }, {}, { sku: "c", leaf: {} }] }, ["children[1].sku", "children[2].leaf.data"]],
    ["map values, by key", { ...COMPLETE, byKey: { ok: { sku: "x" }, bad: {} }, byNumber: { 7: {} } }, ['byKey["bad"].sku', 'byNumber["7"].sku']],
    ["a recursive type, checked at every level present", { ...COMPLETE, next: { ...COMPLETE, next: { id: "x" } } }, ["next.next.count", "next.next.opt", "next.next.child", "next.next.numbers", "next.next.kind", "next.next.ratio", "next.next.words"]],
  ])("%s", (_name, init, expected) => {
    expect(violationsOf(check(Root, init)).sort()).toEqual([...expected].sort());
  });

  it("is one 400 INVALID_ARGUMENT, reason PG_ERR_REQUIRED_FIELD, with a google.rpc.BadRequest detail", () => {
    const result = check(Root, { ...COMPLETE, id: "", children: [{}] });
    if (!("error" in result)) throw new Error("expected an error");
    expect(result.error.code).toBe(3);
    expect(result.error.reason).toBe("PG_ERR_REQUIRED_FIELD");
    expect(result.error.message).toBe("missing required fields: children[0].sku, id");
    expect(result.error.details).toEqual([
      {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        fieldViolations: [
          { field: "children[0].sku", description: "is required" },
          { field: "id", description: "is required" },
        ],
      },
    ]);
  });

  it(`lists at most ${MAX_LISTED_VIOLATIONS} violations, and says how many more there are`, () => {
    const result = check(Root, { ...COMPLETE, children: Array.from({ length: 150 }, () => ({})) });
    const fields = violationsOf(result);
    expect(fields).toHaveLength(MAX_LISTED_VIOLATIONS + 1);
    if (!("error" in result)) throw new Error("expected an error");
    expect((result.error.details[0] as { fieldViolations: Array<{ description: string }> }).fieldViolations.at(-1)?.description).toBe("50 more violations are not listed");
    expect(result.error.message).toContain("(150 in all)");
  });

  it("a partial update (a request with a FieldMask) demands its own REQUIRED fields, not the resource's", () => {
    const Update = message(registry, "fb.v1.Update");
    expect(violationsOf(check(Update, { root: { children: [{}] } }))).toEqual(["parent"]);
    // OUTPUT_ONLY fields of the resource are still dropped.
    const result = check(Update, { parent: "p", root: { serverNote: "x", child: { computed: "y", sku: "" } } });
    if ("error" in result) throw result.error;
    expect(fromBinary(Update, new Uint8Array(result.bytes))).toEqual(create(Update, { parent: "p", root: { child: { sku: "" } } }));
  });

  it("a message with nothing to check anywhere below it has no check (its routes pay nothing)", () => {
    expect(createBehaviorCheck(createBehaviorPlans(), message(registry, "fb.v1.Plain"), "drop")).toBeUndefined();
  });
});

describe("OUTPUT_ONLY fields", () => {
  it("are dropped, nested and in lists and maps, leaving every other byte as it was", () => {
    const init = { ...COMPLETE, serverNote: "n", child: { sku: "s", computed: "c", leaf: { data: new Uint8Array([1]), stamp: 9 } }, children: [{ sku: "a", computed: "x" }], byKey: { k: { sku: "v", computed: "z" } } };
    const result = check(Root, init);
    if ("error" in result) throw result.error;
    const expected = create(Root, { ...COMPLETE, child: { sku: "s", leaf: { data: new Uint8Array([1]) } }, children: [{ sku: "a" }], byKey: { k: { sku: "v" } } });
    expect(fromBinary(Root, new Uint8Array(result.bytes))).toEqual(expected);
  });

  it("bound by the route's path template, are kept (the URL names the resource), nested too; the shared rules stay as they were", () => {
    const plans = createBehaviorPlans();
    const init = { ...COMPLETE, serverNote: "n", child: { sku: "s", computed: "c" }, children: [{ sku: "a", computed: "x" }] };
    const routeCheck = createBehaviorCheck(plans, Root, "reject", [["server_note"], ["child", "computed"]]);
    const refused = (() => {
      try {
        routeCheck?.(bytesOf(Root, init));
        return [];
      } catch (error) {
        return ((error as GatewayError).details[0] as { fieldViolations: Array<{ field: string }> }).fieldViolations.map((v) => v.field);
      }
    })();
    expect(refused).toEqual(["children[0].computed"]);
    const dropping = createBehaviorCheck(plans, Root, "drop", [["server_note"], ["child", "computed"]]);
    const kept = fromBinary(Root, new Uint8Array(dropping?.(bytesOf(Root, init)) ?? []));
    expect(kept).toMatchObject({ serverNote: "n", child: { computed: "c" }, children: [{ computed: "" }] });
    // Another route of the same message, without path variables: dropped there.
    expect(violationsOf(check(Root, init, "reject")).sort()).toEqual(["child.computed", "children[0].computed", "serverNote"]);
  });

  it("leave the request's bytes untouched (the same array) when none is set", () => {
    const bytes = bytesOf(Root, COMPLETE);
    const run = createBehaviorCheck(createBehaviorPlans(), Root, "drop");
    expect(run?.(bytes)).toBe(bytes);
  });

  it("are refused with reason PG_ERR_OUTPUT_ONLY_FIELD under outputOnlyFields: reject, each named once", () => {
    const result = check(Root, { ...COMPLETE, serverNote: "n", children: [{ sku: "a", computed: "x" }, { sku: "b", computed: "y" }] }, "reject");
    if (!("error" in result)) throw new Error("expected an error");
    expect(result.error.reason).toBe("PG_ERR_OUTPUT_ONLY_FIELD");
    expect(violationsOf(result)).toEqual(["children[0].computed", "children[1].computed", "serverNote"]);
  });
});

// The oracle: the same rules over the decoded message, with protobuf-es's own presence semantics.
function oracle(desc: DescMessage, value: Message, prefix: string, findings: BehaviorFindings): void {
  for (const field of desc.fields) {
    const path = prefix + field.jsonName;
    const set = isFieldSet(value, field);
    if (isOutputOnly(field)) {
      if (set) findings.outputOnly.push(path);
      continue;
    }
    if (isRequired(field) && !set) findings.missing.push(path);
    if (set) visitNested(field, (value as unknown as Record<string, unknown>)[field.localName], path, findings);
  }
}

function visitNested(field: DescField, value: unknown, path: string, findings: BehaviorFindings): void {
  if (field.fieldKind === "message") oracle(field.message, value as Message, `${path}.`, findings);
  else if (field.fieldKind === "list" && field.listKind === "message") (value as Message[]).forEach((element, i) => oracle(field.message, element, `${path}[${i}].`, findings));
  else if (field.fieldKind === "map" && field.mapKind === "message") {
    for (const [key, element] of Object.entries(value as Record<string, Message>)) oracle(field.message, element, `${path}[${JSON.stringify(key)}].`, findings);
  }
}

const child = fc.record(
  { sku: fc.constantFrom("", "s"), computed: fc.constantFrom("", "c"), leaf: fc.option(fc.record({ data: fc.constantFrom(new Uint8Array(0), new Uint8Array([7])), stamp: fc.constantFrom(0, 5) }), { nil: undefined }) },
  { requiredKeys: [] },
);
const rootFields = {
  id: fc.constantFrom("", "x"),
  count: fc.constantFrom(0n, 3n, -1n),
  opt: fc.option(fc.constantFrom(0, 2), { nil: undefined }),
  child: fc.option(child, { nil: undefined }),
  children: fc.array(child, { maxLength: 3 }),
  byKey: fc.dictionary(fc.constantFrom("a", "b", "c"), child, { maxKeys: 2 }),
  byNumber: fc.dictionary(fc.constantFrom("1", "-2"), child, { maxKeys: 2 }),
  numbers: fc.array(fc.constantFrom(0, 1), { maxLength: 2 }),
  serverNote: fc.constantFrom("", "n"),
  kind: fc.constantFrom(0, 1),
  ratio: fc.constantFrom(0, -0, 1.5),
  words: fc.array(fc.constantFrom("", "w"), { maxLength: 2 }),
};
const root = fc.record({ ...rootFields, next: fc.option(fc.record(rootFields, { requiredKeys: [] }), { nil: undefined }) }, { requiredKeys: [] });

describe("the walk over the bytes agrees with the decoded message (property)", () => {
  it("finds the same missing and output-only paths, and drops exactly the output-only fields", () => {
    const plans = createBehaviorPlans();
    const rules = plans.forRequest(Root);
    if (rules === undefined) throw new Error("Root has rules");
    fc.assert(
      fc.property(root, (init) => {
        const value = create(Root, init);
        const expected: BehaviorFindings = { missing: [], outputOnly: [] };
        oracle(Root, value, "", expected);
        const found: BehaviorFindings = { missing: [], outputOnly: [] };
        const stripped = walkMessage(toBinary(Root, value), rules, "", true, found);
        expect([...found.missing].sort()).toEqual([...expected.missing].sort());
        expect([...found.outputOnly].sort()).toEqual([...new Set(expected.outputOnly)].sort());
        // Dropping: the stripped bytes decode to the message without its output-only fields.
        const cleared = create(Root, init);
        clearOutputOnly(Root, cleared);
        expect(fromBinary(Root, new Uint8Array(stripped))).toEqual(cleared);
      }),
      fuzzRuns(300),
    );
  });
});

function clearOutputOnly(desc: DescMessage, value: Message): void {
  const record = value as unknown as Record<string, unknown>;
  for (const field of desc.fields) {
    if (isOutputOnly(field)) {
      const fresh = create(desc) as unknown as Record<string, unknown>;
      record[field.localName] = fresh[field.localName];
      continue;
    }
    const nested = record[field.localName];
    if (nested === undefined) continue;
    if (field.fieldKind === "message") clearOutputOnly(field.message, nested as Message);
    else if (field.fieldKind === "list" && field.listKind === "message") for (const element of nested as Message[]) clearOutputOnly(field.message, element);
    else if (field.fieldKind === "map" && field.mapKind === "message") for (const element of Object.values(nested as Record<string, Message>)) clearOutputOnly(field.message, element);
  }
}

import { create, toJson, type DescField, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createCodecRegistry, type CodecRegistry } from "../../src/transcode/json/codec-registry.js";
import type { MessagePlan } from "../../src/transcode/json/plan-types.js";
import { bodyPaths } from "../../src/transcode/patch-mask.js";
import { fuzzRuns } from "../support/fuzz.js";
import { buildFieldBehaviorRegistry, message } from "./field-behavior/fixture.js";

let files: FileRegistry;
let codecs: CodecRegistry;
let root: MessagePlan;
beforeAll(() => {
  files = buildFieldBehaviorRegistry();
  codecs = createCodecRegistry(files, { ignoreUnknownFields: false });
  root = codecs.plan("fb.v1.Root");
});

describe("bodyPaths: the FieldMask of a PATCH body (grpc-gateway's FieldMaskFromRequestBody)", () => {
  it.each<[string, unknown, string[]]>([
    ["top-level fields, in proto names, sorted", { serverNote: "x", id: "a", count: "2" }, ["count", "id", "server_note"]],
    ["proto names in the body are accepted too", { server_note: "x" }, ["server_note"]],
    ["regular messages are descended into", { child: { sku: "s", leaf: { data: "AQ==" } } }, ["child.leaf.data", "child.sku"]],
    ["an empty object and null are leaves", { child: {}, next: null }, ["child", "next"]],
    ["lists and maps are leaves, whatever they hold", { children: [{ sku: "s" }], byKey: { k: { sku: "v" } }, numbers: [] }, ["by_key", "children", "numbers"]],
    ["well-known types are leaves: Struct, wrappers", { extra: { a: { b: 1 } }, nick: "n" }, ["extra", "nick"]],
    ["keys that name no field are left to the encoder", { nope: 1, id: "a" }, ["id"]],
    ["a body that is not an object has no paths", [1, 2], []],
    ["an empty body has no paths", undefined, []],
  ])("%s", (_name, json, expected) => {
    expect(bodyPaths(json, root)).toEqual(expected);
  });

  it("leaves out what the filler is told to skip (path-bound, output-only), nested too", () => {
    expect(bodyPaths({ id: "a", child: { sku: "s", computed: "c" } }, root, (field, path) => path === "id" || field.protoName === "computed")).toEqual(["child.sku"]);
  });

  it("names only fields that exist, and covers every key of the body (property)", () => {
    const desc = message(files, "fb.v1.Root");
    const leafValues = fc.record(
      { id: fc.constantFrom("", "x"), count: fc.constantFrom(0n, 5n), serverNote: fc.constantFrom("", "n"), numbers: fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 2 }), nick: fc.option(fc.constantFrom("", "z"), { nil: undefined }) },
      { requiredKeys: [] },
    );
    const child = fc.record({ sku: fc.constantFrom("", "s"), leaf: fc.option(fc.record({ data: fc.constant(new Uint8Array([1])) }), { nil: undefined }) }, { requiredKeys: [] });
    const value = fc.record({ leaves: leafValues, child: fc.option(child, { nil: undefined }), next: fc.option(leafValues, { nil: undefined }) });
    fc.assert(
      fc.property(value, ({ leaves, child: c, next }) => {
        const json = toJson(desc, create(desc, { ...leaves, child: c, next }), { registry: files }) as Record<string, unknown>;
        const paths = bodyPaths(json, root);
        for (const path of paths) expect(resolves(desc, path.split(".")), path).toBe(true);
        for (const key of Object.keys(json)) {
          const name = root.field(key)?.protoName;
          expect(paths.some((p) => p === name || p.startsWith(`${name}.`)), key).toBe(true);
        }
        expect(paths).toEqual([...new Set(paths)].sort());
      }),
      fuzzRuns(200),
    );
  });
});

function resolves(message: DescMessage, path: readonly string[]): boolean {
  let current: DescMessage | undefined = message;
  for (const name of path) {
    const field: DescField | undefined = current?.fields.find((f) => f.name === name);
    if (field === undefined) return false;
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return true;
}

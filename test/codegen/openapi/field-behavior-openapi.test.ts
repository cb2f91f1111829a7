import type { FileRegistry } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { queryParameters } from "../../../codegen/openapi/query-parameters.js";
import { createSchemaRegistry } from "../../../codegen/openapi/schema-registry.js";
import { buildFieldBehaviorRegistry } from "../../transcode/field-behavior/fixture.js";
import { binding, lit, tpl } from "./support.js";

let registry: FileRegistry;
beforeAll(() => {
  registry = buildFieldBehaviorRegistry();
});

describe("(google.api.field_behavior) in OpenAPI", () => {
  it("query parameters: REQUIRED ones (through REQUIRED messages only) are required; OUTPUT_ONLY ones are not offered", () => {
    const get = binding(registry, { rpc: "fb.v1.Fb.Get", httpMethod: "GET", pattern: "/v1/roots", template: tpl([lit("v1"), lit("roots")]) });
    const parameters = queryParameters(get, createSchemaRegistry()).parameters;
    const required = parameters.filter((p) => p.required === true).map((p) => p.name);
    expect(required).toEqual(["id", "count", "opt", "child.sku", "numbers", "kind", "ratio", "words"]);
    const names = parameters.map((p) => p.name);
    // Leaf.data is REQUIRED, but child.leaf itself is optional: not required of every request.
    expect(names).toContain("child.leaf.data");
    expect(names.some((n) => n === "serverNote" || n.endsWith(".serverNote") || n.endsWith(".computed"))).toBe(false);
  });

  it("schemas: REQUIRED fields in `required`, OUTPUT_ONLY ones readOnly", () => {
    const schemas = createSchemaRegistry();
    const root = registry.getMessage("fb.v1.Child");
    if (root === undefined) throw new Error("no fb.v1.Child");
    schemas.ref(root);
    const child = schemas.components()["fb.v1.Child"];
    expect(child.required).toEqual(["sku"]);
    expect(child.properties?.computed).toEqual({ type: "string", readOnly: true });
  });
});

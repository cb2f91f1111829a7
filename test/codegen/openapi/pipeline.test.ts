import { describe, expect, it } from "vitest";
import { collectBindings, findRuleExtensions } from "../../../codegen/bindings.js";
import { buildOpenApiDocument, renderOpenApi } from "../../../codegen/openapi/index.js";
import { lintOpenApi31 } from "./openapi-lint.js";
import { buildTestRegistry, demoBindings } from "./support.js";

// The other tests build bindings by hand; this checks them against codegen's real rule readers
// (google.api.http and protogate.v1.rule).
describe("OpenAPI from the demo protos' google.api.http and protogate.v1.rule options", () => {
  it("equals the document of the hand-written bindings, and lints clean", () => {
    const registry = buildTestRegistry();
    const files = [...registry.files].filter((file) => file.name.startsWith("demo/"));
    const { bindings, problems } = collectBindings(files, findRuleExtensions(registry));
    expect(problems).toEqual([]);
    const info = { title: "demo", version: "1" };
    const fromRules = buildOpenApiDocument(bindings, info);
    expect(renderOpenApi(fromRules)).toBe(renderOpenApi(buildOpenApiDocument(demoBindings(registry), info)));
    expect(lintOpenApi31(fromRules)).toEqual([]);
  });
});

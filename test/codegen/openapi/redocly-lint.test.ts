import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../../codegen/openapi/index.js";
import { redoclyLint } from "./redocly-lint.js";
import { buildTestRegistry, demoBindings, edgeBindings } from "./support.js";

const ROOT = join(import.meta.dirname, "../../..");

// Redocly's linter (an outside validator: OpenAPI 3.1 structure plus its recommended rules such as
// no-identical-paths, no-ambiguous-paths, path-parameters-defined, operation-operationId-unique).
describe("the documents pass Redocly's recommended-strict lint", () => {
  it("the demo's generated/openapi.json", async () => {
    expect(await redoclyLint(readFileSync(join(ROOT, "generated/openapi.json"), "utf8"))).toEqual([]);
  });

  it("the golden shop openapi.json, whose only finding is the overlap its fixture makes on purpose", async () => {
    // `/v1/shelves/by-id/{shelf.id}` and `/v1/shelves/{shelf}/books` both match
    // `/v1/shelves/by-id/books`; the gateway's router (like OpenAPI's own rule) prefers the literal.
    const problems = await redoclyLint(readFileSync(join(ROOT, "test/golden/shop/openapi.json.golden"), "utf8"));
    const others = problems.filter((p) => !/^error no-ambiguous-paths .*Found two ambiguous paths: `\/v1\/shelves\/by-id\/\{shelf\.id\}` and `\/v1\/shelves\/\{shelf\}\/books/.test(p));
    expect(others).toEqual([]);
    expect(problems.length).toBeGreaterThan(0);
  });

  it("the demo and edge-case bindings together", async () => {
    const registry = buildTestRegistry();
    const doc = buildOpenApiDocument([...demoBindings(registry), ...edgeBindings(registry)], { title: "t", version: "1" }, { servers: [{ url: "https://api.shop.test" }] });
    expect(await redoclyLint(doc)).toEqual([]);
  });

  it("and the lint fails where a viewer would: identical paths, a parameter missing from the path", async () => {
    const operation = (id: string, name: string) => ({
      operationId: id,
      parameters: [{ name, in: "path", required: true, schema: { type: "string" } }],
      responses: { default: { description: "error" } },
    });
    // What the document looked like before slashed patterns were expanded: `{name}` and `{parent}`.
    const collapsed = { openapi: "3.1.0", info: { title: "t", version: "1" }, paths: { "/v2/{name}": { get: operation("a", "name") }, "/v2/{parent}": { post: operation("b", "parent") } } };
    expect((await redoclyLint(collapsed)).join("\n")).toMatch(/no-identical-paths/);
    const missing = { openapi: "3.1.0", info: { title: "t", version: "1" }, paths: { "/v2/{name}": { get: operation("a", "other") } } };
    expect((await redoclyLint(missing)).join("\n")).toMatch(/path-parameters-defined/);
  });
});

import { describe, expect, it } from "vitest";
import { lintOpenApi31 } from "./openapi-lint.js";

/** Boundary: the cases poke at arbitrary places of a JSON document, so it is untyped on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- boundary: arbitrary JSON edits.
type LooseDoc = Record<string, any>;

/** A small valid document; each case below breaks one rule of it. */
function validDoc(): LooseDoc {
  return {
    openapi: "3.1.0",
    info: { title: "t", version: "1" },
    tags: [{ name: "S" }],
    paths: {
      "/v1/things/{id}": {
        get: {
          operationId: "S_Get",
          tags: ["S"],
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string" } },
            { name: "ids", in: "query", style: "form", explode: true, schema: { type: "array", items: { type: "string", format: "int64" } } },
          ],
          responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/T" } } } } },
          security: [{ bearerAuth: ["things:read"] }, { apiKeyAuth: [] }],
        },
      },
    },
    components: {
      schemas: { T: { type: "object", properties: { a: { type: ["string", "null"], pattern: "^a+$" } } } },
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" }, apiKeyAuth: { type: "apiKey", in: "header", name: "x-api-key" } },
    },
  };
}

describe("lintOpenApi31", () => {
  it("accepts a valid document", () => {
    expect(lintOpenApi31(validDoc())).toEqual([]);
  });

  it.each<[string, (doc: LooseDoc) => void, string]>([
    ["a 3.0 version", (d) => (d.openapi = "3.0.3"), "/openapi: must be 3.1.x"],
    ["a missing title", (d) => delete d.info.title, "/info: needs string title and version"],
    ["an optional path parameter", (d) => (d.paths["/v1/things/{id}"].get.parameters[0].required = false), "must be required"],
    ["a template without parameter", (d) => d.paths["/v1/things/{id}"].get.parameters.shift(), "template {id} has no path parameter"],
    ["a path parameter not in the path", (d) => (d.paths["/v1/things/{id}"].get.parameters[0].name = "other"), "path parameter other is not in the path"],
    ["a duplicate operationId", (d) => (d.paths["/v2"] = { get: { ...d.paths["/v1/things/{id}"].get, parameters: [] } }), "duplicate operationId S_Get"],
    ["an equivalent path", (d) => (d.paths["/v1/things/{key}"] = {}), "equivalent to /v1/things/{id}"],
    ["an unresolved $ref", (d) => (d.components.schemas = {}), "unresolved $ref #/components/schemas/T"],
    ["an unknown schema keyword", (d) => (d.components.schemas.T.nullable = true), "unknown schema keyword nullable"],
    ["a bad type", (d) => (d.components.schemas.T.properties.a.type = "int"), 'bad type "int"'],
    ["a bad pattern", (d) => (d.components.schemas.T.properties.a.pattern = "("), "not an ECMA-262 regex"],
    ["a response without description", (d) => delete d.paths["/v1/things/{id}"].get.responses["200"].description, "needs a description"],
    ["a bad status code", (d) => (d.paths["/v1/things/{id}"].get.responses["600"] = { description: "x" }), "bad status code"],
    ["deepObject in a path", (d) => (d.paths["/v1/things/{id}"].get.parameters[0].style = "deepObject"), "style deepObject is not allowed in path"],
    ["an undeclared tag", (d) => (d.paths["/v1/things/{id}"].get.tags = ["Nope"]), "tag Nope is not declared"],
    ["an unknown operation field", (d) => (d.paths["/v1/things/{id}"].get.summaryy = "x"), "unexpected field summaryy"],
    ["a path without leading slash", (d) => (d.paths["v2"] = {}), "a path must start with /"],
    ["an undeclared security scheme", (d) => (d.paths["/v1/things/{id}"].get.security = [{ oauth: [] }]), "security scheme oauth is not declared"],
    ["scopes that are not strings", (d) => (d.paths["/v1/things/{id}"].get.security[0].bearerAuth = [1]), "/security/0/bearerAuth: must be an array of strings"],
    ["security that is not an array", (d) => (d.security = {}), "/security: must be an array"],
    ["an apiKey scheme without a name", (d) => delete d.components.securitySchemes.apiKeyAuth.name, "an apiKey scheme needs a name"],
    ["an http scheme without a scheme", (d) => delete d.components.securitySchemes.bearerAuth.scheme, "an http scheme needs a scheme"],
    ["an unknown security scheme type", (d) => (d.components.securitySchemes.bearerAuth.type = "jwt"), "bad type jwt"],
  ])("reports %s", (_what, breakIt, expected) => {
    const doc = validDoc();
    breakIt(doc);
    const problems = lintOpenApi31(doc);
    expect(problems.join("\n")).toContain(expected);
  });
});

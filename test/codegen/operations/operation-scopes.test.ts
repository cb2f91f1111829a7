import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTemplate } from "../../../codegen/http-rule/parse-template.js";
import { operationScopeOf, scopeKey, scopeRoutes } from "../../../codegen/operations/operation-scopes.js";
import { fuzzRuns } from "../../support/fuzz.js";

describe("operationScopeOf", () => {
  it.each([
    // Cloud Run v2's shapes: the location, whatever the resource below it.
    ["/v2/{parent=projects/*/locations/*}/services", ["v2"], ["projects", "locations"]],
    ["/v2/{name=projects/*/locations/*/services/*}", ["v2"], ["projects", "locations"]],
    ["/v2/{service.name=projects/*/locations/*/services/*}", ["v2"], ["projects", "locations"]],
    ["/v2/{name=projects/*/locations/*/jobs/*/executions/*}:cancel", ["v2"], ["projects", "locations"]],
    // Firestore admin: the database.
    ["/v1/{name=projects/*/databases/*}:exportDocuments", ["v1"], ["projects", "databases"]],
    // Single-segment variables give the same shape as one multi-segment variable.
    ["/v1/projects/{project_id}/locations/{location}/builds", ["v1"], ["projects", "locations"]],
    ["/v1/{parent=projects/*}/builds", ["v1"], ["projects"]],
    // A longer literal prefix, and none.
    ["/api/v3/{parent=tenants/*}/imports", ["api", "v3"], ["tenants"]],
    ["/{name=shelves/*}:archive", [], ["shelves"]],
    // The operations collection ends the scope.
    ["/v1/{name=projects/*/operations/*}", ["v1"], ["projects"]],
  ])("%s -> prefix %j, collections %j", (pattern, prefix, collections) => {
    expect(operationScopeOf(parseTemplate(pattern))).toEqual({ prefix, collections });
  });

  it.each(["/v1/jobs:start", "/v1/{name=**}", "/v1/{name=*}", "/{tenant}/things", "/v1/{name=operations/*}:restart", "/"])("%s has no scope", (pattern) => {
    expect(operationScopeOf(parseTemplate(pattern))).toBeUndefined();
  });

  it("prints the routes Google's service configs give (Cloud Run v2's run_v2.yaml)", () => {
    const routes = scopeRoutes({ prefix: ["v2"], collections: ["projects", "locations"] });
    expect(routes).toEqual({
      operation: "/v2/{name=projects/*/locations/*/operations/*}",
      collection: "/v2/{name=projects/*/locations/*}/operations",
      cancel: "/v2/{name=projects/*/locations/*/operations/*}:cancel",
    });
  });

  it("percent-encodes literals that need it, and the printed routes parse back to the same scope", () => {
    const literal = fc.stringMatching(/^[A-Za-z0-9._~%:* -]{1,8}$/).filter((s) => s !== "operations");
    // A collection id shaped like a version (`v1`) is read as part of the prefix, by design.
    const collection = literal.filter((s) => !/^v\d+[a-z0-9]*$/.test(s));
    fc.assert(
      fc.property(fc.array(literal, { maxLength: 3 }), fc.array(collection, { minLength: 1, maxLength: 2 }), (prefix, collections) => {
        const scope = { prefix, collections };
        const routes = scopeRoutes(scope);
        for (const path of [routes.operation, routes.collection, routes.cancel]) {
          const template = parseTemplate(path);
          expect(operationScopeOf(template)).toEqual(scope);
          expect(template.variables.map((v) => v.fieldPath)).toEqual([["name"]]);
        }
        expect(parseTemplate(routes.cancel).verb).toBe("cancel");
        expect(scopeKey(operationScopeOf(parseTemplate(routes.collection)) ?? { prefix: [], collections: [] })).toBe(scopeKey(scope));
      }),
      fuzzRuns(300),
    );
  });
});

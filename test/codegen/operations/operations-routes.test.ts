import { beforeAll, describe, expect, it } from "vitest";
import { collectBindings, findRuleExtensions } from "../../../codegen/bindings.js";
import type { CodegenBinding } from "../../../codegen/model.js";
import { parsePluginParameters } from "../../../codegen/plugin-parameters.js";
import { OPERATIONS_PROTO, operationsParameter, type OperationsOptions } from "../../../codegen/operations/operations-options.js";
import { operationRoutes } from "../../../codegen/operations/operations-routes.js";
import { readServiceConfigRoutes } from "../../../codegen/operations/service-config.js";
import { generate } from "../../../codegen/plugin.js";
import { encodePatterns } from "../../../codegen/selection.js";
import { lintOpenApi31 } from "../openapi/openapi-lint.js";
import { compileFixtures, OPERATIONS_FIXTURES, type CompiledFixtures } from "./support.js";

const LIBRARY = "lro/v1/library.proto";
const FLAT = "flat/v1/jobs.proto";
const CLASH = "clash/v1/clash.proto";
const OTHER = "other/v1/imports.proto";
const AUTO: OperationsOptions = { mode: "auto", configs: [] };

let fixtures: CompiledFixtures;
beforeAll(async () => {
  fixtures = await compileFixtures();
}, 60_000);

/** The operation routes of these team files, as the plugin computes them. */
function routesOf(files: readonly string[], options: OperationsOptions = AUTO) {
  const targets = files.map((name) => {
    const file = fixtures.registry.getFile(name);
    if (!file) throw new Error(`no ${name}`);
    return file;
  });
  const extensions = findRuleExtensions(fixtures.registry);
  const api = collectBindings(targets, extensions);
  expect(api.problems).toEqual([]);
  return operationRoutes(fixtures.registry, api.bindings, extensions, options);
}

const summary = (b: CodegenBinding) => `${b.httpMethod} ${b.pattern} -> ${b.rpc.name} @ ${b.upstreamServices?.join(" ") ?? "-"}`;

describe("google.longrunning.Operations routes", () => {
  it.each<[string, string[], string[], number]>([
    [
      "derived from the scope of the long-running methods' paths",
      [LIBRARY],
      [
        "GET /v1/{name=projects/*/locations/*/operations/*} -> GetOperation @ lro.v1.Library",
        "GET /v1/{name=projects/*/locations/*}/operations -> ListOperations @ lro.v1.Library",
        "POST /v1/{name=projects/*/locations/*/operations/*}:cancel -> CancelOperation @ lro.v1.Library",
        "DELETE /v1/{name=projects/*/locations/*/operations/*} -> DeleteOperation @ lro.v1.Library",
      ],
      0,
    ],
    [
      "operations.proto's own rules when no path has a collection scope",
      [FLAT],
      [
        "GET /v1/{name=operations} -> ListOperations @ flat.v1.Jobs",
        "GET /v1/{name=operations/**} -> GetOperation @ flat.v1.Jobs",
        "DELETE /v1/{name=operations/**} -> DeleteOperation @ flat.v1.Jobs",
        "POST /v1/{name=operations/**}:cancel -> CancelOperation @ flat.v1.Jobs",
      ],
      0,
    ],
    [
      "without the route the API binds itself (a warning says so)",
      [CLASH],
      [
        "GET /v1/{name=projects/*}/operations -> ListOperations @ clash.v1.Builds",
        "POST /v1/{name=projects/*/operations/*}:cancel -> CancelOperation @ clash.v1.Builds",
        "DELETE /v1/{name=projects/*/operations/*} -> DeleteOperation @ clash.v1.Builds",
      ],
      1,
    ],
    [
      "one set per scope, on the upstream of any service returning operations there, with a warning when another package shares it",
      [LIBRARY, OTHER],
      [
        "GET /v1/{name=projects/*/locations/*/operations/*} -> GetOperation @ lro.v1.Library other.v1.Imports",
        "GET /v1/{name=projects/*/locations/*}/operations -> ListOperations @ lro.v1.Library other.v1.Imports",
        "POST /v1/{name=projects/*/locations/*/operations/*}:cancel -> CancelOperation @ lro.v1.Library other.v1.Imports",
        "DELETE /v1/{name=projects/*/locations/*/operations/*} -> DeleteOperation @ lro.v1.Library other.v1.Imports",
      ],
      1,
    ],
    [
      "two scopes, two sets",
      [LIBRARY, CLASH],
      [
        "GET /v1/{name=projects/*/locations/*/operations/*} -> GetOperation @ lro.v1.Library",
        "GET /v1/{name=projects/*/locations/*}/operations -> ListOperations @ lro.v1.Library",
        "POST /v1/{name=projects/*/locations/*/operations/*}:cancel -> CancelOperation @ lro.v1.Library",
        "DELETE /v1/{name=projects/*/locations/*/operations/*} -> DeleteOperation @ lro.v1.Library",
        "GET /v1/{name=projects/*}/operations -> ListOperations @ clash.v1.Builds",
        "POST /v1/{name=projects/*/operations/*}:cancel -> CancelOperation @ clash.v1.Builds",
        "DELETE /v1/{name=projects/*/operations/*} -> DeleteOperation @ clash.v1.Builds",
      ],
      1,
    ],
  ])("%s", (_, files, expected, warningCount) => {
    const routes = routesOf(files);
    expect(routes.problems).toEqual([]);
    expect(routes.bindings.map(summary)).toEqual(expected);
    expect(routes.warnings).toHaveLength(warningCount);
    for (const binding of routes.bindings) {
      expect(binding.rpc.parent.typeName).toBe("google.longrunning.Operations");
      expect(binding.body).toEqual(binding.httpMethod === "POST" ? { kind: "all" } : { kind: "none" });
    }
  });

  it("names the clash and the other package in its warnings", () => {
    expect(routesOf([CLASH]).warnings[0]?.message).toMatch(/GetOperation not routed: GET .* matches exactly the same requests as clash\.v1\.Builds\.GetBuildOperation \(clash\/v1\/clash\.proto:\d+/);
    expect(routesOf([LIBRARY, OTHER]).warnings[0]?.message).toMatch(/other\.v1\.Imports \(other\/v1\/imports\.proto:\d+\).*first configured of lro\.v1\.Library, other\.v1\.Imports/);
  });

  it("gives each route a unique constant index per method and the owner's default access rule", () => {
    const both = routesOf([LIBRARY, CLASH]).bindings;
    expect(both.filter((b) => b.rpc.name === "ListOperations").map((b) => b.bindingIndex)).toEqual([0, 1]);
    expect(both.find((b) => b.upstreamServices?.[0] === "clash.v1.Builds")?.auth).toEqual({ public: false, scopes: ["builds.read"], forwardAuthorization: false });
    expect(both.find((b) => b.upstreamServices?.[0] === "lro.v1.Library")?.auth).toBeNull();
  });

  it("derived routes point at the method they were derived from; fallback routes at operations.proto's line", () => {
    expect(routesOf([LIBRARY]).bindings[0]?.source).toMatch(/^google\/longrunning\/operations\.proto \(operations of lro\.v1\.Library, lro\/v1\/library\.proto:\d+\)$/);
    expect(routesOf([FLAT]).bindings[0]?.source).toMatch(/^google\/longrunning\/operations\.proto:\d+$/);
  });

  it("none with mode off, and none for an API without operations", () => {
    expect(routesOf([LIBRARY], { mode: "off", configs: [] }).bindings).toEqual([]);
    expect(routesOf([]).bindings).toEqual([]);
  });

  it("takes a service config's rules instead of deriving them, WaitOperation included, on its first served API's upstream", () => {
    const configs = readServiceConfigRoutes([`${OPERATIONS_FIXTURES}/service-config`]);
    const routes = routesOf([LIBRARY, OTHER], { mode: "auto", configs });
    expect(routes.problems).toEqual([]);
    expect(routes.warnings).toEqual([]);
    expect(routes.bindings.map(summary)).toEqual([
      "GET /v1/{name=projects/*/locations/*/operations/*} -> GetOperation @ lro.v1.Library",
      "GET /v1/{name=projects/*/locations/*}/operations -> ListOperations @ lro.v1.Library",
      "POST /v1/{name=projects/*/locations/*/operations/*}:wait -> WaitOperation @ lro.v1.Library",
    ]);
    expect(routes.bindings[2]?.source).toMatch(/service-config\/library_v1\.yaml:\d+$/);
  });

  it("fails on a service config rule that collides with the API's own route or is invalid", () => {
    const rule = (path: string, body = "") => ({ pattern: { case: "get" as const, value: path }, body, responseBody: "" });
    const config = {
      file: "api.yaml",
      apis: ["lro.v1.Library"],
      rules: [
        { method: "GetOperation" as const, rule: rule("/v1/{name=projects/*/locations/*/shelves/*}"), source: "api.yaml:3" },
        { method: "ListOperations" as const, rule: rule("/v1/{nam=operations}"), source: "api.yaml:5" },
        { method: "DeleteOperation" as const, rule: rule("/v1/{name=operations/*}", "*"), source: "api.yaml:7" },
      ],
    };
    const { problems } = routesOf([LIBRARY], { mode: "auto", configs: [config] });
    expect(problems.map((p) => `${p.source}: ${p.message}`)).toEqual([
      expect.stringMatching(/^api\.yaml:3: google\.longrunning\.Operations\.GetOperation: GET .* matches exactly the same requests as lro\.v1\.Library\.GetShelf/),
      expect.stringMatching(/^api\.yaml:5: google\.longrunning\.Operations\.ListOperations: path variable \{nam\}: "nam" is not a field of google\.longrunning\.ListOperationsRequest/),
      "api.yaml:7: google.longrunning.Operations.DeleteOperation: a GET rule cannot have a body",
    ]);
  });
});

describe("the plugin with operation routes", () => {
  it("writes them into google/longrunning/operations.routes.js and openapi.json, which lints clean", () => {
    const files = new Map(generate(fixtures.request([LIBRARY], operationsParameter(AUTO))).map((f) => [f.name, f.content]));
    const table = files.get("google/longrunning/operations.routes.js") ?? "";
    for (const name of ["Operations_GetOperation", "Operations_ListOperations", "Operations_CancelOperation", "Operations_DeleteOperation"]) {
      expect(table).toContain(`export const ${name} = {`);
    }
    expect(table.match(/upstreamServices: \["lro\.v1\.Library"\],/g)).toHaveLength(4);
    expect(files.get("index.js")).toContain(`from "./google/longrunning/operations.routes.js"`);
    // The API's own route table does not borrow an upstream.
    expect(files.get("lro/v1/library.routes.js")).not.toContain("upstreamService");

    // Found wherever the document puts them: GET /v1/{name} is also the API's GetShelf.
    const text = files.get("openapi.json") ?? "{}";
    const ids = [...text.matchAll(/"operationId": "(Operations_\w+)"/g)].map((m) => m[1]).sort();
    expect(ids).toEqual(["Operations_CancelOperation", "Operations_DeleteOperation", "Operations_GetOperation", "Operations_ListOperations"]);
    const openApi = JSON.parse(text) as { tags: Array<{ name: string }>; components: { schemas: Record<string, unknown> } };
    expect(openApi.tags.map((t) => t.name)).toContain("Operations");
    expect(Object.keys(openApi.components.schemas)).toEqual(expect.arrayContaining(["google.longrunning.Operation", "google.longrunning.ListOperationsResponse"]));
    expect(lintOpenApi31(openApi)).toEqual([]);
  });

  it("writes none with --no-operations, and never serves operations.proto's own rules as the API's", () => {
    const off = generate(fixtures.request([LIBRARY], operationsParameter({ mode: "off", configs: [] }))).map((f) => f.name);
    expect(off).not.toContain("google/longrunning/operations.routes.js");
    const openApi = generate(fixtures.request([LIBRARY], operationsParameter(AUTO))).find((f) => f.name === "openapi.json")?.content ?? "";
    expect(openApi).not.toContain("operations/**");
  });

  it("--exclude drops operation routes by name, and an --include of the API keeps them", () => {
    const routesWith = (include: string[], exclude: string[]) => {
      const parameter = `${operationsParameter(AUTO)},selection=${encodePatterns({ include, exclude })}`;
      const table = generate(fixtures.request([LIBRARY], parameter)).find((f) => f.name === "google/longrunning/operations.routes.js")?.content ?? "";
      return [...table.matchAll(/^export const (Operations_\w+) = \{/gm)].map((m) => m[1]).sort();
    };
    const all = ["Operations_CancelOperation", "Operations_DeleteOperation", "Operations_GetOperation", "Operations_ListOperations"];
    expect(routesWith(["lro.v1.**"], [])).toEqual(all);
    expect(routesWith([], ["google.longrunning.Operations.DeleteOperation"])).toEqual(all.filter((name) => name !== "Operations_DeleteOperation"));
    expect(routesWith([], ["google.longrunning.Operations"])).toEqual([]);
  });

  it("reads its options back from the plugin parameter, among other options", () => {
    const options: OperationsOptions = { mode: "auto", configs: readServiceConfigRoutes([`${OPERATIONS_FIXTURES}/service-config`]) };
    expect(parsePluginParameters(`report=r.json,${operationsParameter(options)},openapi_title=T`).operations).toEqual(options);
    expect(parsePluginParameters("").operations).toEqual(AUTO);
    expect(OPERATIONS_PROTO).toBe("google/longrunning/operations.proto");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonSchema, OpenApiDocument } from "../../codegen/openapi/openapi-types.js";
import type { RunningGateway } from "../../src/app.js";
import { DASHBOARD_AGGREGATE } from "../../src/demo/dashboard-aggregate.js";
import { lintOpenApi31 } from "../codegen/openapi/openapi-lint.js";
import { redoclyLint } from "../codegen/openapi/redocly-lint.js";
import { send, startTestGateway } from "./support/gateway-harness.js";

/** The served /openapi.json with aggregate routes merged in (built at start from gateway.yaml's aggregates). */
describe("aggregate routes in the served OpenAPI document", () => {
  let gateway: RunningGateway;
  let document: OpenApiDocument;
  const publicSearch = {
    name: "publicSearch",
    path: "/api/search/{userId}",
    auth: { public: true },
    calls: {
      user: { rpc: "demo.v1.UserService.GetUser", request: { user_id: { path: "userId" } } },
      recommendations: {
        rpc: "demo.v1.RecommendationService.ListRecommendations",
        request: { user_id: { path: "userId" }, region: { query: "region" }, page_size: { query: "limit" } },
        onError: "partial",
      },
    },
  };
  const failOnly = {
    name: "failOnly",
    path: "/api/fail-only/{userId}",
    calls: {
      user: { rpc: "demo.v1.UserService.GetUser", request: { user_id: { path: "userId" } }, hidden: true },
      recommendations: { rpc: "demo.v1.RecommendationService.ListRecommendations", request: { user_id: { path: "userId" }, region: { from: "user.region" } } },
    },
  };
  const scoped = { ...DASHBOARD_AGGREGATE, name: "scopedDashboard", path: "/api/scoped/{userId}", auth: { scopes: ["dashboard:read"] } };

  beforeAll(async () => {
    gateway = await startTestGateway({}, { docs: { enabled: true }, aggregates: [DASHBOARD_AGGREGATE, publicSearch, scoped, failOnly] });
    document = (await send(gateway.url, "GET", "/openapi.json")).json as OpenApiDocument;
  });
  afterAll(() => gateway?.close());

  it("is a valid OpenAPI 3.1 document (the codegen tests' structural check and Redocly's recommended-strict)", async () => {
    expect(lintOpenApi31(document)).toEqual([]);
    expect(await redoclyLint(document)).toEqual([]);
  });

  it("keeps every generated path, and adds a GET operation per aggregate with its path and query parameters and fields", () => {
    expect(document.paths["/v1/users/{user_id}"]?.get?.operationId).toBe("UserService_GetUser");
    const dashboard = document.paths["/api/mobile/dashboard/{userId}"]?.get;
    expect(dashboard).toMatchObject({ operationId: "Aggregate_mobileDashboard", tags: ["Aggregates"], "x-protogate-rpc": "/aggregate/mobileDashboard" });
    expect(dashboard?.parameters?.map((p) => [p.in, p.name])).toEqual([
      ["path", "userId"],
      ["query", "fields"],
    ]);
    const search = document.paths["/api/search/{userId}"]?.get;
    expect(search?.parameters?.map((p) => [p.in, p.name, p.schema])).toEqual([
      ["path", "userId", { type: "string" }],
      ["query", "region", { type: "string" }],
      ["query", "limit", { type: "string" }],
      ["query", "fields", { type: "string" }],
    ]);
  });

  it("security as a method's: public is [] (no 401/403), scopes go on the bearer scheme", () => {
    const search = document.paths["/api/search/{userId}"]!.get!;
    expect(search.security).toEqual([]);
    expect(Object.keys(search.responses).sort()).toEqual(["200", "default"]);
    const scopedOperation = document.paths["/api/scoped/{userId}"]!.get!;
    expect(scopedOperation.security).toEqual([{ bearerAuth: ["dashboard:read"] }, { apiKeyAuth: [] }]);
    expect(Object.keys(scopedOperation.responses).sort()).toEqual(["200", "401", "403", "default"]);
    expect(scopedOperation.responses["403"]!.description).toMatch(/dashboard:read/);
    expect(scopedOperation.responses.default!.content!["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/google.rpc.Status" });
  });

  it("the 200 schema: selected subsets derived from the component schemas (renames included), whole responses by $ref, errors when a call is partial", () => {
    const schema = document.paths["/api/mobile/dashboard/{userId}"]!.get!.responses["200"]!.content!["application/json"]!.schema as JsonSchema;
    const components = document.components.schemas;
    const user = schema.properties!.user!;
    expect(Object.keys(user.properties!)).toEqual(["userId", "name", "region"]);
    expect(user.properties!.name).toEqual(components["demo.v1.User"]!.properties!.displayName);
    const orders = schema.properties!.orders!.properties!.orders!;
    expect(orders.type).toBe("array");
    expect(Object.keys(orders.items!.properties!)).toEqual(["name", "state", "total", "createTime"]);
    expect(orders.items!.properties!.total).toEqual(components["demo.v1.Order"]!.properties!.total);
    const recommendation = schema.properties!.recommendations!.properties!.recommendations!.items!;
    expect(Object.keys(recommendation.properties!)).toEqual(["id", "title"]);
    expect(schema.properties!.errors).toMatchObject({ type: "object", additionalProperties: { $ref: "#/components/schemas/google.rpc.Status" } });

    const search = document.paths["/api/search/{userId}"]!.get!.responses["200"]!.content!["application/json"]!.schema as JsonSchema;
    expect(search.properties!.user).toEqual({ $ref: "#/components/schemas/demo.v1.User" });
    expect(search.properties!.recommendations).toEqual({ $ref: "#/components/schemas/demo.v1.ListRecommendationsResponse" });
    expect(search.properties!.errors).toBeDefined();
  });

  it("no errors key when no call is partial; a hidden call is not in the answer", () => {
    const schema = document.paths["/api/fail-only/{userId}"]!.get!.responses["200"]!.content!["application/json"]!.schema as JsonSchema;
    expect(Object.keys(schema.properties!)).toEqual(["recommendations"]);
  });
});

describe("an aggregate on the docs' paths is refused at start, naming both", () => {
  const userCall = { user: { rpc: "demo.v1.UserService.GetUser", request: { user_id: { const: "u-1" } } } };
  it.each<[string, Record<string, unknown>, string]>([
    ["the page", { path: "/docs" }, 'docs.path /docs is matched by GET /docs (aggregate "clash", gateway.yaml aggregates)'],
    ["the document", { path: "/openapi.json" }, 'docs.openApiPath /openapi.json is matched by GET /openapi.json (aggregate "clash", gateway.yaml aggregates)'],
    ["an asset, through a variable", { path: "/docs/assets/{file}" }, 'docs.path /docs/assets/swagger-ui-bundle.js is matched by GET /docs/assets/{file} (aggregate "clash"'],
    ["a moved document path", { path: "/api/spec" }, 'docs.openApiPath /api/spec is matched by GET /api/spec (aggregate "clash"'],
  ])("%s", async (_name, aggregate, message) => {
    const docs = aggregate.path === "/api/spec" ? { enabled: true, openApiPath: "/api/spec" } : { enabled: true };
    const started = startTestGateway({}, { docs, aggregates: [{ name: "clash", calls: userCall, ...aggregate }] });
    await expect(started).rejects.toThrow(message);
    await expect(started).rejects.toThrow(/set docs\.path \/ docs\.openApiPath to paths no route matches, or turn the docs off/);
  });
});

import { describe, expect, it } from "vitest";
import { createAuthorizer } from "../../src/auth/authorize.js";
import { configSchema } from "../../src/config/schema.js";
import { selectorSpecificity } from "../../src/config/selector.js";
import { BoundedCache } from "../../src/graphql/graphql-http-handler.js";

describe("graphql: in gateway.yaml", () => {
  it("is off by default, with the documented defaults", () => {
    expect(configSchema.parse({}).graphql).toEqual({
      enabled: false,
      path: "/graphql",
      introspection: true,
      auth: { public: false, scopes: [] },
      maxDepth: 10,
      maxComplexity: 1000,
      defaultListSize: 10,
      maxRpcCalls: 50,
      maxQueryBytes: 65536,
      documentCacheSize: 1000,
      graphiql: false,
      graphiqlPath: "/graphiql",
      federation: false,
      connectionInitTimeoutMs: 3000,
      joins: [],
    });
  });

  it.each([
    { name: "an unknown key", graphql: { enabled: true, playground: true } },
    { name: "the GraphiQL page without the endpoint", graphql: { graphiql: true } },
    { name: "the GraphiQL page on the endpoint's path", graphql: { enabled: true, graphiql: true, graphiqlPath: "/graphql" } },
    { name: "a path without a slash", graphql: { path: "graphql" } },
    { name: "a trailing slash", graphql: { path: "/graphql/" } },
    { name: "a public rule with scopes", graphql: { auth: { public: true, scopes: ["a"] } } },
    { name: "a zero limit", graphql: { maxRpcCalls: 0 } },
    { name: "a join with an unknown key", graphql: { joins: [{ field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder", extra: 1 }] } },
  ])("refuses $name", ({ graphql }) => {
    expect(configSchema.safeParse({ graphql }).success).toBe(false);
  });

  it("takes joins and limits", () => {
    const parsed = configSchema.parse({ graphql: { enabled: true, maxDepth: 4, joins: [{ field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder", requestField: "name" }] } }).graphql;
    expect(parsed.maxDepth).toBe(4);
    expect(parsed.joins).toHaveLength(1);
  });
});

describe("the document cache", () => {
  it("keeps at most its capacity, dropping the least recently used", () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.size).toBe(2);
  });

  it("keeps nothing at capacity 0", () => {
    const cache = new BoundedCache<string, number>(0);
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
  });
});

describe("the selector graphql", () => {
  it("names the endpoint (service graphql, no method) in rate limits, deadlines and auth rules", () => {
    expect(selectorSpecificity("graphql", "graphql", "")).toBe(3);
    expect(selectorSpecificity("graphql.*", "graphql", "")).toBe(2);
    expect(selectorSpecificity("*", "graphql", "")).toBe(1);
    expect(selectorSpecificity("graphql", "demo.v1.UserService", "GetUser")).toBe(0);
    expect(selectorSpecificity("demo.v1.UserService.GetUser", "demo.v1.UserService", "GetUser")).toBe(3);
    const { auth } = configSchema.parse({ auth: { rules: [{ selector: "graphql", scopes: ["graph:read"] }] } });
    const rule = createAuthorizer(auth.rules).effectiveRule("graphql", "", { public: false, scopes: [], forwardAuthorization: false });
    expect(rule).toMatchObject({ public: false, scopes: ["graph:read"] });
  });
});

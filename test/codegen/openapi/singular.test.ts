import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { singularName } from "../../../codegen/openapi/singular.js";

describe("singularName (path parameter names from collection literals)", () => {
  it.each([
    ["projects", "project"],
    ["locations", "location"],
    ["services", "service"],
    ["policies", "policy"],
    ["repositories", "repository"],
    ["keys", "key"],
    ["addresses", "address"],
    ["indexes", "index"],
    ["batches", "batch"],
    ["databases", "database"],
    ["releases", "release"],
    ["people", "person"],
    ["shelves", "shelf"],
    ["valves", "valve"],
    ["statuses", "status"],
    ["analyses", "analysis"],
    ["series", "series"],
    ["data", "data"],
    ["status", "status"],
    ["workerPools", "workerPool"],
    ["WorkerPools", "WorkerPool"],
    ["worker_pools", "worker_pool"],
    ["worker-pools", "worker_pool"],
    ["dataStores", "dataStore"],
    ["IDs", "ID"],
    ["API", "API"],
    ["v1", "v1"],
    ["a.b", "a_b"],
    ["-", undefined],
    ["123", undefined],
    ["", undefined],
  ])("%s -> %s", (literal, expected) => {
    expect(singularName(literal)).toBe(expected);
  });

  it("always gives an identifier, or undefined", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (literal) => {
        const name = singularName(literal);
        if (name !== undefined) expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      }),
    );
  });
});

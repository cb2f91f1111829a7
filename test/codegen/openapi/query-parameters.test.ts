import type { FileRegistry } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import type { CodegenBinding } from "../../../codegen/model.js";
import { DEFAULT_QUERY_LIMITS, queryParameters, type QueryLimits } from "../../../codegen/openapi/query-parameters.js";
import { createSchemaRegistry } from "../../../codegen/openapi/schema-registry.js";
import { binding, buildTestRegistry, lit, star, tpl, variable } from "./support.js";

let registry: FileRegistry;
let search: CodegenBinding;

beforeAll(() => {
  registry = buildTestRegistry();
  search = binding(registry, { rpc: "edge.v1.EdgeService.Search", httpMethod: "GET", pattern: "/v1/search", template: tpl([lit("v1"), lit("search")]) });
});

const names = (b: CodegenBinding, limits?: QueryLimits) => {
  const result = queryParameters(b, createSchemaRegistry(), limits);
  return { names: result.parameters.map((p) => p.name), truncated: result.truncated };
};

describe("queryParameters limits", () => {
  it("follows every non-recursive message field within the default limits", () => {
    const result = names(search);
    expect(result.truncated).toBe(false);
    expect(result.names).toContain("parent");
    expect(result.names).toContain("filter.inner.score");
    // Filter.parent is a Filter: following it would never end.
    expect(result.names.some((n) => n.startsWith("filter.parent"))).toBe(false);
  });

  it.each<[string, Partial<QueryLimits>, (names: string[]) => void]>([
    ["depth", { maxDepth: 1 }, (n) => {
      expect(n).toContain("filter.name");
      expect(n).not.toContain("filter.inner.score");
    }],
    ["parameter count", { maxParameters: 3 }, (n) => expect(n).toEqual(["parent", "filter.name", "filter.kind"])],
    ["visited fields", { maxFieldsVisited: 2 }, (n) => expect(n).toEqual(["parent"])],
  ])("marks the list truncated when the %s limit cuts it", (_what, limits, check) => {
    const result = names(search, { ...DEFAULT_QUERY_LIMITS, ...limits });
    expect(result.truncated).toBe(true);
    check(result.names);
  });

  it("leaves out path-bound fields, leaves reached by longer path variables, and the body field", () => {
    const bound = binding(registry, {
      rpc: "edge.v1.EdgeService.Search",
      httpMethod: "POST",
      pattern: "/v1/{parent}/{filter.name}/{since.seconds}",
      template: tpl([lit("v1"), star, star, star], [variable("parent", 1, 2), variable("filter.name", 2, 3), variable("since.seconds", 3, 4)]),
      body: { kind: "field", fieldPath: ["labels"] },
    });
    const result = names(bound).names;
    expect(result).not.toContain("parent");
    expect(result).not.toContain("filter.name");
    expect(result).not.toContain("since");
    expect(result).not.toContain("labels");
    expect(result).toContain("filter.kind");
    expect(result).toContain("pageSize");
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assignNames, isGraphqlName, localTypeName, lowerCamel, pascalPackage, type NameRequest } from "../../../codegen/graphql/names.js";

describe("lowerCamel", () => {
  it.each([
    ["GetUser", "getUser"],
    ["URLFetch", "urlFetch"],
    ["ABC", "abc"],
    ["A", "a"],
    ["getUser", "getUser"],
    ["Get2FACode", "get2FACode"],
    ["BatchGetURLs", "batchGetURLs"],
    ["", ""],
  ])("%s -> %s", (name, expected) => {
    expect(lowerCamel(name)).toBe(expected);
  });
});

describe("names from proto names", () => {
  it.each([
    ["demo.v1", "DemoV1"],
    ["google.cloud.run.v2", "GoogleCloudRunV2"],
    ["my_pkg.v1beta", "MyPkgV1beta"],
    ["", ""],
  ])("package %s -> %s", (pkg, expected) => {
    expect(pascalPackage(pkg)).toBe(expected);
  });

  it.each([
    ["demo.v1.User", "demo.v1", "User"],
    ["demo.v1.Order.Item", "demo.v1", "Order_Item"],
    ["Top", "", "Top"],
  ])("type %s in %s -> %s", (typeName, pkg, expected) => {
    expect(localTypeName(typeName, pkg)).toBe(expected);
  });

  it.each([
    ["user", true],
    ["_x1", true],
    ["__typename", false],
    ["1st", false],
    ["@type", false],
    ["a-b", false],
  ])("%s is a GraphQL name: %s", (name, expected) => {
    expect(isGraphqlName(name)).toBe(expected);
  });
});

const req = (key: string, ...candidates: string[][]): NameRequest => ({ key, candidates });

describe("assignNames", () => {
  it("gives each request its first candidate when nobody else wants it", () => {
    const { names, clashes } = assignNames([req("a", ["User", "UserInput"]), req("b", ["Order", "OrderInput"])], new Set());
    expect([...names]).toEqual([
      ["a", "User"],
      ["b", "Order"],
    ]);
    expect(clashes).toEqual([]);
  });

  it("qualifies every request of a clash, not all but the first", () => {
    const { names } = assignNames([req("demo", ["User"], ["DemoV1User"]), req("edge", ["User"], ["EdgeV1User"]), req("order", ["Order"], ["DemoV1Order"])], new Set());
    expect(Object.fromEntries(names)).toEqual({ demo: "DemoV1User", edge: "EdgeV1User", order: "Order" });
  });

  it("treats a clash of any name of a candidate (an input name) as a clash of the request", () => {
    const { names } = assignNames([req("book", ["Book", "BookInput"], ["PBook", "PBookInput"]), req("bookInput", ["BookInput", "BookInputInput"], ["PBookInput2", "X"])], new Set());
    expect(Object.fromEntries(names)).toEqual({ book: "PBook", bookInput: "PBookInput2" });
  });

  it("never gives a reserved name, nor a name contested in an earlier round", () => {
    // Round 1: X is contested, c takes Y; round 2: Y is given, so a moves on again; round 3: A2.
    const { names } = assignNames([req("query", ["Query"], ["DemoV1Query"]), req("a", ["X"], ["Y"], ["A2"]), req("b", ["X"], ["Z"]), req("c", ["Y"], ["C"])], new Set(["Query"]));
    expect(Object.fromEntries(names)).toEqual({ query: "DemoV1Query", a: "A2", b: "Z", c: "Y" });
  });

  it("reports requests left without a name, and clashing explicit names with every key", () => {
    const { names, clashes } = assignNames(
      [req("a", ["X"]), req("b", ["X"]), { key: "e1", candidates: [["thing"]], explicit: true }, { key: "e2", candidates: [["thing"]], explicit: true }, req("c", ["thing"], ["c2"])],
      new Set(),
    );
    expect(Object.fromEntries(names)).toEqual({ c: "c2" });
    expect(clashes).toEqual([
      { keys: ["a"], name: "X" },
      { keys: ["b"], name: "X" },
      { keys: ["e1", "e2"], name: "thing" },
    ]);
  });

  it("does not depend on the order of the requests (property)", () => {
    const name = fc.constantFrom("A", "B", "C", "D", "AInput", "BInput");
    const request = fc.array(fc.array(name, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 6 }), fc.infiniteStream(fc.nat()), (candidateLists, random) => {
        const requests = candidateLists.map((candidates, i) => req(`k${i}`, ...candidates));
        const shuffled = [...requests];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (random.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        const a = assignNames(requests, new Set(["D"]));
        const b = assignNames(shuffled, new Set(["D"]));
        expect(new Map([...b.names].sort())).toEqual(new Map([...a.names].sort()));
        expect(b.clashes).toEqual(a.clashes);
        // Every name is given once.
        expect(new Set(a.names.values()).size).toBe(a.names.size);
      }),
    );
  });
});

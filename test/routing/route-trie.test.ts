import { describe, expect, it } from "vitest";
import { createTrieNode, findRoute, insertRoute, type TrieNode, type WalkStats } from "../../src/routing/route-trie.js";
import type { TemplateSegment } from "../../src/routing/template.js";

const lit = (value: string): TemplateSegment => ({ kind: "literal", value });
const star: TemplateSegment = { kind: "wildcard" };
const deep: TemplateSegment = { kind: "deepWildcard" };

/** `count` resources, each with a list, a get and a nested `**` route, plus catch-alls. */
function buildTrie(count: number): TrieNode<string> {
  const root = createTrieNode<string>();
  for (let i = 0; i < count; i++) {
    insertRoute(root, [lit("v1"), lit(`res${i}`)], `list${i}`);
    insertRoute(root, [lit("v1"), lit(`res${i}`), star], `get${i}`);
    insertRoute(root, [lit("v1"), lit(`res${i}`), star, lit("items"), deep], `items${i}`);
  }
  // Catch-alls that force backtracking at every level.
  insertRoute(root, [lit("v1"), star, star, lit("other")], "other");
  insertRoute(root, [deep], "fallback");
  return root;
}

function visits(root: TrieNode<string>, segments: string[]): { found: string | undefined; visits: number } {
  const stats: WalkStats = { visits: 0 };
  const found = findRoute(root, segments, stats);
  return { found, visits: stats.visits };
}

describe("route trie", () => {
  const small = buildTrie(10);
  const large = buildTrie(10_000);

  it.each([
    [["v1", "res7"], "list7"],
    [["v1", "res7", "42"], "get7"],
    [["v1", "res7", "42", "items"], "items7"],
    [["v1", "res7", "42", "items", "a", "b"], "items7"],
    [["v1", "res7", "42", "other"], "other"],
    [["v1", "nope", "42", "other"], "other"],
    [["v1", "res7", "42", "nope"], "fallback"],
    [["x"], "fallback"],
    [[], "fallback"],
  ])("%j visits the same nodes with 10 or 10,000 resources", (segments, expected) => {
    const a = visits(small, segments);
    const b = visits(large, segments);
    expect(a.found).toBe(expected);
    expect(b.found).toBe(expected);
    expect(b.visits).toBe(a.visits);
    // Bounded by the path: at most a literal branch, a wildcard branch and a `**` tail per
    // segment, plus the root.
    expect(b.visits).toBeLessThanOrEqual(3 * segments.length + 2);
  });

  it("shares prefixes: one node per distinct literal, not per route", () => {
    const v1 = large.literals.get("v1")!;
    expect(large.literals.size).toBe(1);
    expect(v1.literals.size).toBe(10_000);
    expect(v1.literals.get("res5")!.wildcard!.literals.size).toBe(1);
  });

  it("reports the route already stored for a duplicate shape and keeps it", () => {
    const root = createTrieNode<string>();
    expect(insertRoute(root, [lit("a"), star], "first")).toBeUndefined();
    expect(insertRoute(root, [lit("a"), star], "second")).toBe("first");
    expect(insertRoute(root, [lit("a"), deep], "deep1")).toBeUndefined();
    expect(insertRoute(root, [lit("a"), deep], "deep2")).toBe("deep1");
    expect(findRoute(root, ["a", "x"])).toBe("first");
  });

  it("rejects a second '**'", () => {
    expect(() => insertRoute(createTrieNode<string>(), [deep, lit("a"), deep], "x")).toThrow(/only once/);
  });

  it("matches segments after '**' at the end of the path, the longer tail first", () => {
    const root = createTrieNode<string>();
    insertRoute(root, [lit("docs"), deep, lit("meta")], "meta");
    insertRoute(root, [lit("docs"), deep, star, lit("meta")], "longer tail");
    insertRoute(root, [lit("docs"), deep], "rest");
    expect(findRoute(root, ["docs", "a", "b", "meta"])).toBe("longer tail");
    expect(findRoute(root, ["docs", "meta"])).toBe("meta");
    expect(findRoute(root, ["docs", "a", "meta", "x"])).toBe("rest");
    expect(findRoute(root, ["docs"])).toBe("rest");
  });

  it("bounds the work of a '**' by its distinct tail lengths, not by its routes", () => {
    const root = createTrieNode<string>();
    for (let i = 0; i < 1000; i++) insertRoute(root, [lit("v1"), deep, lit(`leaf${i}`)], `leaf${i}`);
    const stats = { visits: 0 };
    expect(findRoute(root, ["v1", "a", "b", "c", "leaf999"], stats)).toBe("leaf999");
    expect(stats.visits).toBe(4); // root, v1, the tail's root, the leaf
  });
});

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
    // Bounded by the path: at most a literal and a wildcard branch per segment, plus the root.
    expect(b.visits).toBeLessThanOrEqual(2 * segments.length + 1);
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

  it("rejects '**' before the last segment", () => {
    expect(() => insertRoute(createTrieNode<string>(), [deep, lit("a")], "x")).toThrow(/last segment/);
  });
});

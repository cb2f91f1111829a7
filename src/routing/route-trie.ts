import type { TemplateSegment } from "./template.js";

/**
 * One node of the routing trie. A node at depth d is only ever reached after consuming d path
 * segments. Matching visits each node at most once per way of reaching it; only a `**` followed
 * by more segments adds choices, one per distinct tail length under it (never one per route), so
 * the cost stays bounded by the path's segment count, not by the number of routes.
 */
export interface TrieNode<R> {
  /** Children for literal segments, keyed by the decoded literal. */
  readonly literals: Map<string, TrieNode<R>>;
  /** Child for a `*` segment. */
  wildcard: TrieNode<R> | undefined;
  /** The route whose template ends at this node. */
  end: R | undefined;
  /**
   * Templates with `**` here: one sub-trie per number of segments after the `**` (its tail),
   * longest tail first. The `**` takes whatever the tail leaves, so the tail is matched against
   * the last segments of the path; a tail of 0 is a template ending in `**`.
   */
  deep: Array<DeepTail<R>> | undefined;
}

/** The templates under one `**` whose tails have `length` segments. */
export interface DeepTail<R> {
  readonly length: number;
  readonly root: TrieNode<R>;
}

/** Counts node visits of `findRoute`, so tests can check the lookup cost without timing. */
export interface WalkStats {
  visits: number;
}

/** An empty trie (its root). */
export function createTrieNode<R>(): TrieNode<R> {
  return { literals: new Map(), wildcard: undefined, end: undefined, deep: undefined };
}

/**
 * Adds a route under `segments` (at most one `**`). Returns the route already stored there when
 * another template of the same shape was inserted before (the new one is then not stored).
 */
export function insertRoute<R>(root: TrieNode<R>, segments: readonly TemplateSegment[], route: R): R | undefined {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === "deepWildcard") {
      const tail = segments.slice(i + 1);
      if (tail.some((s) => s.kind === "deepWildcard")) throw new Error("'**' may appear only once in a template");
      node.deep ??= [];
      let group = node.deep.find((g) => g.length === tail.length);
      if (group === undefined) {
        group = { length: tail.length, root: createTrieNode<R>() };
        node.deep.push(group);
        node.deep.sort((a, b) => b.length - a.length);
      }
      return insertRoute(group.root, tail, route);
    }
    if (segment.kind === "wildcard") {
      node.wildcard ??= createTrieNode<R>();
      node = node.wildcard;
    } else {
      let child = node.literals.get(segment.value);
      if (child === undefined) {
        child = createTrieNode<R>();
        node.literals.set(segment.value, child);
      }
      node = child;
    }
  }
  if (node.end !== undefined) return node.end;
  node.end = route;
  return undefined;
}

/**
 * The most specific route matching the decoded, non-empty `segments`: depth-first, trying at
 * each position the literal child, then `*`, then `**`; at the end of the path a template that
 * ends there beats a `**` matching zero segments. This order makes the first match found the
 * best one under "compare left to right: literal > `*` > `**`". Among templates that agree up to
 * a `**`, the one with the longer tail wins (its `**` takes fewer segments, more of the path is
 * matched by named segments).
 */
export function findRoute<R>(root: TrieNode<R>, segments: readonly string[], stats?: WalkStats): R | undefined {
  return walk(root, segments, 0, stats);
}

function walk<R>(node: TrieNode<R>, segments: readonly string[], index: number, stats: WalkStats | undefined): R | undefined {
  if (stats !== undefined) stats.visits++;
  if (index === segments.length && node.end !== undefined) return node.end;
  if (index < segments.length) {
    if (node.literals.size > 0) {
      const child = node.literals.get(segments[index]);
      if (child !== undefined) {
        const found = walk(child, segments, index + 1, stats);
        if (found !== undefined) return found;
      }
    }
    if (node.wildcard !== undefined) {
      const found = walk(node.wildcard, segments, index + 1, stats);
      if (found !== undefined) return found;
    }
  }
  if (node.deep !== undefined) {
    const left = segments.length - index;
    for (const tail of node.deep) {
      if (tail.length > left) continue;
      // The tail has no `**`: it matches the last `tail.length` segments exactly or not at all.
      const found = walk(tail.root, segments, segments.length - tail.length, stats);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

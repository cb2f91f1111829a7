import type { TemplateSegment } from "./template.js";

/**
 * One node of the routing trie. A node at depth d is only ever reached after consuming d path
 * segments, so a lookup visits each node at most once: its cost is bounded by the path's
 * segment count and the branching of matching nodes, never by the number of routes.
 */
export interface TrieNode<R> {
  /** Children for literal segments, keyed by the decoded literal. */
  readonly literals: Map<string, TrieNode<R>>;
  /** Child for a `*` segment. */
  wildcard: TrieNode<R> | undefined;
  /** The route whose template ends at this node. */
  end: R | undefined;
  /** The route whose template has `**` here (it is always the last segment). */
  deep: R | undefined;
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
 * Adds a route under `segments` (`**` only last). Returns the route already stored there when
 * another template of the same shape was inserted before (the new one is then not stored).
 */
export function insertRoute<R>(root: TrieNode<R>, segments: readonly TemplateSegment[], route: R): R | undefined {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === "deepWildcard") {
      if (i !== segments.length - 1) throw new Error("'**' must be the last segment of a template");
      if (node.deep !== undefined) return node.deep;
      node.deep = route;
      return undefined;
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
 * best one under "compare left to right: literal > `*` > `**`".
 */
export function findRoute<R>(root: TrieNode<R>, segments: readonly string[], stats?: WalkStats): R | undefined {
  return walk(root, segments, 0, stats);
}

function walk<R>(node: TrieNode<R>, segments: readonly string[], index: number, stats: WalkStats | undefined): R | undefined {
  if (stats !== undefined) stats.visits++;
  if (index === segments.length) return node.end ?? node.deep;
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
  return node.deep;
}

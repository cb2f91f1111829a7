/**
 * The compiled form of a `google.api.http` path template. Codegen parses each template once and
 * emits this as plain data; the router builds its trie from it at start-up.
 */
export type TemplateSegment =
  /** Matches exactly this (percent-decoded) segment. */
  | { readonly kind: "literal"; readonly value: string }
  /** `*`: exactly one non-empty segment. */
  | { readonly kind: "wildcard" }
  /** `**`: zero or more segments; at most one per template, possibly followed by more segments. */
  | { readonly kind: "deepWildcard" };

/** A `{field.path=...}` variable: binds segments [start, end) to a request field. */
export interface TemplateVariable {
  /** Proto field names from the request message down, e.g. ["user", "user_id"]. */
  readonly fieldPath: readonly string[];
  /** Index of the first segment the variable covers. */
  readonly start: number;
  /** Exclusive end index (a template index: with a `**` inside, the variable covers as many path segments as the `**` takes). */
  readonly end: number;
}

export interface PathTemplate {
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  /** The custom verb after the final `:`, or null. */
  readonly verb: string | null;
}

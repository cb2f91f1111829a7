import type { PathTemplate } from "../../src/routing/template.js";
import { encodeLiteral } from "../../src/routing/template-literal.js";

/**
 * Where an API's operations are named, read off the path of a method that returns one:
 * `/v2/{parent=projects/*\/locations/*}/services` has the prefix `v2` and the collections
 * `projects`, `locations`, so its operations are `projects/*\/locations/*\/operations/*` under
 * `/v2` (Google's convention: Cloud Run v2, Firestore's `projects/*\/databases/*`, ...).
 */
export interface OperationScope {
  /** Literal segments before the first collection, e.g. `["v2"]` (decoded). */
  readonly prefix: readonly string[];
  /** The collection ids of the scope's `collection/*` pairs, e.g. `["projects", "locations"]` (decoded). */
  readonly collections: readonly string[];
}

/**
 * The scope depth: two `collection/*` pairs (`projects/*\/locations/*`, `projects/*\/databases/*`)
 * is where Google's APIs keep their operations; a deeper resource's operations still live there.
 */
export const MAX_SCOPE_COLLECTIONS = 2;

/** An API version segment (`v1`, `v2beta1`, `v1p1alpha`): part of the prefix even before a `*` (`/v1/{name=*}`). */
const API_VERSION = /^v\d+[a-z0-9]*$/;

/** The collection id that names operations themselves: a scope never reaches into it. */
const OPERATIONS_COLLECTION = "operations";

/**
 * The operation scope of one route, or undefined when its path has no `collection/*` pair after
 * its literal prefix (such as `/v1/things:batchCreate` or `/v1/{name=**}`). Variables do not matter,
 * only the shape: `/v1/projects/{project}/builds` and `/v1/{parent=projects/*}/builds` agree.
 */
export function operationScopeOf(template: PathTemplate): OperationScope | undefined {
  const { segments } = template;
  const isPairAt = (i: number) => {
    const head = segments[i];
    return head?.kind === "literal" && head.value !== OPERATIONS_COLLECTION && segments[i + 1]?.kind === "wildcard";
  };
  const isVersionAt = (i: number) => {
    const segment = segments[i];
    return segment?.kind === "literal" && API_VERSION.test(segment.value);
  };
  const prefix: string[] = [];
  let i = 0;
  for (; i < segments.length && (!isPairAt(i) || isVersionAt(i)); i++) {
    const segment = segments[i];
    if (segment.kind !== "literal") return undefined;
    prefix.push(segment.value);
  }
  const collections: string[] = [];
  for (; collections.length < MAX_SCOPE_COLLECTIONS && isPairAt(i); i += 2) {
    const head = segments[i];
    if (head.kind === "literal") collections.push(head.value);
  }
  return collections.length === 0 ? undefined : { prefix, collections };
}

/** A stable key: scopes with equal keys name the same operations. */
export function scopeKey(scope: OperationScope): string {
  return `${scope.prefix.map(encodeLiteral).join("/")}|${scope.collections.map(encodeLiteral).join("/")}`;
}

/** The four standard routes of a scope, as HttpRule paths (GetOperation, ListOperations, CancelOperation, DeleteOperation). */
export interface ScopeRoutes {
  /** `/v2/{name=projects/*\/locations/*\/operations/*}`: GetOperation (GET), DeleteOperation (DELETE). */
  readonly operation: string;
  /** `/v2/{name=projects/*\/locations/*}/operations`: ListOperations (GET). */
  readonly collection: string;
  /** `/v2/{name=projects/*\/locations/*\/operations/*}:cancel`: CancelOperation (POST). */
  readonly cancel: string;
}

/** The route paths of a scope's operations, as Google's service configs write them. */
export function scopeRoutes(scope: OperationScope): ScopeRoutes {
  const prefix = scope.prefix.map((literal) => `/${encodeLiteral(literal)}`).join("");
  const parent = scope.collections.map((collection) => `${encodeLiteral(collection)}/*`).join("/");
  const operation = `${prefix}/{name=${parent}/${OPERATIONS_COLLECTION}/*}`;
  return { operation, collection: `${prefix}/{name=${parent}}/${OPERATIONS_COLLECTION}`, cancel: `${operation}:cancel` };
}

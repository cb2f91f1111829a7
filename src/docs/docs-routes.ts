import type { OpenApiDocument } from "../../codegen/openapi/openapi-types.js";
import type { PreparedAggregate } from "../aggregate/compile-aggregate.js";
import type { AnyBinding } from "../binding.js";
import { ConfigError } from "../config/load-config.js";
import type { GatewayConfig } from "../config/schema.js";
import type { StaticRoute } from "../http/static-routes.js";
import { createRouter } from "../routing/router.js";
import { withAggregates } from "./aggregate-openapi.js";
import { DOCS_CONTENT_SECURITY_POLICY, renderDocsPage } from "./docs-page.js";
import { readDocsAssets, type DocsAsset } from "./swagger-ui-assets.js";

/** What the served docs are made of. */
export interface DocsRoutesOptions {
  /** `docs:` of gateway.yaml. */
  readonly docs: GatewayConfig["docs"];
  /** The generated folder's openapi.json as loaded at start-up; undefined when it has none. */
  readonly openApi: string | undefined;
  /** The generated folder (for messages). */
  readonly generatedDir: string;
  /** The route table: no route may share a path with the docs. */
  readonly bindings: readonly AnyBinding[];
  /** The aggregate routes: added to the served document; no aggregate may share a path with the docs either. */
  readonly aggregates?: readonly PreparedAggregate[];
  /** The header this gateway reads API keys from. */
  readonly apiKeyHeader: string;
  /** Test seam: the page's files (default: read from swagger-ui-dist and src/docs/browser). */
  readonly assets?: readonly DocsAsset[];
}

/**
 * The routes of the served docs, none when `docs.enabled` is false: the page at `docs.path`, its
 * files under `docs.path/assets/`, and the OpenAPI document at `docs.openApiPath`. Throws
 * `ConfigError` when the docs are on and cannot be served: the folder has no (valid) openapi.json,
 * or a generated route matches one of these paths. The docs do not move out of a route's way by
 * themselves: a path the user configured (or the default one, which a README or a bookmark may
 * name) silently becoming another is worse than a start-up error saying which key to change.
 */
export function createDocsRoutes(options: DocsRoutesOptions): StaticRoute[] {
  const { docs } = options;
  if (!docs.enabled) return [];
  const document = parseDocument(options);
  const assetsPath = `${docs.path}/assets`;
  const page = renderDocsPage({ title: document.title, assetsPath, openApiPath: docs.openApiPath, apiKeyHeader: options.apiKeyHeader });
  const routes: (StaticRoute & { readonly key: string })[] = [
    {
      key: "docs.path",
      path: docs.path,
      body: Buffer.from(page),
      headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": DOCS_CONTENT_SECURITY_POLICY, "referrer-policy": "no-referrer" },
    },
    { key: "docs.openApiPath", path: docs.openApiPath, body: Buffer.from(servedDocument(options, document.parsed)), headers: { "content-type": "application/json" } },
    ...(options.assets ?? readDocsAssets()).map((asset) => ({
      key: "docs.path",
      path: `${assetsPath}/${asset.name}`,
      body: asset.body,
      headers: { "content-type": asset.contentType },
    })),
  ];
  const conflicts = findConflicts(routes, namedRoutes(options.bindings, options.aggregates ?? []));
  if (conflicts.length > 0) {
    throw new ConfigError(
      `the docs would hide routes: ${conflicts.join("; ")}. The gateway answers the docs' paths itself; set docs.path / docs.openApiPath to paths no route matches, or turn the docs off`,
    );
  }
  return routes.map(({ path, body, headers }) => ({ path, body, headers }));
}

/** The document's title, after checking that the text is a JSON object (it is served as is). */
function parseDocument(options: DocsRoutesOptions): { title: string; parsed: object } {
  const file = `${options.generatedDir}/openapi.json`;
  if (options.openApi === undefined) {
    throw new ConfigError(`docs.enabled is true, but ${file} does not exist: regenerate the folder with \`protogate generate --out ${options.generatedDir}\` (it writes openapi.json), or turn the docs off`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(options.openApi);
  } catch (error) {
    throw new ConfigError(`docs.enabled is true, but ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}): regenerate it with \`protogate generate --out ${options.generatedDir}\``);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`docs.enabled is true, but ${file} is not an OpenAPI document (not a JSON object): regenerate it`);
  }
  // Boundary: user-generated JSON; only info.title is read, and only when it is a string.
  const info = (parsed as { info?: { title?: unknown } }).info;
  return { title: typeof info?.title === "string" && info.title.length > 0 ? info.title : "API", parsed };
}

/** The document as served: the generated file as is, or (with aggregate routes) with them merged in. */
function servedDocument(options: DocsRoutesOptions, parsed: object): string {
  const aggregates = options.aggregates ?? [];
  if (aggregates.length === 0) return options.openApi ?? "";
  // Boundary: the generated folder's document, written by `protogate generate` (checked to be a JSON object above).
  return `${JSON.stringify(withAggregates(parsed as OpenApiDocument, aggregates), null, 2)}\n`;
}

/** A route the docs must not hide: a generated one or an aggregate, as conflict messages name it. */
export interface NamedRoute {
  readonly httpMethod: string;
  readonly template: AnyBinding["template"];
  readonly pattern: string;
  readonly name: string;
}

export function namedRoutes(bindings: readonly AnyBinding[], aggregates: readonly PreparedAggregate[]): NamedRoute[] {
  return [
    ...bindings.map((binding) => ({ httpMethod: binding.httpMethod, template: binding.template, pattern: binding.pattern, name: `${binding.service}.${binding.method}, ${binding.source}` })),
    ...aggregates.map((aggregate) => ({ httpMethod: aggregate.binding.httpMethod, template: aggregate.template, pattern: aggregate.binding.pattern, name: `aggregate "${aggregate.name}", gateway.yaml aggregates` })),
  ];
}

/**
 * Each docs path that a route's template matches (a generated route's or an aggregate's), whatever
 * the route's method: the adapter answers every method at these paths (405 for all but GET and
 * HEAD), so such a route could never be reached. Matched with the gateway's own router, so a
 * variable or `**` template (`GET /{name=**}`) counts as well as a literal one.
 */
export function findConflicts(routes: readonly (StaticRoute & { readonly key: string })[], known: readonly NamedRoute[]): string[] {
  const router = createRouter(known.map((route) => ({ httpMethod: route.httpMethod, template: route.template, value: route })));
  const conflicts: string[] = [];
  for (const route of routes) {
    const match = router.match("GET", route.path);
    const hits: NamedRoute[] = [];
    if (match.kind === "found") hits.push(match.value);
    else if (match.kind === "methodNotAllowed") {
      for (const method of match.allow) {
        const other = router.match(method, route.path);
        if (other.kind === "found") hits.push(other.value);
      }
    }
    for (const hit of hits) conflicts.push(`${route.key} ${route.path} is matched by ${hit.httpMethod} ${hit.pattern} (${hit.name})`);
  }
  return conflicts;
}

/** The page's start script, a file of its own (the page's CSP allows same-origin scripts only). */
export const GRAPHIQL_INIT_SCRIPT = "graphiql-init.js";
/** What the start script's fetcher uses to tell a subscription (it goes over SSE) from a query. */
export const GRAPHIQL_OPERATION_KIND_SCRIPT = "graphiql-operation-kind.js";

/**
 * The GraphiQL page's Content-Security-Policy, the docs page's (src/docs/docs-page.ts) with one
 * difference GraphiQL needs: its style sheet embeds its fonts as `data:` URLs (which load nothing
 * from anywhere). Scripts, styles and fetches come from this origin only, never inline: the page's
 * endpoint is this gateway's.
 */
export const GRAPHIQL_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** What the page needs to know about this gateway. */
export interface GraphiqlPageOptions {
  /** The page's title (the API's name). */
  readonly title: string;
  /** The GraphQL endpoint the page sends queries to, e.g. `/graphql`. */
  readonly endpoint: string;
  /** Where the page's files are served, e.g. `/graphiql/assets`. */
  readonly assetsPath: string;
}

/**
 * The page's HTML: GraphiQL's style sheet, React, ReactDOM and GraphiQL's UMD bundle (in that
 * order: the bundle reads the `React` and `ReactDOM` globals), then the operation-kind helper and
 * the start script, which reads
 * the endpoint from the root element's `data-endpoint`. The empty `data:` icon keeps the browser
 * from asking the gateway for a /favicon.ico it does not serve.
 */
export function renderGraphiqlPage(options: GraphiqlPageOptions): string {
  const assets = escapeHtml(options.assetsPath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}: GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets}/graphiql.min.css">
<link rel="stylesheet" href="${assets}/graphiql-page.css">
</head>
<body>
<div id="graphiql" data-endpoint="${escapeHtml(options.endpoint)}">Loading GraphiQL…</div>
<script src="${assets}/react.production.min.js"></script>
<script src="${assets}/react-dom.production.min.js"></script>
<script src="${assets}/graphiql.min.js"></script>
<script src="${assets}/${GRAPHIQL_OPERATION_KIND_SCRIPT}"></script>
<script src="${assets}/${GRAPHIQL_INIT_SCRIPT}"></script>
</body>
</html>
`;
}

/** The title is user text (proto options, config); the paths are checked by the config schema, escaped anyway. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

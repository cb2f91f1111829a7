import { DOCS_INIT_SCRIPT } from "./swagger-ui-assets.js";

/**
 * The docs page's Content-Security-Policy: scripts, styles, fonts and fetches from the gateway's
 * own origin only (no inline script, no CDN, no other API). `data:` images are the one exception:
 * Swagger UI's style sheet draws its icons as inline SVG data URLs, which load nothing from
 * anywhere. No framing, no <base>, no form posts (the "try it" form sends through fetch).
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** What the page needs to know about this gateway. */
export interface DocsPageOptions {
  /** The document's `info.title`. */
  readonly title: string;
  /** Where the page's assets are served (`PATH/assets`). */
  readonly assetsPath: string;
  /** Where the OpenAPI document is served. */
  readonly openApiPath: string;
  /** The header this gateway reads API keys from (the form sends keys in it). */
  readonly apiKeyHeader: string;
}

/** The docs page's HTML: Swagger UI's style sheet and bundle, and the page's start script. */
export function renderDocsPage(options: DocsPageOptions): string {
  const assets = escapeHtml(options.assetsPath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}: API docs</title>
<link rel="icon" type="image/png" href="${assets}/favicon-32x32.png">
<link rel="stylesheet" href="${assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="${escapeHtml(options.openApiPath)}" data-api-key-header="${escapeHtml(options.apiKeyHeader)}"></div>
<script src="${assets}/swagger-ui-bundle.js"></script>
<script src="${assets}/${DOCS_INIT_SCRIPT}"></script>
</body>
</html>
`;
}

/** The title comes from the proto options (user text); the paths are checked by the config schema. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

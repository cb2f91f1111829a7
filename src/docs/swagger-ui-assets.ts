import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ConfigError } from "../config/load-config.js";

/** A file the docs page loads, read once at start-up and served from memory. */
export interface DocsAsset {
  /** File name under the page's `assets/` path. */
  readonly name: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * Swagger UI (the `swagger-ui-dist` package) was picked over Scalar and Redoc because it is the
 * one whose npm package installs cleanly here: no engine warning on Node 20 (Scalar's
 * `@scalar/api-reference` and Redoc 3 want Node 22), one small dependency instead of a framework
 * tree (Scalar: about 30 packages with Vue; Redoc: React, mobx and styled-components as peers),
 * and a self-contained browser bundle, so the gateway serves every file itself and no CDN is
 * involved. Its "try it out" form takes a bearer token and an API key through its Authorize dialog
 * (Redoc has no "try it" at all). The one dependency, `@scarf/scarf`, only has a telemetry
 * postinstall script, which npm 11 does not run (and package.json opts out of it anyway).
 *
 * Only the files the page loads are served: the bundle (scripts and React in one file), its style
 * sheet and an icon; the source maps and the package's own index.html stay on disk.
 */
const SWAGGER_UI_FILES: readonly (readonly [name: string, contentType: string])[] = [
  ["swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
  ["swagger-ui.css", "text/css; charset=utf-8"],
  ["favicon-32x32.png", "image/png"],
];

/** The page's own start script (a file, not inline: the page's CSP allows same-origin scripts only). */
const INIT_SCRIPT = new URL("./browser/docs-init.js", import.meta.url);

/** The docs page's script file name, which the page's HTML refers to. */
export const DOCS_INIT_SCRIPT = "docs-init.js";

/** Reads the Swagger UI files and the page's start script; throws `ConfigError` (one line for the CLI) naming a missing file. */
export function readDocsAssets(): DocsAsset[] {
  const folder = swaggerUiFolder();
  const assets = SWAGGER_UI_FILES.map(([name, contentType]) => ({ name, contentType, body: readAsset(join(folder, name)) }));
  assets.push({ name: DOCS_INIT_SCRIPT, contentType: "text/javascript; charset=utf-8", body: readAsset(INIT_SCRIPT) });
  return assets;
}

function swaggerUiFolder(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  } catch {
    throw new ConfigError("docs.enabled is true, but the swagger-ui-dist package (a dependency of protogate) is not installed: run `npm install`, or turn the docs off");
  }
}

function readAsset(file: string | URL): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`docs.enabled is true, but the docs page cannot read ${String(file)} (${(error as NodeJS.ErrnoException).code ?? String(error)}): reinstall protogate's dependencies, or turn the docs off`);
  }
}

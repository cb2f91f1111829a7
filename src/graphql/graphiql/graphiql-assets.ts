import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ConfigError } from "../../config/load-config.js";
import { GRAPHIQL_INIT_SCRIPT, GRAPHIQL_OPERATION_KIND_SCRIPT } from "./graphiql-page.js";

/** A file the GraphiQL page loads, read once at start-up and served from memory. */
export interface GraphiqlAsset {
  /** File name under the page's assets path. */
  readonly name: string;
  readonly contentType: string;
  readonly body: Buffer;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/**
 * The files of the page, from the packages protogate depends on (never a CDN): GraphiQL 3's UMD
 * bundle and style sheet, and the React 18 UMD builds it runs on (GraphiQL 4 dropped its UMD
 * build, and React 19 has none). Only what the page loads is served: no source maps, no
 * development builds.
 */
const PACKAGE_FILES: readonly (readonly [name: string, packageName: string, file: string, contentType: string])[] = [
  ["react.production.min.js", "react", "umd/react.production.min.js", JS],
  ["react-dom.production.min.js", "react-dom", "umd/react-dom.production.min.js", JS],
  ["graphiql.min.js", "graphiql", "graphiql.min.js", JS],
  ["graphiql.min.css", "graphiql", "graphiql.min.css", CSS],
];

/** The page's own files (src/graphql/graphiql/browser/): its start script, the operation-kind helper it uses, and the style making GraphiQL fill the window. */
const OWN_FILES: readonly (readonly [name: string, contentType: string])[] = [
  [GRAPHIQL_OPERATION_KIND_SCRIPT, JS],
  [GRAPHIQL_INIT_SCRIPT, JS],
  ["graphiql-page.css", CSS],
];

/** Reads the page's files; throws `ConfigError` (one line for the CLI) naming a missing package or file. */
export function readGraphiqlAssets(): GraphiqlAsset[] {
  const require = createRequire(import.meta.url);
  const assets: GraphiqlAsset[] = PACKAGE_FILES.map(([name, packageName, file, contentType]) => ({
    name,
    contentType,
    body: readAsset(join(packageFolder(require, packageName), file)),
  }));
  for (const [name, contentType] of OWN_FILES) assets.push({ name, contentType, body: readAsset(new URL(`./browser/${name}`, import.meta.url)) });
  return assets;
}

function packageFolder(require: NodeJS.Require, packageName: string): string {
  try {
    return dirname(require.resolve(`${packageName}/package.json`));
  } catch {
    throw new ConfigError(`the GraphiQL page is on, but the ${packageName} package (a dependency of protogate) is not installed: run \`npm install\`, or turn the page off`);
  }
}

function readAsset(file: string | URL): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`the GraphiQL page is on, but it cannot read ${String(file)} (${(error as NodeJS.ErrnoException).code ?? String(error)}): reinstall protogate's dependencies, or turn the page off`);
  }
}

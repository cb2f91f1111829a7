import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ROUTE_TABLE_FORMAT, type AnyBinding } from "./binding.js";

/** What `protogate generate` writes into `index.ts`. */
export interface GeneratedFolder {
  readonly bindings: readonly AnyBinding[];
  readonly descriptorSet: Uint8Array;
  /**
   * The text of the folder's `openapi.json` as it was at start-up (what `GET /openapi.json` and the
   * docs page serve), or undefined when the folder has none. Not parsed here: only the docs need it.
   */
  readonly openApi: string | undefined;
}

/** The OpenAPI document `protogate generate` writes beside the route table. */
export const OPENAPI_FILE = "openapi.json";

/** A generated folder that cannot be loaded (missing, or not written by generate). */
export class GeneratedFolderError extends Error {
  override name = "GeneratedFolderError";
}

/**
 * Imports a folder written by `protogate generate` (TypeScript, loaded through tsx: no build
 * step for the user) and checks its shape at this boundary.
 */
export async function loadGenerated(dir: string): Promise<GeneratedFolder> {
  // index.js: the demo's folder as compiled into the package's dist/ (npm run build).
  const index = ["index.ts", "index.js"].map((name) => resolve(dir, name)).find((file) => existsSync(file));
  if (index === undefined) throw new GeneratedFolderError(`${dir} has no index.ts; run \`protogate generate --out ${dir}\` first`);
  // Boundary: the module is user-generated code; its exports are checked below.
  const module = (await import(pathToFileURL(index).href)) as { bindings?: unknown; descriptorSetBase64?: unknown; routeTableFormat?: unknown };
  if (!Array.isArray(module.bindings) || typeof module.descriptorSetBase64 !== "string") {
    throw new GeneratedFolderError(`${index} does not export bindings and descriptorSetBase64; regenerate it with this version of protogate`);
  }
  // Folders written before the format was versioned carry no number: format 1.
  const format = module.routeTableFormat ?? 1;
  if (format !== ROUTE_TABLE_FORMAT) {
    throw new GeneratedFolderError(
      `${dir} holds route tables of format ${String(format)}, and this protogate reads format ${ROUTE_TABLE_FORMAT}: regenerate it with \`protogate generate --out ${dir}\``,
    );
  }
  return {
    bindings: module.bindings as AnyBinding[],
    descriptorSet: new Uint8Array(Buffer.from(module.descriptorSetBase64, "base64")),
    openApi: readOptional(resolve(dir, OPENAPI_FILE)),
  };
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new GeneratedFolderError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

import { createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ROUTE_TABLE_FORMAT, type AnyBinding, type GeneratedRoute } from "./binding.js";
import { createBinaryCodecs } from "./transcode/binary-codecs.js";

/** What `protogate generate` writes into `index.js`, with each route's binary codecs added. */
export interface GeneratedFolder {
  readonly bindings: readonly AnyBinding[];
  readonly descriptorSet: Uint8Array;
  /** `descriptorSet` parsed, when the loader has parsed it already (the JSON codecs reuse it). */
  readonly files?: FileRegistry;
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
 * Imports a folder written by `protogate generate` (plain JavaScript: nothing is compiled at
 * start), checks its shape at this boundary, and gives every route the binary codecs of its
 * message types, built from the folder's descriptor set.
 */
export async function loadGenerated(dir: string): Promise<GeneratedFolder> {
  const index = resolve(dir, "index.js");
  if (!existsSync(index)) {
    // Folders of format 1 and 2 were TypeScript.
    const fix = existsSync(resolve(dir, "index.ts")) ? "it was written by an older protogate; regenerate it with" : "run";
    throw new GeneratedFolderError(`${dir} has no index.js; ${fix} \`protogate generate --out ${dir}\`${fix === "run" ? " first" : ""}`);
  }
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
  const descriptorSet = new Uint8Array(Buffer.from(module.descriptorSetBase64, "base64"));
  const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const codecOf = createBinaryCodecs(files);
  const routes = module.bindings as GeneratedRoute[];
  return {
    bindings: routes.map((route): AnyBinding => ({ ...route, requestCodec: codecOf(route.requestType), responseCodec: codecOf(route.responseType) })),
    descriptorSet,
    files,
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

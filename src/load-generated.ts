import { createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
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
  /**
   * SHA-256 (hex) of what was loaded: the route rows, the descriptor set and openapi.json. Two
   * loads of the same folder give the same hash; GET /config on the admin port reports it.
   */
  readonly sha256?: string;
}

/** What a generated folder's `index.js` exports, before its shape is checked. */
interface RouteTableModule {
  bindings?: unknown;
  descriptorSetBase64?: unknown;
  routeTableFormat?: unknown;
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
  const index = indexOf(dir);
  // Boundary: the module is user-generated code; its exports are checked below.
  return fromModule(dir, index, (await import(pathToFileURL(index).href)) as RouteTableModule);
}

/**
 * `loadGenerated` for a reload: the folder as it is on disk now. Node never re-evaluates an ES
 * module it has imported (its cache cannot be emptied), so the route table is imported in a
 * worker thread of its own, whose module cache goes away with it, and its exports (plain data)
 * come back as a structured clone.
 */
export async function loadGeneratedFresh(dir: string): Promise<GeneratedFolder> {
  const index = indexOf(dir);
  const worker = new Worker(FRESH_IMPORT, { eval: true, workerData: pathToFileURL(index).href });
  try {
    const answer = await new Promise<{ module?: RouteTableModule; error?: string }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => resolve({ error: `the loader thread exited with ${code}` }));
    });
    if (answer.error !== undefined) throw new GeneratedFolderError(`cannot load ${index}: ${answer.error}`);
    return fromModule(dir, index, answer.module ?? {});
  } finally {
    await worker.terminate();
  }
}

/** The worker thread of loadGeneratedFresh: imports the index and posts its three exports (or why it could not). */
const FRESH_IMPORT = `
const { parentPort, workerData } = require("node:worker_threads");
import(workerData).then(
  (m) => parentPort.postMessage({ module: { bindings: m.bindings, descriptorSetBase64: m.descriptorSetBase64, routeTableFormat: m.routeTableFormat } }),
  (e) => parentPort.postMessage({ error: e instanceof Error ? e.message : String(e) }),
).catch((e) => parentPort.postMessage({ error: "its exports are not plain data: " + (e instanceof Error ? e.message : String(e)) }));
`;

function indexOf(dir: string): string {
  const index = resolve(dir, "index.js");
  if (!existsSync(index)) {
    // Folders of format 1 and 2 were TypeScript.
    const fix = existsSync(resolve(dir, "index.ts")) ? "it was written by an older protogate; regenerate it with" : "run";
    throw new GeneratedFolderError(`${dir} has no index.js; ${fix} \`protogate generate --out ${dir}\`${fix === "run" ? " first" : ""}`);
  }
  return index;
}

/** Checks the exports of a route table module and builds the folder from them. */
function fromModule(dir: string, index: string, module: RouteTableModule): GeneratedFolder {
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
  const openApi = readOptional(resolve(dir, OPENAPI_FILE));
  const sha256 = createHash("sha256")
    .update(JSON.stringify(routes))
    .update("\n")
    .update(module.descriptorSetBase64)
    .update("\n")
    .update(openApi ?? "")
    .digest("hex");
  return {
    bindings: routes.map((route): AnyBinding => ({ ...route, requestCodec: codecOf(route.requestType), responseCodec: codecOf(route.responseType) })),
    descriptorSet,
    files,
    openApi,
    sha256,
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

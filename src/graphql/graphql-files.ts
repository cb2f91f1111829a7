import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { GeneratedFolderError } from "../load-generated.js";
import { GRAPHQL_MAP_FORMAT, type GraphqlMap } from "./schema-map.js";

/** What `protogate generate` wrote for the GraphQL endpoint: the schema and the map beside it. */
export interface GraphqlFiles {
  readonly sdl: string;
  readonly map: GraphqlMap;
}

export const SCHEMA_FILE = "schema.graphql";
export const MAP_FILE = "graphql-map.js";

/**
 * Reads generated/schema.graphql and imports generated/graphql-map.js (plain data). The map is
 * imported under its content's hash, so a reload that finds a regenerated map gets the new one
 * (Node never evaluates a module URL twice) and one that finds the same map reuses it.
 */
export async function loadGraphqlFiles(dir: string): Promise<GraphqlFiles> {
  const sdl = readGenerated(resolve(dir, SCHEMA_FILE));
  const mapFile = resolve(dir, MAP_FILE);
  const hash = createHash("sha256").update(readGenerated(mapFile)).digest("hex").slice(0, 16);
  // Boundary: generated code; its shape is checked below.
  const module = (await import(`${pathToFileURL(mapFile).href}?sha256=${hash}`)) as { graphqlMap?: { format?: unknown; operations?: unknown; types?: unknown; joins?: unknown } };
  const map = module.graphqlMap;
  if (map === undefined || !Array.isArray(map.operations) || typeof map.types !== "object" || !Array.isArray(map.joins)) {
    throw new GeneratedFolderError(`${mapFile} does not export graphqlMap; regenerate it with this version of protogate`);
  }
  if (map.format !== GRAPHQL_MAP_FORMAT) {
    throw new GeneratedFolderError(`${mapFile} has format ${String(map.format)}, and this protogate reads format ${GRAPHQL_MAP_FORMAT}: regenerate it with \`protogate generate --out ${dir}\``);
  }
  return { sdl, map: map as GraphqlMap };
}

function readGenerated(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new GeneratedFolderError(`graphql.enabled is true, but ${file} does not exist: run protogate generate (it writes the GraphQL schema when the protos have a Query field)`);
    throw new GeneratedFolderError(`cannot read ${file}: ${code ?? String(error)}`);
  }
}

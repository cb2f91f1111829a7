import type { FileRegistry } from "@bufbuild/protobuf";
import type { BindingProblem } from "../bindings.js";
import type { CodegenBinding } from "../model.js";
import { buildGraphql } from "./build-schema.js";
import { emitGraphqlMap, GRAPHQL_MAP_MODULE, printGraphqlSchema, SCHEMA_FILE } from "./emit.js";
import { findGraphqlExtensions } from "./graphql-options.js";

/**
 * The plugin's GraphQL output: `schema.graphql` and `graphql-map.js` (+ `.d.ts`), or no files
 * when there is no schema (see buildGraphql); problems are invalid GraphQL options.
 */
export function graphqlFiles(bindings: readonly CodegenBinding[], registry: FileRegistry): { files: { name: string; content: string }[]; problems: BindingProblem[]; warnings: BindingProblem[] } {
  const { built, problems, warnings } = buildGraphql(bindings, registry, findGraphqlExtensions(registry));
  if (built === undefined || problems.length > 0) return { files: [], problems, warnings };
  const map = emitGraphqlMap(built);
  return {
    files: [
      { name: SCHEMA_FILE, content: printGraphqlSchema(built) },
      { name: `${GRAPHQL_MAP_MODULE}.js`, content: map.js },
      { name: `${GRAPHQL_MAP_MODULE}.d.ts`, content: map.dts },
    ],
    problems,
    warnings,
  };
}

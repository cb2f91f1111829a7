import { existsSync } from "node:fs";
import { join } from "node:path";
import { OPERATIONS_PROTO, operationsParameter, type OperationsOptions } from "./operations-options.js";
import { readServiceConfigRoutes } from "./service-config.js";

/** `auto`: operation routes for APIs that return operations; `off`: none. */
export type OperationsMode = OperationsOptions["mode"];

/** What `generate` does for operation routes before buf runs. */
export interface OperationsPlan {
  /** Protos to lay out in the workspace even when no team file imports them. */
  readonly extraImports: readonly string[];
  /** The protogate plugin's `opt` entries. */
  readonly pluginOptions: readonly string[];
  /** The files to add to buf's `--path` targets once the workspace is laid out. */
  targets(workspace: string, alreadyTargeted: ReadonlySet<string>): string[];
}

/**
 * Reads the service configs of the proto folders (throws ServiceConfigError for a broken one) and
 * decides what operation routes need: operations.proto compiled (and targeted, so its messages
 * and comments are generated) whenever the workspace holds it, or a service config gives rules.
 */
export function planOperations(protoDirs: readonly string[], mode: OperationsMode = "auto"): OperationsPlan {
  if (mode === "off") return { extraImports: [], pluginOptions: [operationsParameter({ mode, configs: [] })], targets: () => [] };
  const configs = readServiceConfigRoutes(protoDirs);
  return {
    extraImports: configs.length > 0 ? [OPERATIONS_PROTO] : [],
    pluginOptions: [operationsParameter({ mode, configs })],
    targets: (workspace, alreadyTargeted) => (!alreadyTargeted.has(OPERATIONS_PROTO) && existsSync(join(workspace, OPERATIONS_PROTO)) ? [OPERATIONS_PROTO] : []),
  };
}

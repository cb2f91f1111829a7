import { statSync } from "node:fs";
import { extname } from "node:path";
import { pathToFileURL } from "node:url";
import type { AggregateConfig } from "../aggregate-config.js";
import { AggregateConfigError } from "../compile-aggregate.js";
import { isTypedAggregate, type TypedAggregate } from "./define-aggregate.js";

/**
 * Imports the module of every typed aggregate (`module:` instead of `calls:`), by aggregate name.
 * Throws an AggregateConfigError listing each module that is missing, does not load, or whose
 * default export is not `defineAggregate(...)`. The file's modification time goes into the
 * import URL, so a hot reload picks up a changed module (Node caches modules by URL).
 */
export async function loadAggregateModules(configs: readonly AggregateConfig[]): Promise<Map<string, TypedAggregate>> {
  const modules = new Map<string, TypedAggregate>();
  const problems: string[] = [];
  for (const config of configs) {
    const file = config.module;
    if (file === undefined) continue;
    const where = `aggregate "${config.name}": module ${file}`;
    let version: number;
    try {
      version = statSync(file).mtimeMs;
    } catch {
      problems.push(`${where}: no such file`);
      continue;
    }
    let loaded: { default?: unknown };
    try {
      // Boundary: a user module, checked by shape below.
      loaded = (await import(`${pathToFileURL(file).href}?mtime=${version}`)) as { default?: unknown };
    } catch (error) {
      const hint = /^\.m?ts$/.test(extname(file)) ? " (a TypeScript module loads only when the gateway runs under tsx: compile it to .js, or start the gateway with tsx)" : "";
      problems.push(`${where}: does not load: ${error instanceof Error ? error.message : String(error)}${hint}`);
      continue;
    }
    if (!isTypedAggregate(loaded.default)) {
      problems.push(`${where}: its default export is not defineAggregate(...) (import { defineAggregate } from "protogate/runtime")`);
      continue;
    }
    modules.set(config.name, loaded.default);
  }
  if (problems.length > 0) throw new AggregateConfigError(problems);
  return modules;
}

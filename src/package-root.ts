import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Protogate's own folder (its package.json, bin/, proto/). Found by walking up rather than by a
 * fixed `../..`, because this module runs from two depths: `src/` in a checkout (through tsx) and
 * `dist/src/` in the installed package (compiled by `npm run build`).
 */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The version in Protogate's package.json. */
export function packageVersion(): string {
  return readPackageJson(PACKAGE_ROOT)?.version ?? "0.0.0";
}

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (readPackageJson(dir)?.name === "protogate") return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of protogate above ${start}`);
  }
}

function readPackageJson(dir: string): { name?: string; version?: string } | undefined {
  const file = join(dir, "package.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string }) : undefined;
}

import { isAbsolute, resolve } from "node:path";

/**
 * The keys of gateway.yaml that name files or folders, as paths from the top (`*` for any key
 * or list index). Relative values are relative to the config file's folder, so a config works
 * whatever the working directory the gateway is started from.
 */
const PATH_KEYS: ReadonlyArray<readonly string[]> = [
  ["generated"],
  ["server", "tls", "certFile"],
  ["server", "tls", "keyFile"],
  ["upstreams", "*", "tls", "caFile"],
  ["upstreams", "*", "tls", "certFile"],
  ["upstreams", "*", "tls", "keyFile"],
  ["auth", "jwt", "issuers", "*", "keyFile"],
  ["auth", "jwt", "issuers", "*", "hmacSecretFile"],
  ["aggregates", "*", "module"],
  ["graphql", "persistedQueries", "manifest"],
];

/** A copy of the parsed config file with its relative paths made absolute against `baseDir`. */
export function resolveConfigPaths(raw: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const copy = structuredClone(raw);
  for (const keys of PATH_KEYS) visit(copy, keys, baseDir);
  return copy;
}

function visit(node: unknown, keys: readonly string[], baseDir: string): void {
  if (typeof node !== "object" || node === null) return;
  const [key, ...rest] = keys;
  const record = node as Record<string, unknown>;
  const children = key === "*" ? Object.keys(record) : [key];
  for (const child of children) {
    if (!Object.hasOwn(record, child)) continue;
    if (rest.length > 0) visit(record[child], rest, baseDir);
    else if (typeof record[child] === "string" && record[child] !== "" && !isAbsolute(record[child])) record[child] = resolve(baseDir, record[child]);
  }
}

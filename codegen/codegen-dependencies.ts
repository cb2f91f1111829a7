import { createRequire } from "node:module";

/**
 * The packages only `protogate generate` uses: optional peer dependencies of protogate, so that a
 * gateway installed to serve (`npm install protogate`) does not carry them (about 180 MB, mostly
 * buf's binary and google-proto-files). A team installs them beside protogate, usually as
 * devDependencies of the repository that generates.
 */
export const CODEGEN_PACKAGES = ["@bufbuild/buf", "google-proto-files"] as const;
/** Needed only by `generate --ts-proto` (ts-proto's message code for a team's own TypeScript services). */
export const TS_PROTO_PACKAGE = "ts-proto";
export type CodegenPackage = (typeof CODEGEN_PACKAGES)[number] | typeof TS_PROTO_PACKAGE;

export interface CodegenPackageQuery {
  /** Whether the run writes ts-proto's message code. */
  readonly tsProto?: boolean;
  /** How a package is found (Node's resolution from protogate by default). */
  readonly resolve?: (specifier: string) => string;
}

/** The packages a `generate` run needs. */
export function neededCodegenPackages(tsProto: boolean): CodegenPackage[] {
  const needed: CodegenPackage[] = [...CODEGEN_PACKAGES];
  if (tsProto) needed.push(TS_PROTO_PACKAGE);
  return needed;
}

/** The packages a `generate` run needs that cannot be resolved, in a fixed order. */
export function missingCodegenPackages(query: CodegenPackageQuery = {}): CodegenPackage[] {
  const resolve = query.resolve ?? createRequire(import.meta.url).resolve;
  return neededCodegenPackages(query.tsProto ?? false).filter((name) => {
    try {
      resolve(`${name}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
}

/** The one-line error for missing codegen packages: which, and the command that installs them. */
export function missingCodegenPackagesMessage(missing: readonly CodegenPackage[]): string {
  const flag = missing.includes(TS_PROTO_PACKAGE) ? " --ts-proto" : "";
  return `protogate generate${flag} needs ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not installed (a serve-only install leaves the codegen packages out): run \`npm install --save-dev ${missing.join(" ")}\``;
}

import { createRequire } from "node:module";

/**
 * The packages only `protogate generate` uses: optional peer dependencies of protogate, so that a
 * gateway installed to serve (`npm install protogate`) does not carry them (about 180 MB, mostly
 * buf's binary and google-proto-files). A team installs them beside protogate, usually as
 * devDependencies of the repository that generates.
 */
export const CODEGEN_PACKAGES = ["@bufbuild/buf", "ts-proto", "google-proto-files"] as const;
export type CodegenPackage = (typeof CODEGEN_PACKAGES)[number];

/** The codegen packages that cannot be resolved from protogate (by `resolve`, Node's by default). */
export function missingCodegenPackages(resolve: (specifier: string) => string = createRequire(import.meta.url).resolve): CodegenPackage[] {
  return CODEGEN_PACKAGES.filter((name) => {
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
  return `protogate generate needs ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not installed (a serve-only install leaves the codegen packages out): run \`npm install --save-dev ${CODEGEN_PACKAGES.join(" ")}\``;
}

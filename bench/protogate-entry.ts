import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "./child-process.js";

/**
 * What the benchmarks run as `protogate`: the compiled JavaScript in dist/, as the published package
 * does (the default), or the TypeScript sources through tsx, as bin/protogate.js does in a checkout.
 * tsx compiles with esbuild's keepNames, which wraps every function a request creates in a
 * `__name(fn, "...")` call (a defineProperty each: about 2 µs of a request's CPU in a profile), so
 * the sources are slower than what users run.
 */
export type ProtogateBuild = "dist" | "sources";

/** The script `node` runs for `protogate ARGS...` in that build. */
export function protogateEntry(build: ProtogateBuild): string {
  return fileURLToPath(new URL(build === "dist" ? "./run-dist.mjs" : "../bin/protogate.js", import.meta.url));
}

/** Compiles the checkout into dist/ (`npm run build`); throws with tsc's output when it fails. */
export function buildDist(): void {
  const build = spawnSync(process.execPath, ["scripts/build-dist.js"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status}):\n${build.stdout}${build.stderr}`);
}

/** Builds dist/ when the build is "dist"; the entry to run either way. */
export function prepareProtogate(build: ProtogateBuild): string {
  if (build === "dist") buildDist();
  return protogateEntry(build);
}

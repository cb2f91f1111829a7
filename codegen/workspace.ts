import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, copyFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { PACKAGE_ROOT } from "../src/package-root.js";
import { GenerateError } from "./generate-error.js";

/** The well-known types buf compiles in itself; a copy of them in the workspace would clash. */
const BUF_BUILTIN_PREFIX = "google/protobuf/";

/** Where protos that a team's folders do not hold come from (never the network). */
export function googleProtoRoot(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("google-proto-files/package.json"));
}

/** Import-path prefix of the protos protogate ships for teams to import (`protogate/v1/auth.proto`). */
const PROTOGATE_PREFIX = "protogate/";

/** Protogate's own `proto/` folder, shipped with the package: where `protogate/...` imports come from. */
export function protogateProtoRoot(): string {
  return join(PACKAGE_ROOT, "proto");
}

/**
 * Where an import that the team's folders do not hold comes from: protogate's own protos for the
 * `protogate/` prefix, google-proto-files otherwise; undefined when neither has it.
 */
export function resolveSharedImport(importPath: string): string | undefined {
  if (importPath.startsWith(PROTOGATE_PREFIX)) {
    const own = join(protogateProtoRoot(), importPath);
    if (existsSync(own)) return own;
  }
  const fromGoogle = join(googleProtoRoot(), importPath);
  return existsSync(fromGoogle) ? fromGoogle : undefined;
}

/** A proto file of the team's own folders. */
export interface TeamProto {
  /** Import path, e.g. `demo/v1/user.proto`. */
  readonly importPath: string;
  readonly absolutePath: string;
}

/** Every `.proto` under the given roots; the same import path in two roots is an error. */
export function findTeamProtos(roots: readonly string[]): TeamProto[] {
  const byPath = new Map<string, TeamProto>();
  for (const root of roots) {
    if (!existsSync(root)) throw new GenerateError(`--proto ${shown(root)}: no such folder; pass the folder that holds your .proto files (default: proto)`);
    if (!statSync(root).isDirectory()) throw new GenerateError(`--proto ${shown(root)} is a file; pass the folder that holds it (its import paths start there)`);
    for (const absolutePath of walk(root)) {
      const importPath = relative(root, absolutePath).split(sep).join("/");
      const previous = byPath.get(importPath);
      if (previous) {
        throw new GenerateError(`${importPath} is in two --proto folders (${shown(previous.absolutePath)} and ${shown(absolutePath)}); delete one copy or pass only one of the folders`);
      }
      byPath.set(importPath, { importPath, absolutePath });
    }
  }
  return [...byPath.values()].sort((a, b) => (a.importPath < b.importPath ? -1 : 1));
}

/** A path as the user would type it: relative to the working directory. */
function shown(path: string): string {
  return relative(process.cwd(), path) || ".";
}

/** An error for a file or folder that cannot be read (permissions, a broken link), naming it. */
export function unreadable(path: string, error: unknown): GenerateError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return new GenerateError(`cannot read ${shown(path)} (${code}); check that it exists and its permissions allow reading`);
}

function readDirectory(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw unreadable(dir, error);
  }
}

function* walk(dir: string): Generator<string> {
  for (const entry of readDirectory(dir).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile() && entry.name.endsWith(".proto")) yield full;
  }
}

const IMPORT_STATEMENT = /^[ \t]*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm;

/** The import paths a proto file names, with the line of each (for error messages). */
export function readImports(source: string): Array<{ path: string; line: number }> {
  const withoutBlockComments = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  const result: Array<{ path: string; line: number }> = [];
  for (const match of withoutBlockComments.matchAll(IMPORT_STATEMENT)) {
    const line = withoutBlockComments.slice(0, match.index).split("\n").length;
    result.push({ path: match[1], line });
  }
  return result;
}

/**
 * Lays out a buf workspace in `dir`: the team's protos, plus the transitive imports they need from
 * protogate's own protos (`protogate/...`) or google-proto-files (a team file wins over the same
 * path there), plus `extraImports` from google-proto-files.
 */
export async function assembleWorkspace(team: readonly TeamProto[], dir: string, extraImports: readonly string[] = []): Promise<void> {
  const googleRoot = googleProtoRoot();
  const teamPaths = new Map(team.map((t) => [t.importPath, t.absolutePath]));
  const copied = new Set<string>();
  const queue: Array<{ importPath: string; absolutePath: string }> = [
    ...team,
    ...extraImports.filter((path) => !teamPaths.has(path)).map((path) => ({ importPath: path, absolutePath: join(googleRoot, path) })),
  ];
  const missing: string[] = [];
  while (queue.length > 0) {
    const next = queue.shift();
    if (!next || copied.has(next.importPath)) continue;
    copied.add(next.importPath);
    const target = join(dir, next.importPath);
    await mkdir(dirname(target), { recursive: true });
    let source: string;
    try {
      source = readFileSync(next.absolutePath, "utf8");
      await copyFile(next.absolutePath, target);
    } catch (error) {
      throw unreadable(next.absolutePath, error);
    }
    for (const { path, line } of readImports(source)) {
      if (copied.has(path) || (path.startsWith(BUF_BUILTIN_PREFIX) && !teamPaths.has(path))) continue;
      const own = teamPaths.get(path);
      if (own) continue; // queued already as a team file
      const shared = resolveSharedImport(path);
      if (shared) queue.push({ importPath: path, absolutePath: shared });
      else {
        const where = path.startsWith(PROTOGATE_PREFIX) ? "not among protogate's own protos nor in google-proto-files" : "not in google-proto-files";
        missing.push(`${next.importPath}:${line}: import "${path}" is in no --proto folder and ${where}`);
      }
    }
  }
  if (missing.length > 0) throw new Error(missing.join("\n"));
}

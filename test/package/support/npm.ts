import { execFile } from "node:child_process";
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** What one command printed. */
export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment for a nested npm: without the `npm_*` variables an outer `npm test` sets (its
 * `npm_config_local_prefix` would point the nested npm at this checkout), except the user's cache,
 * registry and config file.
 */
function nestedNpmEnv(): NodeJS.ProcessEnv {
  const kept = new Set(["npm_config_cache", "npm_config_registry", "npm_config_userconfig"]);
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_") || kept.has(key.toLowerCase())));
}

/** Runs `npm ...args` in `cwd`; rejects with both outputs when it exits non-zero. */
export async function npm(args: readonly string[], cwd: string): Promise<CommandOutput> {
  try {
    const { stdout, stderr } = await run("npm", [...args], { cwd, env: nestedNpmEnv(), maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(" ")} failed in ${cwd}:\n${stderr ?? ""}\n${stdout ?? ""}`);
  }
}

/** The npm flags of every install here: the local cache first (the registry only for what it lacks), no audit or funding chatter. */
export const INSTALL_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"] as const;

/** The apparent size in bytes of every file under `dir` (symbolic links counted as links). */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(full) : lstatSync(full).size;
  }
  return total;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { GenerateError } from "./generate-error.js";
import type { SelectionPatterns } from "./selection.js";

/** The name `protogate generate` looks for beside the first --proto folder. */
export const GENERATE_CONFIG_FILE = "protogate.yaml";

const DEFAULT_PROTO_DIR = "proto";
const DEFAULT_OUT_DIR = "generated";

const patternList = z.array(z.string().min(1, "a pattern must not be empty"));

/** protogate.yaml: settings of `protogate generate`; paths are relative to the file's folder. */
const generateConfigSchema = z.strictObject({
  proto: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  out: z.string().min(1).optional(),
  include: patternList.default([]),
  exclude: patternList.default([]),
});

/** The command line of `generate`, before defaults. */
export interface GenerateFlags {
  readonly proto: readonly string[];
  readonly out?: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly config?: string;
}

/** What `generate` runs with: flags win over protogate.yaml for folders; patterns add up. */
export interface GenerateSettings {
  readonly protoDirs: readonly string[];
  readonly outDir: string;
  readonly selection: SelectionPatterns;
  /** The protogate.yaml read, if any. */
  readonly configFile: string | undefined;
}

/**
 * Merges the flags with protogate.yaml: the file named by --config (it must exist), else the
 * one beside the first --proto folder (`proto` by default, so `./protogate.yaml`), if present.
 */
export function resolveGenerateSettings(flags: GenerateFlags): GenerateSettings {
  const firstProto = flags.proto[0] ?? DEFAULT_PROTO_DIR;
  const configFile = flags.config ?? join(dirname(resolve(firstProto)), GENERATE_CONFIG_FILE);
  const found = flags.config !== undefined || existsSync(configFile);
  const config = found ? readGenerateConfig(configFile) : undefined;
  const protoDirs = flags.proto.length > 0 ? flags.proto : (config?.proto ?? [DEFAULT_PROTO_DIR]);
  return {
    protoDirs,
    outDir: flags.out ?? config?.out ?? DEFAULT_OUT_DIR,
    selection: { include: [...(config?.include ?? []), ...flags.include], exclude: [...(config?.exclude ?? []), ...flags.exclude] },
    configFile: found ? configFile : undefined,
  };
}

interface GenerateConfig {
  readonly proto?: readonly string[];
  readonly out?: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** Reads and validates protogate.yaml; folders come back resolved against the file's folder. */
export function readGenerateConfig(file: string): GenerateConfig {
  const shown = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const fix = code === "ENOENT" ? "check the --config path" : "check its permissions";
    throw new GenerateError(`cannot read ${shown} (${code ?? String(error)}); ${fix}`);
  }
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    throw new GenerateError(`${shown}: invalid YAML: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
  }
  const result = generateConfigSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")} (known: proto, out, include, exclude)`;
      return `${path === "" ? "the top level" : path}: ${issue.message}`;
    });
    throw new GenerateError(`${shown}: ${issues.join("; ")}`);
  }
  const base = dirname(resolve(file));
  const fromFile = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const { proto, out, include, exclude } = result.data;
  return {
    proto: proto === undefined ? undefined : (typeof proto === "string" ? [proto] : proto).map(fromFile),
    out: out === undefined ? undefined : fromFile(out),
    include,
    exclude,
  };
}

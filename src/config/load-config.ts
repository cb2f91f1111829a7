import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import type { z } from "zod";
import { resolveConfigPaths } from "./config-paths.js";
import { configSchema, type GatewayConfig } from "./schema.js";

/** A config file (or flag) that is invalid; the message names each bad key. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Overrides from the command line; they win over the file. */
export interface ConfigOverrides {
  readonly host?: string;
  readonly port?: number;
  readonly generated?: string;
  readonly upstreams?: Readonly<Record<string, string>>;
  /** `--auth off|on`: overrides `auth.mode`. */
  readonly authMode?: "on" | "off";
  /** `--admin-port N`: overrides `admin.port`. */
  readonly adminPort?: number;
}

/** Reads, validates and freezes the configuration: the file (if any), then the flags. */
export function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}): Readonly<GatewayConfig> {
  return loadConfigFile(file, overrides).config;
}

/** Where the configuration comes from: a file (if any) and the command line's overrides (read again on reload). */
export interface ConfigSource {
  readonly file: string | undefined;
  readonly overrides: ConfigOverrides;
}

/** A loaded configuration and the SHA-256 (hex) of the file's bytes as read (of no bytes without a file). */
export interface LoadedConfig {
  readonly config: Readonly<GatewayConfig>;
  readonly sha256: string;
}

/** `loadConfig`, with the hash of the bytes it read (what a reload reports as the config's identity). */
export function loadConfigFile(file: string | undefined, overrides: ConfigOverrides = {}): LoadedConfig {
  let raw: unknown = {};
  let bytes = Buffer.alloc(0);
  if (file !== undefined) {
    let text: string;
    try {
      bytes = readFileSync(file);
      text = bytes.toString("utf8");
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    try {
      raw = parse(text) ?? {};
    } catch (error) {
      throw new ConfigError(`${file}: invalid YAML: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Paths in the file are relative to the file's folder (flags stay relative to the shell's).
    if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) raw = resolveConfigPaths(raw as Record<string, unknown>, dirname(resolve(file)));
  }
  return { config: configFromObject(raw, overrides, file ?? "config"), sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** Validates and freezes a configuration given as an object (the parsed YAML, or the demo's own). */
export function configFromObject(raw: unknown, overrides: ConfigOverrides = {}, label = "config"): Readonly<GatewayConfig> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(`${label}: the top level must be a mapping`);
  const merged = applyOverrides(raw as Record<string, unknown>, overrides);
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(`${label}: ${formatIssues(result.error)}`);
  return deepFreeze(result.data);
}

function applyOverrides(raw: Record<string, unknown>, overrides: ConfigOverrides): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...raw };
  const server = { ...((raw.server as Record<string, unknown> | undefined) ?? {}) };
  if (overrides.host !== undefined) server.host = overrides.host;
  if (overrides.port !== undefined) server.port = overrides.port;
  merged.server = server;
  if (overrides.generated !== undefined) merged.generated = overrides.generated;
  if (overrides.authMode !== undefined) merged.auth = { ...((raw.auth as Record<string, unknown> | undefined) ?? {}), mode: overrides.authMode };
  if (overrides.adminPort !== undefined) merged.admin = { ...((raw.admin as Record<string, unknown> | undefined) ?? {}), port: overrides.adminPort };
  if (overrides.upstreams && Object.keys(overrides.upstreams).length > 0) {
    merged.upstreams = { ...((raw.upstreams as Record<string, unknown> | undefined) ?? {}), ...overrides.upstreams };
  }
  return merged;
}

/** One line per issue, each naming the key path: `server.port: expected number, received string`. */
function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join(".") || "(top level)";
      return issue.code === "unrecognized_keys" ? `${path === "(top level)" ? "" : `${path}: `}unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}` : `${path}: ${issue.message}`;
    })
    .join("; ");
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

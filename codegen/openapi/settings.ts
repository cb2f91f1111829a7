/**
 * What `generate` (its `--openapi-*` flags) tells the OpenAPI emitter, and how it travels to the
 * plugin: as plugin options (`opt` in buf.gen.yaml), `key=value` each. buf joins the options with
 * "," into the CodeGeneratorRequest's parameter, so values are percent-encoded where needed
 * (`%` and `,`); a hand-written buf.gen.yaml may use the same keys.
 */
export interface OpenApiSettings {
  readonly title?: string;
  readonly version?: string;
  readonly description?: string;
  /** Server URLs, in order (replacing any the protos name). */
  readonly servers?: readonly string[];
  /** The API-key header the document names (the gateway's `auth` config may choose another than `x-api-key`). */
  readonly apiKeyHeader?: string;
}

/** Plugin option keys, by setting. `openapi_server` may repeat. */
const KEYS = {
  title: "openapi_title",
  version: "openapi_version",
  description: "openapi_description",
  servers: "openapi_server",
  apiKeyHeader: "openapi_api_key_header",
} as const satisfies Record<keyof OpenApiSettings, string>;

/** Every key of these settings starts with this (codegen/plugin-parameters.ts hands them here). */
export const OPENAPI_KEY_PREFIX = "openapi_";

/** A plugin parameter the emitter cannot read: the message names the option and the fix. */
export class PluginOptionError extends Error {}

/** The plugin options (`key=value`) carrying `settings`, in a fixed order. */
export function pluginOptions(settings: OpenApiSettings): string[] {
  const options: string[] = [];
  const add = (key: string, value: string | undefined) => value !== undefined && options.push(`${key}=${encodeValue(value)}`);
  add(KEYS.title, settings.title);
  add(KEYS.version, settings.version);
  add(KEYS.description, settings.description);
  for (const server of settings.servers ?? []) add(KEYS.servers, server);
  add(KEYS.apiKeyHeader, settings.apiKeyHeader);
  return options;
}

/**
 * Reads the OpenAPI settings from a CodeGeneratorRequest's parameter (empty: none). Throws
 * `PluginOptionError` for an unknown key, a repeated single-valued key or a bad escape.
 */
export function parsePluginParameter(parameter: string): OpenApiSettings {
  const settings: { -readonly [K in keyof OpenApiSettings]: OpenApiSettings[K] } = {};
  const servers: string[] = [];
  const known = Object.values(KEYS).join(", ");
  for (const option of parameter.split(",")) {
    if (option.trim() === "") continue;
    const eq = option.indexOf("=");
    if (eq <= 0) throw new PluginOptionError(`plugin option "${option}" is not key=value; use one of ${known}`);
    const key = option.slice(0, eq).trim();
    const value = decodeValue(option.slice(eq + 1), key);
    const setting = (Object.keys(KEYS) as (keyof OpenApiSettings)[]).find((name) => KEYS[name] === key);
    if (setting === undefined) throw new PluginOptionError(`unknown plugin option "${key}"; the options are ${known}`);
    if (setting === "servers") {
      servers.push(value);
      continue;
    }
    if (settings[setting] !== undefined) throw new PluginOptionError(`plugin option "${key}" is given twice; give it once`);
    settings[setting] = value;
  }
  if (servers.length > 0) settings.servers = servers;
  return settings;
}

function encodeValue(value: string): string {
  return value.replace(/[%,]/g, (char) => (char === "%" ? "%25" : "%2C"));
}

function decodeValue(raw: string, key: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new PluginOptionError(`plugin option "${key}" has a bad %-escape in "${raw}"; write "%" as %25`);
  }
}

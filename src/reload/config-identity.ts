import { createHash } from "node:crypto";

/** Which configuration a gateway serves: what GET /config answers, and POST /reload on success. */
export interface ConfigIdentity {
  /** SHA-256 (hex) of the config file's hash and the route table's hash together: one value to compare. */
  readonly hash: string;
  /** SHA-256 (hex) of the config file's bytes (of no bytes when the gateway runs without one). */
  readonly configSha256: string;
  /** SHA-256 (hex) of the loaded route table, descriptor set and openapi.json (load-generated.ts). */
  readonly routeTableSha256: string;
  /** When this configuration began serving (ISO 8601). */
  readonly loadedAt: string;
}

/** The identity of a config file and a route table, loaded now. */
export function configIdentity(configSha256: string, routeTableSha256: string, now: Date = new Date()): ConfigIdentity {
  const hash = createHash("sha256").update(`${configSha256}\n${routeTableSha256}`).digest("hex");
  return { hash, configSha256, routeTableSha256, loadedAt: now.toISOString() };
}

/** SHA-256 of no bytes: the config "file" of a gateway started without one. */
export const NO_FILE_SHA256 = createHash("sha256").digest("hex");
/** A route table not loaded by load-generated.ts (made by a test): nothing to hash. */
export const UNKNOWN_SHA256 = "unknown";

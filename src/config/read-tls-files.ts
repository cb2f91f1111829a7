import { readFileSync } from "node:fs";
import type { UpstreamTls } from "../upstream/upstream-options.js";
import type { UpstreamTarget } from "../upstream/upstream-pool.js";
import { ConfigError } from "./load-config.js";
import type { GatewayConfig, UpstreamTlsConfig } from "./schema.js";

/** The HTTPS listener's certificate and key, read once at start. */
export interface ServerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
}

function readConfigFile(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** `server.tls` files, or undefined for plain HTTP. */
export function readServerTls(config: Readonly<GatewayConfig>): ServerTls | undefined {
  const tls = config.server.tls;
  if (!tls) return undefined;
  return { cert: readConfigFile("server.tls.certFile", tls.certFile), key: readConfigFile("server.tls.keyFile", tls.keyFile) };
}

/** The upstream map with every `tls` block's files read, for the upstream pool. */
export function readUpstreamTargets(config: Readonly<GatewayConfig>): Record<string, UpstreamTarget> {
  const targets: Record<string, UpstreamTarget> = {};
  for (const [service, upstream] of Object.entries(config.upstreams)) {
    const { tls, ...rest } = upstream;
    targets[service] = tls ? { ...rest, tls: readUpstreamTls(`upstreams.${service}.tls`, tls) } : rest;
  }
  return targets;
}

function readUpstreamTls(key: string, tls: UpstreamTlsConfig): UpstreamTls {
  return {
    ...(tls.caFile !== undefined && { ca: readConfigFile(`${key}.caFile`, tls.caFile) }),
    ...(tls.certFile !== undefined && { cert: readConfigFile(`${key}.certFile`, tls.certFile) }),
    ...(tls.keyFile !== undefined && { key: readConfigFile(`${key}.keyFile`, tls.keyFile) }),
    ...(tls.serverName !== undefined && { serverName: tls.serverName }),
  };
}

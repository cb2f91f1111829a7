import { createHash } from "node:crypto";
import { createGrpcUpstream, type GrpcUpstreamOptions } from "./grpc-upstream.js";
import { createHttp2Upstream } from "./http2-upstream.js";
import { createWireUpstream } from "./wire-upstream.js";
import type { UpstreamTls, UpstreamTransport } from "./upstream-options.js";
import type { Upstream, UpstreamPool, UpstreamStatus } from "./upstream.js";

/** Where a service's upstream is: `host:port`, or an object with per-upstream options (as in gateway.yaml). */
export type UpstreamTarget = string | { address: string; maxReceiveMessageBytes?: number; tls?: UpstreamTls; transport?: UpstreamTransport };

export interface UpstreamPoolOptions extends GrpcUpstreamOptions {
  /** The transport of targets that do not name one; default `wire` (Protogate's own HTTP/2 client). */
  transport?: UpstreamTransport;
  /** Builds one upstream; defaults to the target's transport (tests inject fakes). */
  createUpstream?: (target: { address: string; transport: UpstreamTransport }, options: GrpcUpstreamOptions) => Upstream;
}

/** The default factory: the target's transport. grpc-js-only options (`channelOptions`) do not reach Protogate's own. */
function createTransport(target: { address: string; transport: UpstreamTransport }, options: GrpcUpstreamOptions): Upstream {
  switch (target.transport) {
    case "grpc-js":
      return createGrpcUpstream(target, options);
    case "wire":
      return createWireUpstream(target, options);
    case "http2":
      return createHttp2Upstream(target, options);
  }
}

/**
 * The upstreams of all services in `map` (fully qualified service -> target), sharing one
 * connection per distinct address (and per-upstream options), so services hosted together share
 * their connection.
 */
export function createUpstreamPool(map: Readonly<Record<string, UpstreamTarget>>, options: UpstreamPoolOptions = {}): UpstreamPool {
  const { createUpstream = createTransport, transport: defaultTransport = "wire", ...upstreamOptions } = options;
  const byTarget = new Map<string, Upstream>();
  const byService = new Map<string, Upstream>();
  const addresses = new Map<string, string>();
  for (const [service, target] of Object.entries(map)) {
    const address = typeof target === "string" ? target : target.address;
    const maxReceiveMessageBytes = typeof target === "string" ? undefined : target.maxReceiveMessageBytes;
    const tls = typeof target === "string" ? undefined : target.tls;
    const transport = (typeof target === "string" ? undefined : target.transport) ?? defaultTransport;
    const key = `${transport}\u0000${address}\u0000${maxReceiveMessageBytes ?? ""}\u0000${tls ? tlsIdentity(tls) : ""}`;
    let upstream = byTarget.get(key);
    if (upstream === undefined) {
      const effective: GrpcUpstreamOptions = { ...upstreamOptions };
      if (maxReceiveMessageBytes !== undefined) effective.maxReceiveMessageBytes = maxReceiveMessageBytes;
      if (tls !== undefined) effective.tls = tls;
      upstream = createUpstream({ address, transport }, effective);
      byTarget.set(key, upstream);
    }
    byService.set(service, upstream);
    addresses.set(service, address);
  }
  return {
    get: (service) => byService.get(service),
    statuses: () =>
      [...byService].map(([service, upstream]): UpstreamStatus => ({ service, address: addresses.get(service) ?? "", state: upstream.connectionState?.() ?? "unknown" })),
    close() {
      for (const upstream of byTarget.values()) upstream.close();
    },
  };
}

/** Upstreams share a connection only with the same TLS material. */
function tlsIdentity(tls: UpstreamTls): string {
  const hash = createHash("sha256");
  for (const part of [tls.ca, tls.cert, tls.key]) hash.update(part ?? "-").update("\u0000");
  return `${hash.update(tls.serverName ?? "").digest("hex")}`;
}

import { createHash } from "node:crypto";
import { REAL_TIMERS, type Timers } from "../timers.js";
import { createGrpcUpstream, type GrpcUpstreamOptions } from "./grpc-upstream.js";
import { createHttp2Upstream } from "./http2-upstream.js";
import { BalancedUpstream, silentTallies, type BalancedUpstreamContext, type ResilienceTallies } from "./resilience/balanced-upstream.js";
import { DnsEndpoints, parseDnsTarget, resolveWithSystem, staticEndpoints, type EndpointSet, type ResolveHost } from "./resilience/endpoint-set.js";
import { DEFAULT_DNS_REFRESH_MS, hasResilienceOptions, type ResilienceOptions } from "./resilience/resilience-options.js";
import { createWireUpstream } from "./wire-upstream.js";
import type { UpstreamTls, UpstreamTransport } from "./upstream-options.js";
import type { Upstream, UpstreamPool, UpstreamStatus } from "./upstream.js";

/**
 * Where a service's upstream is, as in gateway.yaml: `HOST:PORT` (or `dns:///NAME:PORT`), or an
 * object with one `address` or several `addresses` and per-upstream options.
 */
export type UpstreamTarget = string | UpstreamTargetOptions;

export interface UpstreamTargetOptions extends ResilienceOptions {
  /** `HOST:PORT`, or `dns:///NAME:PORT` (every address the name resolves to). */
  address?: string;
  /** Several `HOST:PORT`s (instead of `address`). */
  addresses?: readonly string[];
  maxReceiveMessageBytes?: number;
  tls?: UpstreamTls;
  transport?: UpstreamTransport;
}

/** The clock, randomness, resolver and sinks of balanced upstreams (tests inject them; production takes the defaults). */
export interface ResilienceSeams {
  /** Outlier detection's and the breaker's clock, the timers of retry backoffs, health checks and DNS refreshes. */
  readonly timers?: Timers;
  /** The retry backoff's jitter, in [0, 1). */
  readonly random?: () => number;
  /** Resolves the names of `dns:///` targets; the system's resolver by default. */
  readonly resolve?: ResolveHost;
  /** The metrics' counters of one service; nothing is counted when absent. */
  readonly tallies?: (service: string) => ResilienceTallies;
  /** Where ejections, breaker and health changes and DNS problems are logged; nowhere when absent. */
  readonly log?: BalancedUpstreamContext["log"];
}

export interface UpstreamPoolOptions extends GrpcUpstreamOptions {
  /** The transport of targets that do not name one; default `wire` (Protogate's own HTTP/2 client). */
  transport?: UpstreamTransport;
  /** Builds one upstream; defaults to the target's transport (tests inject fakes). */
  createUpstream?: (target: { address: string; transport: UpstreamTransport }, options: GrpcUpstreamOptions) => Upstream;
  resilience?: ResilienceSeams;
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

const SILENT_LOG: BalancedUpstreamContext["log"] = { info() {}, warn() {} };

/**
 * The upstreams of all services in `map` (fully qualified service -> target). Each address is one
 * upstream (one long-lived connection), shared by every service at that address with the same
 * per-upstream options. A service with one address and no resilience options gets that upstream
 * itself, so it pays nothing for what it does not use; one with several addresses, a `dns:///`
 * target or any resilience option gets a `BalancedUpstream` of its own over them (the addresses
 * a name resolves to are that upstream's own connections).
 */
export function createUpstreamPool(map: Readonly<Record<string, UpstreamTarget>>, options: UpstreamPoolOptions = {}): UpstreamPool {
  const { createUpstream = createTransport, transport: defaultTransport = "wire", resilience = {}, ...upstreamOptions } = options;
  const byTarget = new Map<string, Upstream>();
  const byService = new Map<string, Upstream>();
  const targets = new Map<string, string>();
  const balanced: BalancedUpstream[] = [];
  for (const [service, target] of Object.entries(map)) {
    const settings: UpstreamTargetOptions = typeof target === "string" ? { address: target } : target;
    const transport = settings.transport ?? defaultTransport;
    const effective: GrpcUpstreamOptions = { ...upstreamOptions };
    if (settings.maxReceiveMessageBytes !== undefined) effective.maxReceiveMessageBytes = settings.maxReceiveMessageBytes;
    if (settings.tls !== undefined) effective.tls = settings.tls;
    /** The shared upstream of one address with these options. */
    const shared = (address: string): Upstream => {
      const key = `${transport}\u0000${address}\u0000${settings.maxReceiveMessageBytes ?? ""}\u0000${settings.tls ? tlsIdentity(settings.tls) : ""}`;
      let upstream = byTarget.get(key);
      if (upstream === undefined) {
        upstream = createUpstream({ address, transport }, effective);
        byTarget.set(key, upstream);
      }
      return upstream;
    };
    const addresses = settings.addresses ?? (settings.address === undefined ? [] : [settings.address]);
    const dns = addresses.length === 1 ? parseDnsTarget(addresses[0]) : undefined;
    if (dns === undefined && addresses.length === 1 && !hasResilienceOptions(settings)) {
      byService.set(service, shared(addresses[0]));
      targets.set(service, addresses[0]);
      continue;
    }
    const timers = resilience.timers ?? REAL_TIMERS;
    const log = resilience.log ?? SILENT_LOG;
    const endpoints: EndpointSet =
      dns === undefined
        ? staticEndpoints(addresses.map((address) => [address, shared(address)] as const))
        : new DnsEndpoints({
            ...dns,
            refreshMs: settings.dnsRefreshMs ?? DEFAULT_DNS_REFRESH_MS,
            resolve: resilience.resolve ?? resolveWithSystem,
            createUpstream: (address) => createUpstream({ address, transport }, effective),
            timers,
            onResolveError: (error) => log.warn({ service, target: addresses[0], err: error }, "upstream name resolution failed; the last addresses stay in use"),
            onChange: (added, removed) => log.info({ service, target: addresses[0], added, removed }, "upstream addresses changed"),
            onRemove: (endpoint) => upstream.forget(endpoint),
          });
    const upstream: BalancedUpstream = new BalancedUpstream(endpoints, settings, {
      timers,
      random: resilience.random ?? Math.random,
      tallies: resilience.tallies?.(service) ?? silentTallies(),
      log,
      service,
    });
    balanced.push(upstream);
    byService.set(service, upstream);
    targets.set(service, endpoints.target);
  }
  return {
    get: (service) => byService.get(service),
    statuses: () =>
      [...byService].map(([service, upstream]): UpstreamStatus => {
        const balancing = upstream.balancing?.();
        return { service, address: targets.get(service) ?? "", state: upstream.connectionState?.() ?? "unknown", ...(balancing !== undefined && { balancing }) };
      }),
    close() {
      for (const upstream of balanced) upstream.close();
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

import { lookup } from "node:dns/promises";
import type { Timers } from "../../timers.js";
import type { Upstream } from "../upstream.js";
import { Endpoint } from "./endpoint.js";
import { DNS_SCHEME } from "./resilience-options.js";

/** The addresses of a balanced upstream. */
export interface EndpointSet {
  /** The addresses now; a new array whenever they change, so a scan in progress is never disturbed. */
  readonly list: readonly Endpoint[];
  /** Settles once the first answer is in (a name being resolved); undefined when there is no wait. */
  readonly firstAnswer: Promise<void> | undefined;
  /** What the set was made from, for readiness (`a:1,b:2`, `dns:///name:port`). */
  readonly target: string;
  /** Stops re-resolving; closes the upstreams the set owns. */
  close(): void;
}

/** A fixed list of addresses, each on an upstream the caller owns (the pool shares and closes them). */
export function staticEndpoints(addresses: ReadonlyArray<readonly [address: string, upstream: Upstream]>): EndpointSet {
  return {
    list: addresses.map(([address, upstream]) => new Endpoint(address, upstream)),
    firstAnswer: undefined,
    target: addresses.map(([address]) => address).join(","),
    close() {},
  };
}

/** Resolves a host name to its IP addresses (v4 and v6). */
export type ResolveHost = (host: string) => Promise<readonly string[]>;

/** The system's resolver (getaddrinfo, as `net.connect` resolves names: /etc/hosts, search domains). */
export const resolveWithSystem: ResolveHost = async (host) => (await lookup(host, { all: true })).map((entry) => entry.address);

/** `dns:///NAME:PORT` as its name and port, or undefined when `target` is not one. */
export function parseDnsTarget(target: string): { host: string; port: number } | undefined {
  if (!target.startsWith(DNS_SCHEME)) return undefined;
  const rest = target.slice(DNS_SCHEME.length);
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const port = Number(rest.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host: rest.slice(0, colon), port };
}

export interface DnsEndpointsOptions {
  readonly host: string;
  readonly port: number;
  readonly refreshMs: number;
  readonly resolve: ResolveHost;
  /** An upstream for one resolved `IP:PORT`; the set owns it and closes it once the address is gone and idle. */
  readonly createUpstream: (address: string) => Upstream;
  readonly timers: Timers;
  /** Told of a failed resolution (the last answer stays in force) and of changes. */
  readonly onResolveError: (error: unknown) => void;
  readonly onChange: (added: readonly string[], removed: readonly string[]) => void;
  /** Told of an address that left the list (outlier detection forgets it). */
  readonly onRemove: (endpoint: Endpoint) => void;
}

/** While a name has no address, it is asked again this often at most (rather than every `refreshMs`). */
const EMPTY_RETRY_MS = 1_000;

/**
 * The addresses of a `dns:///NAME:PORT` target: the name is resolved at once and then every
 * `refreshMs` (sooner while it has none). Each answer is compared with the list: new addresses
 * get an upstream (one connection each), vanished ones leave rotation at once and are closed when
 * their last call ends. A failed or empty resolution keeps the last list (a DNS hiccup must not
 * empty an upstream that works).
 */
export class DnsEndpoints implements EndpointSet {
  list: readonly Endpoint[] = [];
  firstAnswer: Promise<void> | undefined;
  readonly target: string;
  private timer: unknown;
  private closed = false;

  constructor(private readonly options: DnsEndpointsOptions) {
    this.target = `${DNS_SCHEME}${options.host}:${options.port}`;
    this.firstAnswer = this.refresh().finally(() => (this.firstAnswer = undefined));
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    for (const endpoint of this.list) endpoint.upstream.close();
    this.list = [];
  }

  private async refresh(): Promise<void> {
    let addresses: readonly string[] | undefined;
    try {
      addresses = await this.options.resolve(this.options.host);
    } catch (error) {
      if (!this.closed) this.options.onResolveError(error);
    }
    if (this.closed) return;
    if (addresses !== undefined && addresses.length > 0) this.apply(addresses);
    else if (addresses !== undefined) this.options.onResolveError(new Error(`${this.options.host} resolved to no address`));
    const delay = this.list.length === 0 ? Math.min(EMPTY_RETRY_MS, this.options.refreshMs) : this.options.refreshMs;
    const timer = this.options.timers.setTimeout(() => void this.refresh(), delay);
    (timer as { unref?: () => void } | undefined)?.unref?.();
    this.timer = timer;
  }

  private apply(ips: readonly string[]): void {
    const wanted = [...new Set(ips.map((ip) => formatAddress(ip, this.options.port)))].sort();
    const current = new Map(this.list.map((endpoint) => [endpoint.address, endpoint]));
    const added = wanted.filter((address) => !current.has(address));
    const removed = this.list.filter((endpoint) => !wanted.includes(endpoint.address));
    if (added.length === 0 && removed.length === 0) return;
    this.list = wanted.map((address) => current.get(address) ?? new Endpoint(address, this.options.createUpstream(address)));
    for (const endpoint of removed) {
      endpoint.removed = true;
      endpoint.refresh();
      this.options.onRemove(endpoint);
      // Otherwise its last call closes it (Endpoint.done).
      if (endpoint.active === 0) endpoint.upstream.close();
    }
    this.options.onChange(
      added,
      removed.map((endpoint) => endpoint.address),
    );
  }
}

/** `IP:PORT`, with an IPv6 address in brackets. */
function formatAddress(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

import type { Timers } from "../timers.js";
/** Options every upstream transport understands. */

/** Default largest upstream reply (grpc-js's own default, kept for both transports). */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;

/** How long to wait before connecting again after failed attempts: `initialMs * 2^(n-1)`, at most `maxMs`, +-20% jitter. */
export interface ReconnectBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * The reconnection schedule of both transports: 100 ms doubling up to 1 s (+-20% jitter).
 * Attempts are made only when a call needs the connection, so under load the cap is the whole
 * trade-off: a restarted upstream is noticed within about 1 s of coming back, and a down one
 * gets at most about one connection attempt per second per gateway replica (a refused TCP
 * connection costs next to nothing). It was 5 s, which left a restarted upstream unused for up
 * to 5 s after a longer outage. gRPC's own defaults (1 s growing to 120 s) suit clients that
 * must not stampede a shared service; a gateway fronting its own backends must recover fast.
 */
export const DEFAULT_RECONNECT_BACKOFF: ReconnectBackoff = Object.freeze({ initialMs: 100, maxMs: 1_000 });

/** How long a keepalive ping may go unanswered by default, in both HTTP/2 clients. */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

/**
 * A connection attempt that has not completed the HTTP/2 handshake by then is abandoned (a
 * blackholed address, a peer that accepts TCP and stays silent): its calls fail with UNAVAILABLE
 * rather than each waiting for its deadline, and the backoff starts.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** The `user-agent` of Protogate's own transports. */
export const USER_AGENT = "protogate";

/**
 * The gRPC client behind an upstream: Protogate's own, writing HTTP/2 frames itself on the socket
 * (`wire`, the default: about a quarter of `http2`'s CPU per call under load), Protogate's own
 * over `node:http2` (`http2`), or grpc-js.
 */
export type UpstreamTransport = "http2" | "wire" | "grpc-js";

export interface UpstreamOptions {
  /** Largest reply accepted; default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest request sent; default unlimited. */
  maxSendMessageBytes?: number;
  /** Interval of HTTP/2 keepalive pings; keepalive is off unless set. */
  keepaliveTimeMs?: number;
  /** How long a keepalive ping may go unanswered before the connection is dropped. */
  keepaliveTimeoutMs?: number;
  /** Wall clock, for the deadline bookkeeping of a call. */
  now?: () => number;
  /**
   * The timers the gateway's own deadline timer of a call runs on (streaming calls of both
   * transports, unary calls of the http2 one); Node's when absent. Tests pass manual ones to
   * expire a deadline without waiting for it.
   */
  timers?: UpstreamTimers;
  /** TLS toward the upstream; plaintext when absent. */
  tls?: UpstreamTls;
}

/** Timer functions (the project's injectable timers, so one fake clock serves them all). */
export type UpstreamTimers = Pick<Timers, "setTimeout" | "clearTimeout">;

/** TLS material for one upstream, already read from its files. */
export interface UpstreamTls {
  /** PEM trust roots; the system roots when absent. */
  readonly ca?: Buffer;
  /** PEM client certificate chain and key, for upstreams that require client certificates. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** The name the upstream's certificate must carry, when it differs from the address's host. */
  readonly serverName?: string;
}

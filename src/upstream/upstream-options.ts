/** Options every upstream transport understands. */

/** Default largest upstream reply (grpc-js's own default, kept for both transports). */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;

/** The gRPC client behind an upstream: Protogate's own over `node:http2` (default), or grpc-js. */
export type UpstreamTransport = "http2" | "grpc-js";

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
  /** TLS toward the upstream; plaintext when absent. */
  tls?: UpstreamTls;
}

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

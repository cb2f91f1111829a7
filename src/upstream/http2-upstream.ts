import { callUnary } from "./grpc-call.js";
import { exchangeContext } from "./grpc-exchange.js";
import { GrpcStream } from "./grpc-stream.js";
import { UpstreamConnection } from "./http2-session.js";
import { Http2Transport } from "./http2-transport.js";
import type { ReconnectBackoff, UpstreamOptions } from "./upstream-options.js";
import type { Upstream } from "./upstream.js";

export interface Http2UpstreamOptions extends UpstreamOptions {
  /** Pause before connecting again after a failed attempt; default `DEFAULT_RECONNECT_BACKOFF`. */
  reconnectBackoff?: ReconnectBackoff;
  /** Longest connection attempt (until the upstream's SETTINGS); default `DEFAULT_CONNECT_TIMEOUT_MS`. */
  connectTimeoutMs?: number;
  /** Random source in [0, 1) for the backoff's jitter (tests fix it). */
  random?: () => number;
}

/**
 * An upstream over one long-lived `node:http2` session to `target.address` (plaintext, or TLS
 * with ALPN h2), speaking gRPC's protocol itself (unary and streaming calls, `GrpcExchange`): no
 * grpc-js on the hot path. Like the grpc-js transport, calls do not wait for a connection: a
 * refused or reset one fails at once with UNAVAILABLE, and so do calls during the reconnection
 * backoff after it. Failures reject with an `UpstreamError` saying where the call failed
 * (connection, deadline, client cancel, the upstream's status, a protocol violation, a size limit).
 */
export function createHttp2Upstream(target: { address: string }, options: Http2UpstreamOptions = {}): Upstream {
  const connection = new UpstreamConnection(target.address, {
    ...(options.reconnectBackoff !== undefined && { backoff: options.reconnectBackoff }),
    ...(options.connectTimeoutMs !== undefined && { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.now !== undefined && { now: options.now }),
    ...(options.random !== undefined && { random: options.random }),
    ...(options.tls !== undefined && { tls: options.tls }),
    ...(options.keepaliveTimeMs !== undefined && { keepaliveTimeMs: options.keepaliveTimeMs }),
    ...(options.keepaliveTimeoutMs !== undefined && { keepaliveTimeoutMs: options.keepaliveTimeoutMs }),
  });
  const context = exchangeContext(new Http2Transport(connection, options.tls?.serverName), options);
  return {
    call: (unary) => callUnary(context, unary),
    stream: (call) => new GrpcStream(context, call),
    close: () => connection.close(),
    connectionState: () => connection.state(),
  };
}

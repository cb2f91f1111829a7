import { callUnary } from "./grpc-call.js";
import { exchangeContext, type ExchangeStream, type ExchangeTransport, type GrpcExchange, type RequestHead, type SessionUnavailable } from "./grpc-exchange.js";
import { GrpcStream } from "./grpc-stream.js";
import type { Http2UpstreamOptions } from "./http2-upstream.js";
import { ReconnectGate } from "./reconnect-gate.js";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "./upstream-options.js";
import type { Upstream, UpstreamConnectionState } from "./upstream.js";
import { WireConnection, type ConnectionOwner, type WireConnectionOptions } from "./wire-connection.js";

export interface WireUpstreamOptions extends Http2UpstreamOptions {
  /** The first stream id of each connection (tests start near the end of the id space). */
  firstStreamId?: number;
}

/**
 * The upstream's current `WireConnection`, made when a call needs one and none is usable (none
 * yet, closed, GOAWAY received, stream ids used up), within the `ReconnectGate`'s backoff.
 */
class WireTransport implements ExchangeTransport, ConnectionOwner {
  private current: WireConnection | undefined;
  /** Every connection not yet closed (retired ones finish their streams), for `close`. */
  private readonly live = new Set<WireConnection>();
  private readonly gate: ReconnectGate;
  private readonly connectionOptions: WireConnectionOptions;
  /** What the last handshake said, for `state` (a readiness report, never the hot path). */
  private lastHandshake: "none" | "ok" | "failed" = "none";

  constructor(
    private readonly address: string,
    options: WireUpstreamOptions,
  ) {
    this.gate = new ReconnectGate({
      ...(options.reconnectBackoff !== undefined && { backoff: options.reconnectBackoff }),
      ...(options.now !== undefined && { now: options.now }),
      ...(options.random !== undefined && { random: options.random }),
    });
    this.connectionOptions = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ...(options.tls !== undefined && { tls: options.tls }),
      ...(options.keepaliveTimeMs !== undefined && { keepaliveTimeMs: options.keepaliveTimeMs }),
      ...(options.keepaliveTimeoutMs !== undefined && { keepaliveTimeoutMs: options.keepaliveTimeoutMs }),
      ...(options.firstStreamId !== undefined && { firstStreamId: options.firstStreamId }),
    };
  }

  open(exchange: GrpcExchange, head: RequestHead): ExchangeStream | SessionUnavailable {
    let connection = this.current;
    if (connection === undefined || !connection.usable) {
      const refusal = this.gate.refusal();
      if (refusal !== undefined) return refusal;
      connection = this.current = new WireConnection(this.address, this, this.connectionOptions);
      if (this.lastHandshake === "ok") this.lastHandshake = "none";
      this.live.add(connection);
    }
    return connection.open(exchange, head);
  }

  /** The connection's state in gRPC's terms. */
  state(): UpstreamConnectionState {
    if (this.gate.closed) return "shutdown";
    const connection = this.current;
    if (this.lastHandshake === "failed" && (connection === undefined || !connection.usable)) return "transient_failure";
    if (connection === undefined || !connection.usable) return "idle";
    return this.lastHandshake === "ok" ? "ready" : "connecting";
  }

  handshake(connection: WireConnection, failure: string | undefined): void {
    if (connection === this.current || failure !== undefined) this.lastHandshake = failure === undefined ? "ok" : "failed";
    if (failure === undefined) this.gate.succeeded();
    else this.gate.failed(failure);
  }

  retired(connection: WireConnection): void {
    if (this.current === connection) this.current = undefined;
  }

  closed(connection: WireConnection): void {
    this.live.delete(connection);
  }

  close(): void {
    this.gate.closed = true;
    this.current = undefined;
    for (const connection of this.live) connection.destroy();
  }
}

/**
 * An upstream over Protogate's own HTTP/2 client (wire-connection.ts) to `target.address`
 * (plaintext, or TLS with ALPN h2): the same gRPC semantics as the http2 transport (both are
 * `GrpcExchange`s), without node:http2 under them.
 */
export function createWireUpstream(target: { address: string }, options: WireUpstreamOptions = {}): Upstream {
  const transport = new WireTransport(target.address, options);
  const context = exchangeContext(transport, options);
  return {
    call: (unary) => callUnary(context, unary),
    stream: (call) => new GrpcStream(context, call),
    close: () => transport.close(),
    connectionState: () => transport.state(),
  };
}

/** Metadata as ordered key/value pairs; `-bin` keys carry Buffers. */
export type MetadataEntries = ReadonlyArray<readonly [string, string | Buffer]>;

/** One unary call, its messages already in binary form. */
export interface UnaryCall {
  /** gRPC path, e.g. `/demo.v1.UserService/GetUser`. */
  rpcPath: string;
  request: Uint8Array;
  metadata: MetadataEntries;
  /** Absolute deadline, epoch ms. */
  deadline: number;
  /** The timeout the deadline was made from, for error messages (else: the time left when the call started). */
  timeoutMs?: number;
  /** Aborted when the HTTP client goes away; cancels the call. */
  signal?: CancelSignal;
  /**
   * The call may be sent again after it may have reached the upstream: an HTTP GET binding, or a
   * method whose proto says `option idempotency_level = IDEMPOTENT` (or `NO_SIDE_EFFECTS`). Only
   * a balanced upstream with `retries` reads it; absent: false.
   */
  idempotent?: boolean;
}

/**
 * The part of `AbortSignal` a call uses. An `AbortSignal` fits; the server passes a cheaper
 * object, because an AbortController and its EventTarget per request cost measurable throughput.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A successful call: the response message and the upstream's header and trailer metadata. */
export interface UnaryResult {
  response: Uint8Array;
  headers: MetadataEntries;
  trailers: MetadataEntries;
}

/** One streaming call (server, client or bidirectional streaming), opened before any message is sent. */
export interface StreamCall {
  /** gRPC path, e.g. `/demo.v1.ChatService/Chat`. */
  rpcPath: string;
  metadata: MetadataEntries;
  /** Absolute deadline, epoch ms; undefined for none (a stream has no deadline unless configured). */
  deadline: number | undefined;
  /** The timeout the deadline was made from, for error messages. */
  timeoutMs?: number;
  /** Aborted when the HTTP client goes away; cancels the call. */
  signal?: CancelSignal;
}

/**
 * An open streaming call. Both directions are flow-controlled:
 * - reading is pull-based: the transport buffers at most a few messages and stops reading from
 *   the network (so HTTP/2 flow control stops the upstream) until `read()` is called again, so a
 *   slow HTTP client slows the upstream down instead of filling the gateway's memory;
 * - `write` resolves only when the transport can take another message.
 * Every failure is an `UpstreamError` (upstream-error.ts), carrying the metadata received so far.
 */
export interface UpstreamStream {
  /**
   * The upstream's response header metadata, once they arrive. Rejects with the call's
   * UpstreamError when it fails before any (a trailers-only answer with a status included).
   */
  readonly headers: Promise<MetadataEntries>;
  /**
   * The next response message, or undefined once the call has ended with OK. Rejects with the
   * call's UpstreamError when it ended otherwise (or was cancelled). One read at a time.
   */
  read(): Promise<Uint8Array | undefined>;
  /** The upstream's trailer metadata: complete once `read` has returned undefined or rejected. */
  trailers(): MetadataEntries;
  /**
   * Sends one request message. Resolves when the transport can take the next one; rejects with
   * the call's UpstreamError when the call has already failed (its status is then also what
   * `read` rejects with).
   */
  write(message: Uint8Array): Promise<void>;
  /** No more request messages (half-close). Idempotent. */
  end(): void;
  /** Cancels the call (RST_STREAM CANCEL to the upstream); pending and later reads reject with CANCELLED. Idempotent. */
  cancel(): void;
}

/**
 * The one thing the gateway needs from a gRPC upstream. Kept this small so a leaner HTTP/2
 * transport can replace grpc-js without touching the rest. `call` rejects with an
 * `UpstreamError` (upstream-error.ts), which says where the call failed.
 */
export interface Upstream {
  call(call: UnaryCall): Promise<UnaryResult>;
  /** Opens a streaming call of any kind; messages are exchanged through the returned stream. */
  stream(call: StreamCall): UpstreamStream;
  /** Closes the connection; calls in flight fail with UNAVAILABLE or CANCELLED. */
  close(): void;
  /** The connection's state now (for readiness reports); "unknown" when the transport cannot tell. */
  connectionState?(): UpstreamConnectionState;
  /** A balanced upstream (several addresses or resilience options): each address's state and the breaker's, now. */
  balancing?(): BalancingStatus;
}

/** Where an address of a balanced upstream stands: in rotation, ejected by outlier detection, or failing health checks. */
export type EndpointHealth = "healthy" | "ejected" | "unhealthy";

/** One address of a balanced upstream, as a readiness report shows it. */
export interface UpstreamEndpointStatus {
  readonly address: string;
  /** Its connection's state. */
  readonly state: UpstreamConnectionState;
  readonly health: EndpointHealth;
  /** Calls and streams in flight on it. */
  readonly active: number;
}

/** The state of a balanced upstream's addresses and circuit breaker. */
export interface BalancingStatus {
  readonly endpoints: readonly UpstreamEndpointStatus[];
  /** The circuit breaker's state; absent when there is none. */
  readonly breaker?: "closed" | "open" | "half-open";
  /** Calls and streams in flight on the whole upstream. */
  readonly active: number;
}

/** A connection's state, in gRPC's connectivity terms. */
export type UpstreamConnectionState = "idle" | "connecting" | "ready" | "transient_failure" | "shutdown" | "unknown";

/** One configured service's upstream, as a readiness report shows it. */
export interface UpstreamStatus {
  readonly service: string;
  /** The configured target: `HOST:PORT`, the addresses joined by commas, or `dns:///NAME:PORT`. */
  readonly address: string;
  /** The connection's state (a balanced upstream: its best address's). */
  readonly state: UpstreamConnectionState;
  /** A balanced upstream's addresses (each one's state and health) and breaker; absent for a single plain address. */
  readonly balancing?: BalancingStatus;
}

/** The upstreams of all configured services. */
export interface UpstreamPool {
  /** The upstream serving a fully qualified service name, or undefined when none is configured. */
  get(service: string): Upstream | undefined;
  /** Each configured service's upstream and its connection state now (read-only). */
  statuses?(): UpstreamStatus[];
  close(): void;
}

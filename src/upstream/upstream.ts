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

/**
 * The one thing the gateway needs from a gRPC upstream. Kept this small so a leaner HTTP/2
 * transport can replace grpc-js without touching the rest. `call` rejects with an
 * `UpstreamError` (upstream-error.ts), which says where the call failed.
 */
export interface Upstream {
  call(call: UnaryCall): Promise<UnaryResult>;
  /** Closes the connection; calls in flight fail with UNAVAILABLE or CANCELLED. */
  close(): void;
}

/** The upstreams of all configured services. */
export interface UpstreamPool {
  /** The upstream serving a fully qualified service name, or undefined when none is configured. */
  get(service: string): Upstream | undefined;
  close(): void;
}

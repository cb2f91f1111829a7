import { Client, credentials, status as GrpcStatus, type ChannelOptions, type ClientReadableStream, type StatusObject } from "@grpc/grpc-js";
import { GrpcCode } from "../errors/grpc-code.js";
import { GrpcJsCall, deserialize, entriesOf, grpcMetadata, ignoreError, serialize, type GrpcContext, type Violation } from "./grpc-js-call.js";
import { GrpcJsStream } from "./grpc-js-stream.js";
import { PROTOCOL_VIOLATION } from "./protocol-violation.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, DEFAULT_RECONNECT_BACKOFF, type UpstreamOptions } from "./upstream-options.js";
import type { UnaryCall, UnaryResult, Upstream, UpstreamConnectionState } from "./upstream.js";

/** grpc-js's connectivity states (IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN) by number. */
const GRPC_JS_STATES: readonly UpstreamConnectionState[] = ["idle", "connecting", "ready", "transient_failure", "shutdown"];

export interface GrpcUpstreamOptions extends UpstreamOptions {
  /** Further grpc-js channel options; they win over the ones derived from the fields above. */
  channelOptions?: ChannelOptions;
}

/** The grpc-js channel options the gateway uses for an upstream. */
export function grpcChannelOptions(options: GrpcUpstreamOptions = {}): ChannelOptions {
  const channel: ChannelOptions = {
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    "grpc.primary_user_agent": "protogate",
    // Upstreams are configured explicitly; no DNS TXT lookups for a service config.
    "grpc.service_config_disable_resolution": 1,
    // Each upstream owns its connections, so close() really closes them.
    "grpc.use_local_subchannel_pool": 1,
    // No transparent retries: the client decides whether to retry a failed REST call, and the
    // retry layer (message buffering per call) costs throughput on every call.
    "grpc.enable_retries": 0,
    // Channelz (grpc's introspection service) is not exposed by the gateway; its per-call
    // bookkeeping is pure overhead here.
    "grpc.enable_channelz": 0,
    // The gateway's reconnection schedule rather than grpc's (1 s growing to 120 s), so that a
    // restarted upstream is back within about a second whichever transport calls it.
    "grpc.initial_reconnect_backoff_ms": DEFAULT_RECONNECT_BACKOFF.initialMs,
    "grpc.max_reconnect_backoff_ms": DEFAULT_RECONNECT_BACKOFF.maxMs,
  };
  if (options.maxSendMessageBytes !== undefined) channel["grpc.max_send_message_length"] = options.maxSendMessageBytes;
  if (options.tls?.serverName !== undefined) {
    channel["grpc.ssl_target_name_override"] = options.tls.serverName;
    channel["grpc.default_authority"] = options.tls.serverName;
  }
  if (options.keepaliveTimeMs !== undefined) {
    channel["grpc.keepalive_time_ms"] = options.keepaliveTimeMs;
    channel["grpc.keepalive_timeout_ms"] = options.keepaliveTimeoutMs ?? 20_000;
  }
  return { ...channel, ...options.channelOptions };
}

/**
 * An upstream over one long-lived grpc-js channel to `target.address` (`host:port`, plaintext
 * or TLS). Calls do not wait for the connection (waitForReady off): a refused connection fails
 * at once with UNAVAILABLE. Failures reject with an `UpstreamError`; where the call failed is
 * decided here, from what this transport saw (see grpc-js-status.ts).
 */
export function createGrpcUpstream(target: { address: string }, options: GrpcUpstreamOptions = {}): Upstream {
  const tls = options.tls;
  const channelCredentials = tls ? credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null) : credentials.createInsecure();
  const context: GrpcContext = {
    client: new Client(target.address, channelCredentials, grpcChannelOptions(options)),
    now: options.now ?? Date.now,
    maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    maxSendMessageBytes: options.maxSendMessageBytes ?? Number.POSITIVE_INFINITY,
    timers: options.timers,
  };
  return {
    call: (unary) => new Promise<UnaryResult>((resolve, reject) => new PendingCall(context, unary, resolve, reject)),
    stream: (call) => new GrpcJsStream(context, call),
    close: () => context.client.close(),
    connectionState: () => GRPC_JS_STATES[context.client.getChannel().getConnectivityState(false)] ?? "unknown",
  };
}

/**
 * The state of one call in flight. A class rather than closures: this runs once per request, and
 * per-call closures (plus the name helpers the TypeScript loader wraps them in) showed up in profiles.
 *
 * The call is read as a server stream: grpc-js's unary read takes one message and stops reading,
 * so an upstream that sends a second one leaves the call hanging until its deadline. Read as a
 * stream, every message arrives, and a second one is caught here (measured: the same CPU per
 * call as a unary request, `bench/upstream-cost.ts`).
 */
class PendingCall extends GrpcJsCall {
  private readonly stream: ClientReadableStream<Buffer> | undefined;
  private messages = 0;
  private response: Buffer | undefined;

  constructor(
    context: GrpcContext,
    private readonly unary: UnaryCall,
    private readonly resolve: (result: UnaryResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    super(context, unary);
    if (unary.signal?.aborted) {
      reject(this.error({ origin: "cancelled", code: GrpcCode.CANCELLED, message: "Cancelled before the call started" }));
      return;
    }
    const size = unary.request.byteLength;
    const maxBytes = context.maxSendMessageBytes;
    if (size > maxBytes) {
      // Checked here rather than by grpc-js, whose refusal reads like an upstream's own RESOURCE_EXHAUSTED.
      reject(this.error({ origin: "limit", code: GrpcCode.RESOURCE_EXHAUSTED, message: `Sent message larger than max (${size} vs. ${maxBytes})`, limit: { direction: "request", bytes: size, maxBytes } }));
      return;
    }
    try {
      this.stream = context.client.makeServerStreamRequest(unary.rpcPath, serialize, deserialize, unary.request, grpcMetadata(unary.metadata), { deadline: unary.deadline });
    } catch (error) {
      reject(error); // Invalid metadata or a closed channel: a gateway bug, mapped to INTERNAL.
      return;
    }
    this.stream.on("metadata", this.onMetadata);
    this.stream.on("data", this.onData);
    this.stream.on("error", ignoreError);
    // Emitted last, with the trailers: the call's outcome is decided there.
    this.stream.on("status", this.onStatus);
    unary.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  // Bound prototype methods rather than arrow-function fields: the TypeScript loader wraps every
  // arrow function it creates in a naming helper, which costs on each call.
  private readonly onMetadata = PendingCall.prototype.handleMetadata.bind(this);
  private readonly onData = PendingCall.prototype.handleData.bind(this);
  private readonly onAbort = PendingCall.prototype.handleAbort.bind(this);
  private readonly onStatus = PendingCall.prototype.handleStatus.bind(this);

  private handleData(message: Buffer): void {
    if (++this.messages === 1) this.response = message;
    else this.violate([GrpcCode.UNIMPLEMENTED, PROTOCOL_VIOLATION.tooManyMessages]);
  }

  private handleAbort(): void {
    this.cancelled = true;
    this.stream?.cancel();
  }

  private violate(violation: Violation): void {
    if (this.violation !== undefined) return;
    this.violation = violation;
    this.stream?.cancel();
  }

  private handleStatus(status: StatusObject): void {
    this.unary.signal?.removeEventListener("abort", this.onAbort);
    if (status.code === GrpcStatus.OK && this.messages === 1 && this.violation === undefined && !this.notGrpc) {
      this.resolve({ response: this.response as Buffer, headers: this.responseHeaders, trailers: entriesOf(status.metadata) });
      return;
    }
    this.reject(this.statusError(status));
  }
}

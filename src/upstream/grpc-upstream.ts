import { Client, Metadata, credentials, status as GrpcStatus, type ChannelOptions, type ClientUnaryCall, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { tagUpstreamFailure, type UpstreamFailureOrigin } from "../errors/upstream-failure.js";
import type { MetadataEntries, UnaryCall, UnaryResult, Upstream } from "./upstream.js";
import { callFailure, gatewayDeadlineReached } from "./deadline.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, type UpstreamOptions } from "./upstream-options.js";

export interface GrpcUpstreamOptions extends UpstreamOptions {
  /** Further grpc-js channel options; they win over the ones derived from the fields above. */
  channelOptions?: ChannelOptions;
}

const serialize = (message: Uint8Array): Buffer => Buffer.from(message.buffer, message.byteOffset, message.byteLength);
const deserialize = (message: Buffer): Buffer => message;

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
 * for now). Calls do not wait for the connection (waitForReady off): a refused connection fails
 * at once with UNAVAILABLE. Failures reject with the grpc-js `ServiceError`, tagged with where
 * the call failed (connection, deadline, client cancel, upstream).
 */
export function createGrpcUpstream(target: { address: string }, options: GrpcUpstreamOptions = {}): Upstream {
  const tls = options.tls;
  const channelCredentials = tls ? credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null) : credentials.createInsecure();
  const client = new Client(target.address, channelCredentials, grpcChannelOptions(options));
  const now = options.now ?? Date.now;
  return {
    call: (unary) => new Promise<UnaryResult>((resolve, reject) => new PendingCall(client, unary, now, resolve, reject)),
    close: () => client.close(),
  };
}

/**
 * The state of one call in flight. A class rather than closures: this runs once per request, and
 * per-call closures (plus the name helpers the TypeScript loader wraps them in) showed up in profiles.
 */
class PendingCall {
  private readonly start: number;
  private readonly call: ClientUnaryCall | undefined;
  private headers: MetadataEntries = [];
  private gotHeaders = false;
  private cancelled = false;
  private outcome: ServiceError | Buffer | undefined;

  constructor(
    client: Client,
    private readonly unary: UnaryCall,
    private readonly now: () => number,
    private readonly resolve: (result: UnaryResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.start = now();
    if (unary.signal?.aborted) {
      reject(tagUpstreamFailure(statusError(GrpcStatus.CANCELLED, "Cancelled before the call started"), this.failure("cancelled")));
      return;
    }
    try {
      const metadata = new Metadata();
      for (const [key, value] of unary.metadata) metadata.add(key, value);
      this.call = client.makeUnaryRequest(unary.rpcPath, serialize, deserialize, unary.request, metadata, { deadline: unary.deadline }, this.onResponse);
    } catch (error) {
      reject(error); // Invalid metadata or a closed channel: a gateway bug, mapped to INTERNAL.
      return;
    }
    this.call.on("metadata", this.onMetadata);
    // grpc-js runs the callback first and then emits `status`, which alone carries the trailers.
    this.call.on("status", this.onStatus);
    unary.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  // Bound prototype methods rather than arrow-function fields: the TypeScript loader wraps every
  // arrow function it creates in a naming helper, which costs on each call.
  private readonly onResponse = PendingCall.prototype.handleResponse.bind(this);
  private readonly onMetadata = PendingCall.prototype.handleMetadata.bind(this);
  private readonly onAbort = PendingCall.prototype.handleAbort.bind(this);
  private readonly onStatus = PendingCall.prototype.handleStatus.bind(this);

  private handleResponse(error: ServiceError | null, response?: Buffer): void {
    this.outcome = error ?? response ?? Buffer.alloc(0);
  }

  private handleMetadata(metadata: Metadata): void {
    this.gotHeaders = true;
    this.headers = entriesOf(metadata);
  }

  private handleAbort(): void {
    this.cancelled = true;
    this.call?.cancel();
  }

  private handleStatus(status: StatusObject): void {
    this.unary.signal?.removeEventListener("abort", this.onAbort);
    const outcome = this.outcome;
    if (Buffer.isBuffer(outcome)) {
      this.resolve({ response: outcome, headers: this.headers, trailers: entriesOf(status.metadata) });
      return;
    }
    const error = outcome ?? statusError(status.code, status.details, status.metadata);
    this.reject(tagUpstreamFailure(error, this.failure(this.classify(error, status))));
  }

  private failure(origin: UpstreamFailureOrigin) {
    return callFailure(this.unary, this.start, origin);
  }

  private classify(error: ServiceError, status: StatusObject): UpstreamFailureOrigin {
    if (this.cancelled && error.code === GrpcStatus.CANCELLED) return "cancelled";
    if (error.code === GrpcStatus.DEADLINE_EXCEEDED && gatewayDeadlineReached(this.unary, this.now())) return "deadline";
    // grpc-js's own UNAVAILABLE (refused, reset, no route) comes without any upstream metadata.
    if (error.code === GrpcStatus.UNAVAILABLE && !this.gotHeaders && entriesOf(status.metadata).length === 0) return "connection";
    return "upstream";
  }
}

function entriesOf(metadata: Metadata): Array<[string, string | Buffer]> {
  const entries: Array<[string, string | Buffer]> = [];
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) entries.push([key, value]);
  }
  return entries;
}

/** A `ServiceError` like the ones grpc-js builds, for failures detected before grpc-js reports them. */
function statusError(code: GrpcStatus, details: string, metadata: Metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${details}`), { code, details, metadata });
}

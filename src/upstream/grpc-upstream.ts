import { Client, Metadata, credentials, status as GrpcStatus, type ChannelOptions, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { tagUpstreamFailure, type UpstreamFailureOrigin } from "../errors/upstream-failure.js";
import type { MetadataEntries, UnaryCall, UnaryResult, Upstream } from "./upstream.js";

/** Default largest upstream reply (grpc-js's own default). */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
/** grpc-js's deadline timer may fire this much before the wall clock reaches the deadline. */
const DEADLINE_CLOCK_SLACK_MS = 5;

export interface GrpcUpstreamOptions {
  /** Largest reply accepted (`grpc.max_receive_message_length`); default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest request sent (`grpc.max_send_message_length`); default unlimited. */
  maxSendMessageBytes?: number;
  /** Interval of HTTP/2 keepalive pings; keepalive is off unless set. */
  keepaliveTimeMs?: number;
  /** How long a keepalive ping may go unanswered before the connection is dropped. */
  keepaliveTimeoutMs?: number;
  /** Wall clock, used to tell the gateway's deadline from an upstream's DEADLINE_EXCEEDED. */
  now?: () => number;
  /** Further grpc-js channel options; they win over the ones above. */
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
  };
  if (options.maxSendMessageBytes !== undefined) channel["grpc.max_send_message_length"] = options.maxSendMessageBytes;
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
  const client = new Client(target.address, credentials.createInsecure(), grpcChannelOptions(options));
  const now = options.now ?? Date.now;

  function call(unary: UnaryCall): Promise<UnaryResult> {
    return new Promise<UnaryResult>((resolve, reject) => {
      const start = now();
      const failure = (origin: UpstreamFailureOrigin) => ({
        origin,
        rpcPath: unary.rpcPath,
        timeoutMs: Math.max(0, Math.round(unary.deadline - start)),
      });
      if (unary.signal?.aborted) {
        reject(tagUpstreamFailure(statusError(GrpcStatus.CANCELLED, "Cancelled before the call started"), failure("cancelled")));
        return;
      }

      let headers: MetadataEntries = [];
      let gotHeaders = false;
      let cancelled = false;
      let outcome: { error: ServiceError } | { response: Buffer } | undefined;
      const onAbort = () => {
        cancelled = true;
        grpcCall.cancel();
      };

      let grpcCall: ReturnType<Client["makeUnaryRequest"]>;
      try {
        const metadata = new Metadata();
        for (const [key, value] of unary.metadata) metadata.add(key, value);
        grpcCall = client.makeUnaryRequest(unary.rpcPath, serialize, deserialize, unary.request, metadata, { deadline: unary.deadline }, (error, response) => {
          outcome = error ? { error } : { response: response ?? Buffer.alloc(0) };
        });
      } catch (error) {
        reject(error); // Invalid metadata or a closed channel: a gateway bug, mapped to INTERNAL.
        return;
      }
      grpcCall.on("metadata", (metadata: Metadata) => {
        gotHeaders = true;
        headers = entriesOf(metadata);
      });
      // grpc-js runs the callback first and then emits `status`, which alone carries the trailers.
      grpcCall.on("status", (status: StatusObject) => {
        unary.signal?.removeEventListener("abort", onAbort);
        if (outcome !== undefined && "response" in outcome) {
          resolve({ response: outcome.response, headers, trailers: entriesOf(status.metadata) });
          return;
        }
        const error = outcome?.error ?? statusError(status.code, status.details, status.metadata);
        reject(tagUpstreamFailure(error, failure(classify(error, status))));
      });
      unary.signal?.addEventListener("abort", onAbort, { once: true });

      function classify(error: ServiceError, status: StatusObject): UpstreamFailureOrigin {
        if (cancelled && error.code === GrpcStatus.CANCELLED) return "cancelled";
        if (error.code === GrpcStatus.DEADLINE_EXCEEDED && now() >= unary.deadline - DEADLINE_CLOCK_SLACK_MS) return "deadline";
        // grpc-js's own UNAVAILABLE (refused, reset, no route) comes without any upstream metadata.
        if (error.code === GrpcStatus.UNAVAILABLE && !gotHeaders && entriesOf(status.metadata).length === 0) return "connection";
        return "upstream";
      }
    });
  }

  return {
    call,
    close: () => client.close(),
  };
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

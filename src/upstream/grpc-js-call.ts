import { Metadata, status as GrpcStatus, type Client, type StatusObject } from "@grpc/grpc-js";
import { GrpcCode } from "../errors/grpc-code.js";
import { gatewayDeadlineReached } from "./deadline.js";
import { classifyGrpcJsStatus } from "./grpc-js-status.js";
import { isGrpcContentType } from "./grpc-wire-status.js";
import { PROTOCOL_VIOLATION } from "./protocol-violation.js";
import { UpstreamError, failedCall, statusDetails, type UpstreamErrorInit } from "./upstream-error.js";
import type { UpstreamTimers } from "./upstream-options.js";
import type { MetadataEntries, StreamCall } from "./upstream.js";

/** What every call of one grpc-js upstream shares. */
export interface GrpcContext {
  readonly client: Client;
  readonly now: () => number;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** Timers of the gateway's own deadline timer of a stream; Node's when undefined. */
  readonly timers: UpstreamTimers | undefined;
}

/** Messages go through grpc-js as the bytes they are (the transcoder encodes and decodes them). */
export const serialize = (message: Uint8Array): Buffer => Buffer.from(message.buffer, message.byteOffset, message.byteLength);
export const deserialize = (message: Buffer): Buffer => message;

export const NO_METADATA: MetadataEntries = Object.freeze([]);
/** The stream's `error` event repeats what `status` reports; a listener must exist, or it would throw. */
export const ignoreError = (): void => undefined;
/** A protocol violation this transport found itself (grpc-js does not check for it): its code and message. */
export type Violation = readonly [code: GrpcCode, message: string];

/**
 * What a unary call and a stream over grpc-js share: reading the response headers, and turning
 * grpc-js's final status into an `UpstreamError` at the boundary (grpc-js-status.ts decides the
 * origin from the status and what the call saw), so both kinds fail alike.
 */
export abstract class GrpcJsCall {
  protected readonly start: number;
  protected responseHeaders: MetadataEntries = NO_METADATA;
  protected gotHeaders = false;
  /** The reply's content-type is not gRPC's (decided with the status: see `handleMetadata`). */
  protected notGrpc = false;
  /** The gateway cancelled the call because its client went away. */
  protected cancelled = false;
  protected violation: Violation | undefined;

  constructor(
    protected readonly context: GrpcContext,
    protected readonly call: StreamCall,
  ) {
    this.start = context.now();
  }

  protected handleMetadata(metadata: Metadata): void {
    this.gotHeaders = true;
    this.responseHeaders = entriesOf(metadata);
    // grpc-js reads any reply as gRPC; whether it was one is decided with the status (a non-200
    // HTTP status is an intermediary's answer, reported as such).
    const contentType = metadata.get("content-type")[0];
    this.notGrpc = !isGrpcContentType(typeof contentType === "string" ? contentType : undefined);
  }

  /** The error for a status that did not end the call well. */
  protected statusError(status: StatusObject): UpstreamError {
    const trailers = entriesOf(status.metadata);
    const metadata = this.responseHeaders.length === 0 ? trailers : [...this.responseHeaders, ...trailers];
    const violation = this.violation;
    if (violation !== undefined) return this.error({ origin: "protocol", code: violation[0], message: violation[1], metadata });
    if (this.cancelled && status.code === GrpcStatus.CANCELLED) return this.error({ origin: "cancelled", code: GrpcCode.CANCELLED, message: status.details, metadata });
    if (this.notGrpc && !isNonOkHttpStatus(status.details)) return this.error({ origin: "protocol", code: GrpcCode.UNKNOWN, message: PROTOCOL_VIOLATION.notGrpc, metadata });
    const classified = classifyGrpcJsStatus(status, {
      gotHeaders: this.gotHeaders,
      deadlineReached: gatewayDeadlineReached(this.call, this.context.now()),
      maxReceiveMessageBytes: this.context.maxReceiveMessageBytes,
    });
    const details = classified.origin === "upstream" ? statusDetails(trailers, classified.code) : undefined;
    // grpc-js fails a call at its picker, before any stream exists, while it has no connection.
    const unprocessed = classified.origin === "connection" && !this.gotHeaders && NOT_CONNECTED.test(classified.message);
    return this.error({ ...classified, metadata, ...(details !== undefined && { details }), unprocessed, responseStarted: this.gotHeaders });
  }

  protected error(init: UpstreamErrorInit): UpstreamError {
    return new UpstreamError(failedCall(this.call, this.start), init);
  }
}

/** grpc-js's status (picker.js, load-balancer-*.js in 1.14) for a call that found no connection to go on. */
const NOT_CONNECTED = /^(?:[a-z_]+: )?No connection established/;

/** grpc-js's status for a response with a non-200 HTTP status and no grpc-status (an intermediary's answer). */
function isNonOkHttpStatus(details: string): boolean {
  return details.startsWith("Received HTTP status code ") && details !== "Received HTTP status code 200";
}

/** Request metadata as grpc-js's. */
export function grpcMetadata(entries: MetadataEntries): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of entries) metadata.add(key, value);
  return metadata;
}

/** grpc-js metadata as entries, in its order. */
export function entriesOf(metadata: Metadata): Array<[string, string | Buffer]> {
  const entries: Array<[string, string | Buffer]> = [];
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) entries.push([key, value]);
  }
  return entries;
}

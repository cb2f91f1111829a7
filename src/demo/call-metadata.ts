import { Metadata, status, type StatusObject } from "@grpc/grpc-js";
import { DemoRpcError } from "./rpc-error.js";

/** Header metadata a demo call echoes back, so gateways can show their metadata mapping. */
export const ECHOED_HEADER = "x-request-id";
/** Trailer every demo call sets, on success and on error. */
export const SERVED_BY_TRAILER = "x-demo-served-by";

/** The part of a grpc-js server call that carries metadata (every call kind has it). */
export interface MetadataCall {
  readonly metadata: Metadata;
  sendMetadata(header: Metadata): void;
}

/**
 * Sends the call's header metadata now, echoing `x-request-id` when the request has one. Streaming
 * handlers call it even without one: the header then tells a client the call has started (a
 * subscription is registered before its header goes out).
 */
export function sendHeader(call: MetadataCall, always = false): void {
  const header = new Metadata();
  const requestId = call.metadata.get(ECHOED_HEADER)[0];
  if (typeof requestId === "string") header.set(ECHOED_HEADER, requestId);
  else if (!always) return;
  call.sendMetadata(header);
}

/** The trailers of a successful demo call: `x-demo-served-by: demo`. */
export function servedByTrailer(): Metadata {
  const trailer = new Metadata();
  trailer.set(SERVED_BY_TRAILER, "demo");
  return trailer;
}

/**
 * The status of a failed call: a `DemoRpcError` as its code, message and `grpc-status-details-bin`;
 * anything else as INTERNAL (logged, its message not leaked). The served-by trailer is added.
 */
export function errorStatus(error: unknown): StatusObject {
  if (error instanceof DemoRpcError) {
    const metadata = error.toMetadata();
    metadata.merge(servedByTrailer());
    return { code: error.code, details: error.message, metadata };
  }
  console.error("demo service: unexpected error", error);
  return { code: status.INTERNAL, details: "the demo service failed unexpectedly", metadata: servedByTrailer() };
}

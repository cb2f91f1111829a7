import { Metadata, status, type handleUnaryCall } from "@grpc/grpc-js";
import { DemoRpcError } from "./rpc-error.js";

/** Header metadata a demo call echoes back, so gateways can show their metadata mapping. */
export const ECHOED_HEADER = "x-request-id";
/** Trailer every demo call sets, on success and on error. */
export const SERVED_BY_TRAILER = "x-demo-served-by";

/**
 * Adapts a synchronous `request -> response` function to a grpc-js unary handler: echoes
 * `x-request-id` as response header metadata, sets the `x-demo-served-by: demo` trailer and turns
 * a thrown `DemoRpcError` into the call's status (any other exception becomes INTERNAL).
 */
export function unaryHandler<Req, Res>(serve: (request: Req) => Res): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const requestId = call.metadata.get(ECHOED_HEADER)[0];
    if (typeof requestId === "string") {
      const header = new Metadata();
      header.set(ECHOED_HEADER, requestId);
      call.sendMetadata(header);
    }
    const trailer = new Metadata();
    trailer.set(SERVED_BY_TRAILER, "demo");
    let response: Res;
    try {
      response = serve(call.request);
    } catch (error) {
      if (error instanceof DemoRpcError) {
        const metadata = error.toMetadata();
        metadata.merge(trailer);
        callback({ code: error.code, details: error.message, metadata });
      } else {
        console.error("demo service: unexpected error", error);
        callback({ code: status.INTERNAL, details: "the demo service failed unexpectedly", metadata: trailer });
      }
      return;
    }
    callback(null, response, trailer);
  };
}

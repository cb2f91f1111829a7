import type { handleUnaryCall } from "@grpc/grpc-js";
import { errorStatus, sendHeader, servedByTrailer } from "./call-metadata.js";

/**
 * Adapts a synchronous `request -> response` function to a grpc-js unary handler: echoes
 * `x-request-id` as response header metadata, sets the `x-demo-served-by: demo` trailer and turns
 * a thrown `DemoRpcError` into the call's status (any other exception becomes INTERNAL).
 */
export function unaryHandler<Req, Res>(serve: (request: Req) => Res): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    sendHeader(call);
    let response: Res;
    try {
      response = serve(call.request);
    } catch (error) {
      callback(errorStatus(error));
      return;
    }
    callback(null, response, servedByTrailer());
  };
}

import { GatewayError } from "./gateway-error.js";
import { GrpcCode } from "./grpc-code.js";

/**
 * The gateway is shutting down: a new request while it drains (503, `headers` adds
 * `Connection: close` on HTTP), or the last message of a stream still open at the drain deadline.
 */
export function shuttingDownError(headers?: Readonly<Record<string, string>>): GatewayError {
  return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_SHUTTING_DOWN", "the gateway is shutting down; retry on another instance", headers ? { headers } : {});
}

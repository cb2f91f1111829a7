import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";

/**
 * Why a reload was refused (the old configuration stays in force):
 * - `invalid`: the new config file, route table or a file it names cannot be used;
 * - `restart-required`: it changes a setting the listeners were built from;
 * - `unavailable`: not now (the gateway is shutting down, a worker is not ready or did not answer).
 */
export type ReloadRefusal = "invalid" | "restart-required" | "unavailable";

/** A refused reload; the message says why, naming the key or file. */
export class ReloadRefused extends Error {
  override name = "ReloadRefused";

  constructor(
    readonly refusal: ReloadRefusal,
    message: string,
  ) {
    super(message);
  }

  /** POST /reload's answer: 400 FAILED_PRECONDITION for a config to fix, 503 UNAVAILABLE to retry later. */
  toGatewayError(): GatewayError {
    switch (this.refusal) {
      case "invalid":
        return new GatewayError(GrpcCode.FAILED_PRECONDITION, "PG_ERR_CONFIG_INVALID", `reload refused, the configuration in force is unchanged: ${this.message}`);
      case "restart-required":
        return new GatewayError(GrpcCode.FAILED_PRECONDITION, "PG_ERR_RESTART_REQUIRED", `reload refused, the configuration in force is unchanged: ${this.message}`);
      case "unavailable":
        return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_RELOAD_UNAVAILABLE", `reload refused, the configuration in force is unchanged: ${this.message}`);
    }
  }
}

import { GatewayError, type AuthFailureReason } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";

/**
 * Why a token was rejected: short, fixed texts fit for an RFC 6750 `error_description`. They
 * never contain any part of the token.
 */
export type JwtRejection =
  | "token missing"
  | "token too large"
  | "malformed token"
  | "issuer not accepted"
  | "algorithm not allowed"
  | "unknown key id"
  | "key set unavailable"
  | "signature verification failed"
  | "token expired"
  | "token not yet valid"
  | "token issued in the future"
  | "token missing exp"
  | "token exp is not a valid time"
  | "token nbf is not a valid time"
  | "token iat is not a valid time"
  | "token missing sub"
  | "audience not accepted"
  | "invalid claims";

/**
 * The UNAUTHENTICATED error of a rejected token. `cause` goes to the log only; callers pass
 * transport errors (JWKS fetch), never anything carrying the token or its claims.
 */
export function jwtRejected(message: JwtRejection, cause?: unknown): GatewayError {
  const authFailure = REJECTION_FAILURES[message] ?? "invalid";
  return new GatewayError(GrpcCode.UNAUTHENTICATED, "PG_ERR_UNAUTHENTICATED", message, cause === undefined ? { authFailure } : { cause, authFailure });
}

/** The metrics reason of the rejections that are not simply "invalid". */
const REJECTION_FAILURES: Partial<Record<JwtRejection, AuthFailureReason>> = {
  "token missing": "missing",
  "token too large": "malformed",
  "malformed token": "malformed",
  "token expired": "expired",
  "key set unavailable": "key_set_unavailable",
};

/**
 * Rejections caused by the gateway's own trouble rather than by the token (its issuer's JWKS
 * server is down): they must not count against the client as failed attempts.
 */
const GATEWAY_SIDE_REJECTIONS: ReadonlySet<string> = new Set<JwtRejection>(["key set unavailable"]);

/** Whether `error` is a token rejection the client is not to blame for (see `GATEWAY_SIDE_REJECTIONS`). */
export function isGatewaySideRejection(error: GatewayError): boolean {
  return error.code === GrpcCode.UNAUTHENTICATED && GATEWAY_SIDE_REJECTIONS.has(error.message);
}

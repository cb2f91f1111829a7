import type { GatewayError } from "./gateway-error.js";
import { GrpcCode } from "./grpc-code.js";
import { detailToJson, type AnyToJson } from "./any-detail.js";
import { httpStatusFromCode } from "./http-status.js";
import { randomRequestId, REQUEST_ID_HEADER } from "../observe/request-id.js";

/**
 * The error response for a request the gateway refuses before it becomes one (a malformed or
 * refused connection, a parser error): its request ID (a fresh one unless given) in the body and
 * the `x-request-id` header, as every error answer has.
 */
export function renderRefusal(error: GatewayError, requestId: string = randomRequestId()): RenderedError {
  const rendered = renderError(error, NO_ANY_JSON, requestId);
  rendered.headers[REQUEST_ID_HEADER] = requestId;
  return rendered;
}

/** Refusals carry no upstream details to decode. */
const NO_ANY_JSON: AnyToJson = () => undefined;

/** An HTTP error response, ready to send. */
export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The `ErrorInfo.domain` of errors the gateway raises itself. */
export const ERROR_DOMAIN = "protogate";
const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";
const REQUEST_INFO_TYPE = "type.googleapis.com/google.rpc.RequestInfo";
const FALLBACK_BODY = JSON.stringify({ code: GrpcCode.INTERNAL, message: "failed to render error", details: [] });

/**
 * Renders `error` as a `google.rpc.Status` JSON body: `{"code", "message", "details"}` (details
 * always present). Errors the gateway raises itself (any reason but `PG_ERR_UPSTREAM`) lead the
 * details with a `google.rpc.ErrorInfo` naming the reason; an upstream's details pass through
 * unchanged. With a request ID, a `google.rpc.RequestInfo` naming it closes the details (so a
 * client can quote it in a support request). The status is the error's override or the gRPC
 * code's HTTP mapping.
 */
export function renderError(error: GatewayError, anyToJson: AnyToJson, requestId?: string): RenderedError {
  const details: unknown[] = [];
  if (error.reason !== undefined && error.reason !== "PG_ERR_UPSTREAM") {
    details.push({ "@type": ERROR_INFO_TYPE, reason: error.reason, domain: ERROR_DOMAIN });
  }
  for (const detail of error.details) details.push(detailToJson(detail, anyToJson));
  if (requestId !== undefined) details.push({ "@type": REQUEST_INFO_TYPE, requestId });
  let body: string;
  try {
    body = JSON.stringify({ code: error.code, message: error.message, details });
  } catch {
    // Only a detail built wrongly by gateway code (a BigInt, a cycle) can get here.
    return { status: 500, headers: { "content-type": "application/json" }, body: FALLBACK_BODY };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(error.headers)) {
    if (name.toLowerCase() !== "content-type") headers[name] = value;
  }
  headers["content-type"] = "application/json";
  return { status: error.httpStatus ?? httpStatusFromCode(error.code), headers, body };
}

import { createHash } from "node:crypto";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import type { GatewayResponse } from "../gateway/request.js";

/**
 * A fixed response the HTTP adapter answers itself, before the pipeline (the docs page, its files
 * and the OpenAPI document): its body is in memory from start-up on.
 */
export interface StaticRoute {
  /** The exact request path (no variables). */
  readonly path: string;
  readonly body: Buffer;
  /** Content-Type and whatever else the route needs (Content-Security-Policy, ...). */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a request to a static route gets: the response, or the error to render. */
export type StaticAnswer = GatewayResponse | GatewayError;

const ALLOWED = "GET, HEAD";

/**
 * Answers requests to one static route: GET and HEAD get the body (304 when `If-None-Match` names
 * its entity tag, so a browser revalidates the 1.7 MB bundle instead of downloading it again), any
 * other method 405. Hand-written rather than @fastify/static: the bodies are a handful of buffers
 * read once, and the route must answer errors through the gateway's own error writer.
 */
/** Answers a request to one static route by its method and `If-None-Match`. */
export type StaticResponder = (method: string, ifNoneMatch: string | undefined) => StaticAnswer;

export function createStaticResponder(route: StaticRoute): StaticResponder {
  const etag = `"${createHash("sha256").update(route.body).digest("base64url").slice(0, 27)}"`;
  // no-cache: the browser keeps the file but asks each time, so a restarted gateway's new
  // document or Swagger UI is never hidden behind a stale copy.
  const headers = { ...route.headers, "cache-control": "no-cache", etag, "x-content-type-options": "nosniff" };
  const ok: GatewayResponse = { status: 200, headers, body: route.body };
  // The route's Content-Type, or Fastify would label the empty 304 text/plain.
  const contentType = route.headers["content-type"];
  const notModified: GatewayResponse = { status: 304, headers: { ...(contentType ? { "content-type": contentType } : {}), "cache-control": "no-cache", etag }, body: "" };
  return (method, ifNoneMatch) => {
    if (method !== "GET" && method !== "HEAD") {
      return new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_ALLOWED", `method ${method.slice(0, 32)} is not allowed for ${route.path}; allowed: ${ALLOWED}`, {
        httpStatus: 405,
        headers: { allow: ALLOWED },
      });
    }
    return ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, etag) ? notModified : ok;
  };
}

/** RFC 9110 §13.1.2: `*`, or a list of tags compared weakly (a W/ prefix does not matter). */
function matchesEtag(header: string, etag: string): boolean {
  return header.split(",").some((item) => {
    const tag = item.trim();
    return tag === "*" || (tag.startsWith("W/") ? tag.slice(2) : tag) === etag;
  });
}

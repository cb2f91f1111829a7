import type { IncomingHttpHeaders } from "node:http";
import type { AnyBinding } from "../binding.js";
import type { GatewayConfig } from "../config/schema.js";
import type { AnyToJson } from "../errors/any-detail.js";
import { GatewayError } from "../errors/gateway-error.js";
import { renderError } from "../errors/error-writer.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { isGrpcStatusError, toGatewayError } from "../errors/to-gateway-error.js";
import { createRouter } from "../routing/router.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import { parseQueryString } from "../transcode/query-string.js";
import { createRequestBuilder, type RequestInput } from "../transcode/request-builder.js";
import { createResponseShaper, type ShapedResponse } from "../transcode/response-shaper.js";
import { effectiveDeadline } from "../upstream/deadline.js";
import { createMetadataMapper } from "../upstream/metadata.js";
import type { CancelSignal, Upstream, UpstreamPool } from "../upstream/upstream.js";
import { routeDeadlineMs } from "./deadlines.js";

/** One HTTP request, as the framework adapter hands it to the pipeline. */
export interface GatewayRequest {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer | undefined;
  readonly client: { readonly ip: string; readonly host: string; readonly protocol: string };
  /** Aborted when the client goes away; cancels the upstream call. */
  readonly signal: CancelSignal;
}

/** What the adapter writes back. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** A binding with everything the hot path needs, prepared once at start-up. */
interface PreparedRoute {
  readonly binding: AnyBinding;
  readonly build: (input: RequestInput) => unknown;
  readonly shape: (message: unknown) => ShapedResponse;
  readonly deadlineMs: number;
  readonly upstream: Upstream | undefined;
}

export interface HandlerDependencies {
  readonly config: Readonly<GatewayConfig>;
  readonly bindings: readonly AnyBinding[];
  readonly codecs: CodecRegistry;
  readonly upstreams: UpstreamPool;
  /** Where unexpected failures go; clients only ever see "internal error". */
  readonly log: { error(details: object, message: string): void };
}

/**
 * The request pipeline, framework-neutral: route -> build the request message -> call the
 * upstream -> shape the reply; any failure on the way becomes one `google.rpc.Status` response.
 */
export function createGatewayHandler(deps: HandlerDependencies): (request: GatewayRequest) => Promise<GatewayResponse> {
  const { config, codecs } = deps;
  const routes = deps.bindings.map(
    (binding): PreparedRoute => ({
      binding,
      build: createRequestBuilder(codecs, binding, { ignoreUnknownQueryParameters: config.transcoding.ignoreUnknownQueryParameters }),
      shape: createResponseShaper(codecs, binding),
      deadlineMs: routeDeadlineMs(config.deadlines, binding.service, binding.method),
      upstream: deps.upstreams.get(binding.service),
    }),
  );
  const router = createRouter(routes.map((value) => ({ httpMethod: value.binding.httpMethod, template: value.binding.template, value })));
  const metadata = createMetadataMapper(config.metadata.forwardHeaders ? { forwardHeaders: config.metadata.forwardHeaders } : {});
  const anyToJson: AnyToJson = (typeUrl, value) => codecs.anyToJson(typeUrl, value);

  // One async function (not a wrapper around an inner one): each extra promise layer costs
  // measurable throughput on this path.
  return async (request) => {
    try {
      const queryStart = request.url.indexOf("?");
      const path = queryStart < 0 ? request.url : request.url.slice(0, queryStart);
      const match = router.match(request.method, path);
      if (match.kind === "notFound") {
        throw new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", `no route for ${request.method} ${path}`);
      }
      if (match.kind === "methodNotAllowed") {
        throw new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_ALLOWED", `method ${request.method} is not allowed for ${path}; allowed: ${match.allow.join(", ")}`, {
          httpStatus: 405,
          headers: { allow: match.allow.join(", ") },
        });
      }
      const route = match.value;
      const message = route.build({
        variables: match.variables,
        query: queryStart < 0 ? [] : parseQueryString(request.url.slice(queryStart + 1)),
        body: request.body,
        contentType: request.headers["content-type"],
      });
      if (!route.upstream) {
        throw new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_NOT_CONFIGURED", `no upstream is configured for ${route.binding.service}`);
      }
      const timeoutHeader = request.headers["grpc-timeout"];
      const result = await route.upstream.call({
        rpcPath: route.binding.rpcPath,
        request: route.binding.requestCodec.encode(message).finish(),
        metadata: metadata.toGrpc(request.headers, request.client),
        deadline: effectiveDeadline(Date.now(), route.deadlineMs, typeof timeoutHeader === "string" ? timeoutHeader : undefined),
        signal: request.signal,
      });
      const shaped = route.shape(route.binding.responseCodec.decode(result.response));
      const headers = metadata.toHttp(result.headers, result.trailers);
      headers["content-type"] = shaped.contentType;
      return { status: 200, headers, body: shaped.body };
    } catch (thrown) {
      const error = toGatewayError(thrown);
      if (error.code === GrpcCode.INTERNAL && error.reason === "PG_ERR_INTERNAL") deps.log.error({ err: error.cause, method: request.method, url: request.url }, "internal error");
      const response = errorResponse(error, anyToJson);
      const upstreamMetadata = upstreamTrailers(error.cause);
      if (upstreamMetadata.length === 0) return response;
      return { ...response, headers: { ...metadata.toHttp([], upstreamMetadata), ...response.headers } };
    }
  };
}

/** The metadata an upstream sent with an error status (grpc-js puts headers and trailers together). */
function upstreamTrailers(cause: unknown): Array<[string, string | Buffer]> {
  if (!isGrpcStatusError(cause) || !cause.metadata) return [];
  const metadata = cause.metadata as { getMap?: () => Record<string, string | Buffer> };
  if (typeof metadata.getMap !== "function") return [];
  return Object.entries(metadata.getMap());
}

/** The single place errors become HTTP responses. */
export function errorResponse(error: GatewayError, anyToJson: AnyToJson): GatewayResponse {
  const rendered = renderError(error, anyToJson);
  return { status: rendered.status, headers: rendered.headers, body: rendered.body };
}

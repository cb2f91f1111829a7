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
import { callTimeoutMs } from "../upstream/deadline.js";
import { createMetadataMapper, type ClientInfo } from "../upstream/metadata.js";
import type { CancelSignal, Upstream, UpstreamPool } from "../upstream/upstream.js";
import { routeDeadlineMs } from "./deadlines.js";
import type { EffectiveRule } from "../auth/authorize.js";
import type { Caller } from "../auth/caller.js";
import type { EdgeAuth } from "../auth/edge-auth.js";
import { NO_LIMIT_HEADERS, type LimitHeaders, type MethodLimiter, type RateLimiter } from "../ratelimit/rate-limiter.js";

/** What is known of a request before its body is read: enough to route and authenticate it. */
export interface RequestHead {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Node's raw header list: duplicates stay visible (two Authorization headers are an error). */
  readonly rawHeaders: readonly string[];
  readonly client: ClientInfo;
}

/** A routed, authenticated and authorised request, waiting for its body. */
export interface Admission {
  readonly route: PreparedRoute;
  readonly variables: ReadonlyArray<{ readonly fieldPath: readonly string[]; readonly value: string }>;
  readonly caller: Caller | undefined;
  /** The raw query string (after "?"), or undefined when the URL has none. */
  readonly rawQuery: string | undefined;
  /** Rate-limit fields for the response, whatever it turns out to be. */
  readonly limitHeaders: LimitHeaders;
}

/** The rest of the request, once admitted. */
export interface RequestBody {
  readonly body: Buffer | undefined;
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
export interface PreparedRoute {
  readonly binding: AnyBinding;
  readonly rule: EffectiveRule;
  readonly build: (input: RequestInput) => unknown;
  readonly shape: (message: unknown) => ShapedResponse;
  readonly deadlineMs: number;
  readonly upstream: Upstream | undefined;
  readonly limiter: MethodLimiter | undefined;
}

export interface HandlerDependencies {
  readonly config: Readonly<GatewayConfig>;
  readonly bindings: readonly AnyBinding[];
  readonly codecs: CodecRegistry;
  readonly upstreams: UpstreamPool;
  readonly auth: EdgeAuth;
  readonly rateLimiter: RateLimiter;
  /** Where unexpected failures go; clients only ever see "internal error". */
  readonly log: { error(details: object, message: string): void };
}

/** The request pipeline in its two phases. */
export interface GatewayPipeline {
  /**
   * Before the body is read: route (404/405), authenticate and authorise (401/403), rate-limit
   * (429). Resolves to the admission, or to the error response to send at once.
   */
  admit(head: RequestHead): Promise<Admission | GatewayResponse>;
  /** Builds the request message, calls the upstream and shapes the reply (or the error). */
  forward(head: RequestHead, admission: Admission, rest: RequestBody): Promise<GatewayResponse>;
}

/**
 * The request pipeline, framework-neutral: route -> edge checks -> build the request message ->
 * call the upstream -> shape the reply; any failure on the way becomes one `google.rpc.Status`
 * response.
 */
export function createGatewayPipeline(deps: HandlerDependencies): GatewayPipeline {
  const { config, codecs, auth } = deps;
  const routes = deps.bindings.map(
    (binding): PreparedRoute => ({
      binding,
      rule: auth.ruleFor(binding),
      build: createRequestBuilder(codecs, binding, { ignoreUnknownQueryParameters: config.transcoding.ignoreUnknownQueryParameters }),
      shape: createResponseShaper(codecs, binding),
      deadlineMs: routeDeadlineMs(config.deadlines, binding.service, binding.method),
      upstream: deps.upstreams.get(binding.service),
      limiter: deps.rateLimiter.forMethod(binding.service, binding.method),
    }),
  );
  const router = createRouter(routes.map((value) => ({ httpMethod: value.binding.httpMethod, template: value.binding.template, value })));
  const metadata = createMetadataMapper(config.metadata.forwardHeaders ? { forwardHeaders: config.metadata.forwardHeaders } : {});
  const anyToJson: AnyToJson = (typeUrl, value) => codecs.anyToJson(typeUrl, value);

  const fail = (thrown: unknown, head: RequestHead, limitHeaders: LimitHeaders = NO_LIMIT_HEADERS): GatewayResponse => {
    const error = toGatewayError(thrown);
    if (error.code === GrpcCode.INTERNAL && error.reason === "PG_ERR_INTERNAL") deps.log.error({ err: error.cause, method: head.method, url: head.url }, "internal error");
    const response = renderError(error, anyToJson);
    const upstreamMetadata = upstreamTrailers(error.cause);
    if (upstreamMetadata.length === 0 && limitHeaders === NO_LIMIT_HEADERS) return response;
    return { ...response, headers: { ...metadata.toHttp([], upstreamMetadata), ...limitHeaders, ...response.headers } };
  };

  return {
    async admit(head) {
      try {
        const queryStart = head.url.indexOf("?");
        const path = queryStart < 0 ? head.url : head.url.slice(0, queryStart);
        const match = router.match(head.method, path);
        if (match.kind === "notFound") {
          throw new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", `no route for ${head.method} ${path}`);
        }
        if (match.kind === "methodNotAllowed") {
          throw new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_ALLOWED", `method ${head.method} is not allowed for ${path}; allowed: ${match.allow.join(", ")}`, {
            httpStatus: 405,
            headers: { allow: match.allow.join(", ") },
          });
        }
        const route = match.value;
        const caller = await auth.admit(route.rule, head.rawHeaders, head.client.ip);
        // The memory store answers synchronously: no await (and no extra microtask turn) then.
        const checked = route.limiter ? route.limiter.check({ caller, clientIp: head.client.ip, headers: head.headers }) : NO_LIMIT_HEADERS;
        const limitHeaders = checked instanceof Promise ? await checked : checked;
        return { route, variables: match.variables, caller, rawQuery: queryStart < 0 ? undefined : head.url.slice(queryStart + 1), limitHeaders };
      } catch (thrown) {
        return fail(thrown, head);
      }
    },

    async forward(head, { route, variables, caller, rawQuery, limitHeaders }, rest) {
      try {
        const message = route.build({
          variables,
          query: rawQuery === undefined ? [] : parseQueryString(rawQuery),
          body: rest.body,
          contentType: head.headers["content-type"],
        });
        if (!route.upstream) {
          throw new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_NOT_CONFIGURED", `no upstream is configured for ${route.binding.service}`);
        }
        const timeoutHeader = head.headers["grpc-timeout"];
        const timeoutMs = callTimeoutMs(route.deadlineMs, typeof timeoutHeader === "string" ? timeoutHeader : undefined);
        const result = await route.upstream.call({
          rpcPath: route.binding.rpcPath,
          request: route.binding.requestCodec.encode(message).finish(),
          metadata: auth.metadata(metadata.toGrpc(head.headers, head.client), caller, route.rule, head.headers.authorization),
          deadline: Date.now() + timeoutMs,
          timeoutMs,
          signal: rest.signal,
        });
        const shaped = route.shape(route.binding.responseCodec.decode(result.response));
        const headers = metadata.toHttp(result.headers, result.trailers);
        if (limitHeaders !== NO_LIMIT_HEADERS) Object.assign(headers, limitHeaders);
        headers["content-type"] = shaped.contentType;
        return { status: 200, headers, body: shaped.body };
      } catch (thrown) {
        return fail(thrown, head, limitHeaders);
      }
    },
  };
}

/** The metadata an upstream sent with an error status (grpc-js puts headers and trailers together). */
function upstreamTrailers(cause: unknown): Array<[string, string | Buffer]> {
  if (!isGrpcStatusError(cause) || !cause.metadata) return [];
  const metadata = cause.metadata as { getMap?: () => Record<string, string | Buffer> };
  if (typeof metadata.getMap !== "function") return [];
  return Object.entries(metadata.getMap());
}

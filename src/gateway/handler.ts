import type { IncomingHttpHeaders } from "node:http";
import type { AnyBinding } from "../binding.js";
import type { GatewayConfig } from "../config/schema.js";
import type { AnyToJson } from "../errors/any-detail.js";
import { GatewayError } from "../errors/gateway-error.js";
import { renderError } from "../errors/error-writer.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { toGatewayError } from "../errors/to-gateway-error.js";
import { createRouter } from "../routing/router.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import { decodeReply } from "../transcode/decode-reply.js";
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

/**
 * One request as the adapter hands it to the pipeline: the head, a way to read the body (bounded
 * and timed by the adapter; called only after the edge checks pass, so an unauthenticated client
 * cannot make the gateway read one, and `Expect: 100-continue` is answered only then), and the
 * client's cancel signal.
 */
export interface GatewayRequest {
  readonly head: RequestHead;
  /** The whole body, or undefined when the request has none; rejects with a GatewayError (413, 408, ...). */
  readonly readBody: () => Promise<Buffer | undefined>;
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

/** The request pipeline. */
export interface GatewayPipeline {
  /**
   * Route (404/405/501), authenticate and authorise (401/403), rate-limit (429), then read the
   * body, build the request message, call the upstream and shape the reply. Every failure on the
   * way resolves to a google.rpc.Status response; the promise itself never rejects.
   */
  handle(request: GatewayRequest): Promise<GatewayResponse>;
}

/**
 * Methods answered by routing (404 or 405) even when no route uses them; any other method that no
 * route uses is 501 (RFC 9110 §9.1: a method the server does not implement).
 */
export const STANDARD_METHODS: readonly string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

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
    if (error.metadata.length === 0 && limitHeaders === NO_LIMIT_HEADERS) return response;
    return { ...response, headers: { ...metadata.toHttp(error.metadata, []), ...limitHeaders, ...response.headers } };
  };

  const routedMethods = new Set([...STANDARD_METHODS, ...routes.map((route) => route.binding.httpMethod)]);

  return {
    async handle({ head, readBody, signal }) {
      let limitHeaders = NO_LIMIT_HEADERS;
      try {
        const queryStart = head.url.indexOf("?");
        const path = queryStart < 0 ? head.url : head.url.slice(0, queryStart);
        if (!routedMethods.has(head.method)) {
          throw new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_IMPLEMENTED", `the method ${head.method.slice(0, 32)} is not implemented`);
        }
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
        if (route.limiter) {
          const checked = route.limiter.check({ caller, clientIp: head.client.ip, headers: head.headers });
          limitHeaders = checked instanceof Promise ? await checked : checked;
        }

        // Admitted: only now is the body read.
        const body = route.binding.body.kind === "none" ? undefined : await readBody();
        const message = route.build({
          variables: match.variables,
          query: queryStart < 0 ? [] : parseQueryString(head.url.slice(queryStart + 1)),
          body,
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
          signal,
        });
        const shaped = route.shape(decodeReply(route.binding, result.response));
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


import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import cors from "@fastify/cors";
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";
import type { EdgeAuth } from "./auth/edge-auth.js";
import type { ServerTls } from "./config/read-tls-files.js";
import type { AnyBinding } from "./binding.js";
import type { GatewayConfig } from "./config/schema.js";
import type { AnyToJson } from "./errors/any-detail.js";
import { GatewayError } from "./errors/gateway-error.js";
import { GrpcCode } from "./errors/grpc-code.js";
import { renderError } from "./errors/error-writer.js";
import { createGatewayPipeline, type Admission, type GatewayResponse, type RequestHead } from "./gateway/handler.js";
import type { CodecRegistry } from "./transcode/json/codec-registry.js";
import type { GatewayLogger } from "./logger.js";
import type { RateLimiter } from "./ratelimit/rate-limiter.js";
import type { CancelSignal, UpstreamPool } from "./upstream/upstream.js";

/** Methods the catch-all route answers besides the bindings' own (so every method gets 404/405, not Fastify's page). */
const STANDARD_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

export interface ServerDependencies {
  readonly config: Readonly<GatewayConfig>;
  /** HTTPS with HTTP/2 and HTTP/1.1 (ALPN) when set; plain HTTP/1.1 otherwise. */
  readonly tls?: ServerTls;
  readonly bindings: readonly AnyBinding[];
  readonly codecs: CodecRegistry;
  readonly upstreams: UpstreamPool;
  readonly auth: EdgeAuth;
  readonly rateLimiter: RateLimiter;
  readonly log: GatewayLogger;
}

/**
 * The Fastify adapter: one catch-all route per method, a raw-body content parser, and nothing
 * else; routing, transcoding and errors live in the framework-neutral pipeline.
 */
export function createServer(deps: ServerDependencies): FastifyInstance {
  const { config } = deps;
  const options: FastifyServerOptions = {
    loggerInstance: deps.log,
    // No per-request log lines on the hot path; failures are logged by the pipeline.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimitBytes,
    // proxy-addr (through Fastify) walks X-Forwarded-For back to the first untrusted hop.
    ...(config.server.trustProxy !== undefined && { trustProxy: trustProxyOption(config.server.trustProxy) }),
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    // The path is ours to parse: Fastify's router only needs to hand every URL to the catch-all.
    routerOptions: { maxParamLength: 64 * 1024 },
    exposeHeadRoutes: false,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Errors of Node's HTTP parser, before any request exists (headers over Node's 16 KiB limit, a
    // request line that is not HTTP): answered on the socket in the same google.rpc.Status shape.
    clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => {
      const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
      const body = JSON.stringify({
        code: tooLarge ? GrpcCode.RESOURCE_EXHAUSTED : GrpcCode.INVALID_ARGUMENT,
        message: tooLarge ? "request headers are larger than the server accepts" : "malformed HTTP request",
        details: [],
      });
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else socket.destroy();
    },
    // Fastify's router decodes the URL before our handler sees it; FST_ERR_BAD_URL is its verdict
    // on invalid percent-encoding.
    frameworkErrors: (error: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply) => {
      const message = error.code === "FST_ERR_BAD_URL" ? "invalid percent-encoding in the request path" : `invalid request: ${error.message}`;
      void send(reply, renderError(new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_PATH", message), anyToJson));
    },
  };
  // Boundary: Fastify types an HTTP/2 instance apart from an HTTP/1 one; the adapter only uses
  // what both have (url, headers, body, the response's close event), so one type serves both.
  const secure = deps.tls && { ...options, http2: true, https: { allowHTTP1: true, cert: deps.tls.cert, key: deps.tls.key } };
  const app = Fastify((secure ?? options) as FastifyServerOptions);
  const anyToJson: AnyToJson = (typeUrl, value) => deps.codecs.anyToJson(typeUrl, value);
  const pipeline = createGatewayPipeline({ ...deps, log: app.log });

  // Bodies stay raw bytes: the transcoder parses JSON itself (strictly, with field paths in errors)
  // and passes anything else through to google.api.HttpBody.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  const methods = new Set(STANDARD_METHODS);
  if (config.cors) {
    // The plugin answers preflight OPTIONS requests itself, so the catch-all leaves OPTIONS to it.
    methods.delete("OPTIONS");
    void app.register(cors, {
      origin: config.cors.origins === "*" ? "*" : [...config.cors.origins],
      credentials: config.cors.credentials,
      exposedHeaders: [...config.cors.exposedHeaders],
      maxAge: config.cors.maxAgeSeconds,
      methods: [...new Set([...STANDARD_METHODS, ...deps.bindings.map((b) => b.httpMethod)])],
    });
  }
  for (const binding of deps.bindings) {
    if (!methods.has(binding.httpMethod)) {
      app.addHttpMethod(binding.httpMethod, { hasBody: true });
      methods.add(binding.httpMethod);
    }
  }

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _request, reply) => {
    void send(reply, renderError(fromFrameworkError(error), anyToJson));
  });

  // The edge checks (route, authentication, authorisation) run in the route's onRequest hook,
  // before Fastify reads the body: an unauthenticated caller cannot make the gateway buffer one.
  const admitted = new WeakMap<FastifyRequest, { head: RequestHead; admission: Admission }>();
  app.route({
    method: [...methods],
    url: "/*",
    onRequest: (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
      const head: RequestHead = {
        method: request.method,
        url: request.raw.url ?? "/",
        headers: request.headers,
        rawHeaders: request.raw.rawHeaders,
        // `ips` (under trustProxy only): the peer up to the first untrusted hop, for x-forwarded-for.
        client: { ip: request.ip, host: request.host, protocol: request.protocol, forwardedFor: request.ips },
      };
      pipeline.admit(head).then(
        (result) => {
          if ("route" in result) {
            admitted.set(request, { head, admission: result });
            done();
          } else send(reply, result);
        },
        (error: unknown) => sendInternalError(request, reply, error),
      );
    },
    // Not async: the pipeline's promise is the only one per request, and the reply is sent from it.
    handler: (request: FastifyRequest, reply: FastifyReply) => {
      const entry = admitted.get(request);
      if (!entry) return sendInternalError(request, reply, new Error("request reached the handler without admission"));
      pipeline
        .forward(entry.head, entry.admission, { body: Buffer.isBuffer(request.body) ? request.body : undefined, signal: new ClientDisconnect(reply.raw) })
        .then(
          (response) => {
            if (response.status >= 500) request.log.warn({ status: response.status, method: request.method, url: request.url }, "request failed");
            send(reply, response);
          },
          (error: unknown) => sendInternalError(request, reply, error),
        );
    },
  });
  return app;
}

/**
 * Fires when the client goes away before its response is written, so the upstream call is
 * cancelled. A plain object: an AbortController per request costs measurable throughput.
 */
class ClientDisconnect implements CancelSignal {
  aborted = false;
  private listener: (() => void) | undefined;

  constructor(response: ServerResponse) {
    response.once("close", () => {
      if (response.writableFinished) return;
      this.aborted = true;
      this.listener?.();
    });
  }

  addEventListener(_type: "abort", listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }
}

/** `server.trustProxy` for Fastify: a hop count trusts that many proxies nearest the gateway. */
function trustProxyOption(trust: readonly string[] | number): string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== "number") return [...trust];
  return (_address, hop) => hop < trust;
}

/** The pipeline answers every failure itself; this only guards against a bug in that path. */
function sendInternalError(request: FastifyRequest, reply: FastifyReply, error: unknown): void {
  request.log.error({ err: error }, "error response failed");
  send(reply, { status: 500, headers: { "content-type": "application/json" }, body: '{"code":13,"message":"internal error","details":[]}' });
}

function send(reply: FastifyReply, response: GatewayResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/** Errors Fastify raises before our handler runs (body too large, bad content length, ...). */
function fromFrameworkError(error: Error & { code?: string; statusCode?: number }): GatewayError {
  if (error instanceof GatewayError) return error;
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new GatewayError(GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_BODY_TOO_LARGE", "request body is larger than the limit", { httpStatus: 413 });
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "request body length does not match Content-Length", { httpStatus: 400 });
    default:
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", `bad request: ${error.message}`, { httpStatus: error.statusCode, cause: error });
      }
      return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error", { cause: error });
  }
}

import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Socket } from "node:net";
import { constants as http2Constants, type Http2ServerRequest } from "node:http2";
import { Readable } from "node:stream";
import cors from "@fastify/cors";
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";
import proxyAddr from "@fastify/proxy-addr";
import type { EdgeAuth } from "../auth/edge-auth.js";
import type { AnyBinding } from "../binding.js";
import type { ServerTls } from "../config/read-tls-files.js";
import type { GatewayConfig } from "../config/schema.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { shuttingDownError } from "../errors/shutting-down.js";
import { pathOf } from "../gateway/request-path.js";
import { STANDARD_METHODS, type GatewayPipeline, type GatewayResponse, type RequestBodySource } from "../gateway/pipeline.js";
import type { GatewayLogger } from "../logger.js";
import type { RateLimiter } from "../ratelimit/rate-limiter.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import type { UpstreamPool } from "../upstream/upstream.js";
import { readBody, streamBody, type BodyLimits } from "./body-reader.js";
import { ClientDisconnect } from "./client-disconnect.js";
import { defaultMaxConnections } from "./connection-guard.js";
import { createClientErrorHandler, createNodeServer, type NodeRequest, type NodeServer, type Refuse, type ServerLimits } from "./node-server.js";
import { createClientInfo } from "./client-info.js";
import { checkRequest } from "./request-checks.js";
import type { StaticResponder } from "./static-routes.js";
import { createWebSocketGateway } from "./websocket.js";
import { REAL_TIMERS } from "../timers.js";
import type { Exchange } from "../observe/exchange.js";
import type { ExchangeRecorder } from "../observe/exchange-recorder.js";
import { REQUEST_ID_HEADER } from "../observe/request-id.js";
import { renderRefusal } from "../errors/error-writer.js";

export interface ServerDependencies {
  /** The listener's settings (`server`, `cors`): fixed for the life of the server, whatever reloads bring. */
  readonly config: Readonly<GatewayConfig>;
  /** HTTPS with HTTP/2 and HTTP/1.1 (ALPN) when set; plain HTTP/1.1 otherwise. */
  readonly tls?: ServerTls;
  /** What serves requests now; a reload swaps it. */
  readonly serving: ServingSlot;
  /** The route table at start: its HTTP methods are registered with Fastify and listed to CORS preflights. */
  readonly bindings: readonly AnyBinding[];
  readonly log: GatewayLogger;
  /** Paths the adapter answers itself, before the pipeline (the served docs), with the serving generation's responders. */
  readonly staticPaths?: readonly string[];
}

/** The request pipeline and the static responders (the docs) of one generation of the gateway. */
export interface Serving {
  readonly pipeline: GatewayPipeline;
  readonly staticResponders: ReadonlyMap<string, StaticResponder>;
}

/** Where the adapter finds what serves a request: read once per request, so a reload is one reference swap. */
export interface ServingSlot {
  readonly current: Serving;
}

/** The HTTP side of a gateway: the Fastify instance, and the Node server under it for draining. */
export interface GatewayServer {
  readonly app: FastifyInstance;
  readonly node: NodeServer;
  /**
   * From now on every response ends its connection (HTTP/1.1 `Connection: close`, HTTP/2 GOAWAY
   * after the stream), so kept-alive clients reconnect, through their load balancer, to another
   * instance before this one stops accepting (the pre-stop delay; Envoy does the same when it drains).
   */
  endKeepAlive(): void;
  /** From now on every new request is answered 503 (the gateway is shutting down). */
  drain(): void;
  /** Closes every open WebSocket with 1001 (the drain deadline; HTTP streams end through `shutdown`). */
  endSockets(): void;
  /** Resolves once the WebSocket calls running now have ended. */
  socketsSettled(): Promise<void>;
}

/**
 * The Fastify adapter, and nothing else: Fastify is the HTTP server and plugin host (CORS), one
 * handler takes every request, whatever its method and path, and hands it to the framework-neutral
 * pipeline in one pass. Bodies are not parsed by Fastify: the pipeline asks for the body after
 * its edge checks, and the adapter reads it then, bounded in size, time and rate.
 */
export function createServer(deps: ServerDependencies): GatewayServer {
  const { config, serving } = deps;
  const limits = serverLimits(config.server);
  const bodyLimits: BodyLimits = {
    maxBytes: config.server.bodyLimitBytes,
    timeoutMs: config.server.bodyTimeoutMs,
    idleTimeoutMs: config.server.bodyIdleTimeoutMs,
    minBytesPerSecond: config.server.minBodyBytesPerSecond,
    minRateGraceMs: config.server.minBodyRateGraceMs,
  };
  const trustProxy = config.server.trustProxy;
  const isTrustedPeer = trustedPeers(trustProxy);
  const clientInfo = createClientInfo(trustProxy);
  let node: NodeServer | undefined;
  const options: FastifyServerOptions & { http2?: boolean } = {
    loggerInstance: deps.log,
    // No per-request log lines on the hot path; failures are logged by the pipeline.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request either (a pino child costs an object and a serialised binding
    // per request): the pipeline logs what a failure needs (method, URL) itself.
    childLoggerFactory: (logger) => logger,
    // The path is ours to parse: Fastify's router only needs to hand every URL to the handler.
    routerOptions: { maxParamLength: 64 * 1024 },
    exposeHeadRoutes: false,
    // Fastify's own 503 while closing is not a Status body: the handler answers it (see drain).
    return503OnClosing: false,
    forceCloseConnections: false,
    http2: deps.tls !== undefined,
    serverFactory: (listener) => {
      const onUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer) => webSockets.handleUpgrade(request, socket, head);
      node = createNodeServer(listener as Parameters<typeof createNodeServer>[0], { tls: deps.tls, limits, isTrustedPeer, log: deps.log, onUpgrade, refuse });
      // Boundary: the options are typed for HTTP/1; with TLS, Fastify runs on the HTTP/2 server (http2: true).
      return node.server as HttpServer;
    },
    clientErrorHandler: createClientErrorHandler(limits.maxUrlBytes, refuse),
    // Fastify's router decodes the URL before our handler sees it; FST_ERR_BAD_URL is its verdict
    // on invalid percent-encoding.
    frameworkErrors: (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
      const message = error.code === "FST_ERR_BAD_URL" ? "invalid percent-encoding in the request path" : `invalid request: ${error.message}`;
      const { pipeline } = serving.current;
      const exchange = begin(pipeline, request, reply);
      respond(request, reply, exchange, pipeline.fail(new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_PATH", message), exchange));
    },
  };
  // Boundary: Fastify types an HTTP/2 instance apart from an HTTP/1 one; the adapter only uses
  // what both have (url, headers, the raw streams), so one type serves both.
  const app = Fastify(options as FastifyServerOptions) as unknown as FastifyInstance;
  /**
   * The request's Exchange (request ID, timings, outcome), ended for the observers when its
   * response is over: written, or abandoned by a client that went away (status 499, as nginx
   * logs it).
   */
  const begin = (pipeline: GatewayPipeline, request: FastifyRequest, reply: FastifyReply): Exchange => {
    const raw = request.raw as NodeRequest;
    if (endingKeepAlive && raw.httpVersionMajor !== 2) lastRequestOn.set(raw.socket as Socket, raw);
    const exchange = pipeline.begin({ method: request.method, url: raw.url ?? "/", headers: request.headers, rawHeaders: raw.rawHeaders, client: clientInfo(raw), connection: connectionOf(raw) });
    const response = reply.raw;
    response.on("close", () => {
      exchange.status = response.headersSent ? response.statusCode : 499;
      pipeline.end(exchange);
    });
    return exchange;
  };
  /**
   * A request the Node server refused before Fastify saw it (a parser error, the connection caps,
   * CONNECT, an unsupported expectation): an exchange like any other answer, so that metrics and
   * the access log count it, answered with its request ID.
   */
  function refuse(error: GatewayError, socket: Socket, request?: IncomingMessage): ReturnType<Refuse> {
    const { pipeline } = serving.current;
    const exchange = pipeline.begin({
      method: request?.method ?? "",
      url: request?.url ?? "",
      headers: request?.headers ?? {},
      rawHeaders: request?.rawHeaders ?? [],
      client: clientInfo(request ?? { headers: {}, socket }),
    });
    pipeline.refused(error, exchange);
    const rendered = renderRefusal(error, exchange.requestId);
    exchange.status = rendered.status;
    exchange.bytesOut = Buffer.byteLength(rendered.body);
    pipeline.end(exchange);
    return rendered;
  }
  let draining = false;
  /** Set by endKeepAlive: checked once per response, when it is written (a request that began before still ends its connection). */
  let endingKeepAlive = false;
  /**
   * While ending keep-alive, the last HTTP/1.1 request begun on each connection: only its response
   * closes the connection, since Node drops the queued answers to requests pipelined behind a
   * response that closes it.
   */
  const lastRequestOn = new WeakMap<Socket, NodeRequest>();
  const respond = (request: FastifyRequest, reply: FastifyReply, exchange: Exchange, response: GatewayResponse, bodyFailed = false): void => {
    const raw = request.raw as NodeRequest;
    if (endingKeepAlive && (raw.httpVersionMajor === 2 || (lastRequestOn.get(raw.socket as Socket) ?? raw) === raw)) endConnectionAfter(raw, reply);
    writeResponse(request, reply, exchange, response, bodyFailed);
  };
  const webSockets = createWebSocketGateway({
    pipeline: () => serving.current.pipeline,
    clientInfo,
    maxUrlBytes: limits.maxUrlBytes,
    timers: REAL_TIMERS,
    draining: () => draining,
    server: () => app.server as unknown as HttpServer,
  });

  // Bodies stay on the wire until the pipeline asks for them (see readRequestBody).
  app.removeAllContentTypeParsers();
  const leaveBody = (_request: FastifyRequest, _payload: unknown, done: (error: Error | null, body?: unknown) => void) => done(null, undefined);
  // A RegExp parser matching every media type, so that Fastify caches the parser by Content-Type
  // value: the catch-all `*` alone is never cached, and each request with a body paid for parsing
  // its Content-Type again (about 0.7 µs). `*` stays for requests without one.
  app.addContentTypeParser(/^/, leaveBody);
  app.addContentTypeParser("*", leaveBody);

  const methods = new Set(STANDARD_METHODS);
  if (config.cors) {
    // The plugin answers preflight OPTIONS requests itself, so the handler leaves OPTIONS to it.
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

  // Not async: the pipeline's promise is the only one per request, and the reply is sent from it.
  const handle = (request: FastifyRequest, reply: FastifyReply): void => {
    const raw = request.raw as NodeRequest;
    // The one read of the reloadable state: this request runs on this pipeline to its end.
    const { pipeline } = serving.current;
    const exchange = begin(pipeline, request, reply);
    const refused = draining ? shuttingDown() : checkRequest(raw, limits.maxUrlBytes);
    if (refused) return respond(request, reply, exchange, pipeline.fail(refused, exchange));
    const signal = new ClientDisconnect();
    const response = reply.raw;
    // 'close' comes once: `on`, without the wrapper `once` allocates.
    response.on("close", () => {
      if (!response.writableFinished) signal.abort();
    });
    const body = new RequestBody(raw, response, bodyLimits, pipeline.config.streaming.maxBodyBytes);
    pipeline.handle({ exchange, body, signal }).then(
      (result) => {
        respond(request, reply, exchange, result, body.failed);
      },
      (error: unknown) => {
        // The pipeline answers every failure itself; this only guards against a bug in that path.
        request.log.error({ err: error, method: request.method, path: pathOf(exchange.head.url), requestId: exchange.requestId }, "internal error");
        respond(request, reply, exchange, pipeline.fail(new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error"), exchange));
      },
    );
  };
  // Static routes (the docs) are Fastify routes of their own, registered before the catch-all and
  // matched before it (find-my-way prefers a static path to a wildcard). They take every method
  // the catch-all takes, so a request to their path never reaches the pipeline; createDocsRoutes
  // refuses to start when a generated route matches one of these paths.
  for (const path of deps.staticPaths ?? []) {
    app.route({
      method: [...methods],
      url: path,
      handler: (request, reply) => {
        const raw = request.raw as NodeRequest;
        const { pipeline, staticResponders } = serving.current;
        const exchange = begin(pipeline, request, reply);
        const answer = staticResponders.get(path) ?? notServed;
        const result = (draining ? shuttingDown() : checkRequest(raw, limits.maxUrlBytes)) ?? answer(request.method, request.headers["if-none-match"]);
        if (!(result instanceof GatewayError)) exchange.settle(GrpcCode.OK);
        respond(request, reply, exchange, result instanceof GatewayError ? pipeline.fail(result, exchange) : result);
      },
    });
  }
  app.route({ method: [...methods], url: "/*", handler: handle });
  // Methods Fastify has no route for (PROPFIND, TRACE, ...) reach the same pipeline, which answers 501.
  app.setNotFoundHandler(handle);
  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    const gatewayError = fromFrameworkError(error);
    const { pipeline } = serving.current;
    const exchange = begin(pipeline, request, reply);
    if (gatewayError.code === GrpcCode.INTERNAL) request.log.error({ err: error, requestId: exchange.requestId }, "internal error");
    respond(request, reply, exchange, pipeline.fail(gatewayError, exchange));
  });

  if (node === undefined) throw new Error("Fastify did not create its server through serverFactory");
  return {
    app,
    node,
    endKeepAlive: () => {
      endingKeepAlive = true;
    },
    drain: () => {
      draining = true;
    },
    endSockets: () => webSockets.closeAll(),
    socketsSettled: () => webSockets.settled(),
  };
}

/**
 * Whether a connection's peer is a trusted proxy (exempt from the per-address connection cap):
 * with a hop count every peer is a proxy; with a list, the peers it names.
 */
function trustedPeers(trustProxy: GatewayConfig["server"]["trustProxy"]): (address: string) => boolean {
  if (trustProxy === undefined) return () => false;
  if (typeof trustProxy === "number") return () => true;
  const trusted = proxyAddr.compile([...trustProxy]);
  return (address) => trusted(address, 0);
}

/** `server.*` of gateway.yaml as the Node server's limits. */
function serverLimits(server: GatewayConfig["server"]): ServerLimits {
  return {
    headersTimeoutMs: server.headersTimeoutMs,
    keepAliveTimeoutMs: server.keepAliveTimeoutMs,
    maxUrlBytes: server.maxUrlBytes,
    maxHeaderBytes: server.maxHeaderBytes,
    http2MaxConcurrentStreams: server.http2MaxConcurrentStreams,
    maxConnections: server.maxConnections === "auto" ? defaultMaxConnections() : server.maxConnections,
    maxConnectionsPerIp: server.maxConnectionsPerIp,
  };
}

/**
 * The request body, read when the pipeline asks for it: undefined when there is none; otherwise
 * `100 Continue` first if the client waits for it, then the bounded read.
 */
class RequestBody implements RequestBodySource {
  /** The read was refused (too large, too slow): what is left of the body will not be read. */
  failed = false;

  constructor(
    private readonly raw: NodeRequest,
    private readonly response: FastifyReply["raw"],
    private readonly limits: BodyLimits,
    private readonly maxStreamBytes: number,
  ) {}

  read(): Promise<Buffer | undefined> {
    if (!mayHaveBody(this.raw)) return NO_BODY;
    this.continue();
    return readBody(this.raw, this.limits).catch((error: unknown) => {
      this.failed = true;
      throw error;
    });
  }

  /** The body as it arrives (client streams), up to `maxStreamBytes` in all. */
  stream(): AsyncIterable<Buffer> {
    if (!mayHaveBody(this.raw)) return NO_CHUNKS;
    this.continue();
    return streamBody(this.raw, this.maxStreamBytes, () => (this.failed = true));
  }

  private continue(): void {
    if (this.raw.headers.expect?.toLowerCase() === "100-continue") this.response.writeContinue();
  }
}

const NO_BODY: Promise<undefined> = Promise.resolve(undefined);
const NO_CHUNKS: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }) };

function mayHaveBody(raw: NodeRequest): boolean {
  if (raw.httpVersionMajor === 2) return !(raw as Http2ServerRequest).stream.endAfterHeaders;
  const length = raw.headers["content-length"];
  return raw.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** A body this small that the pipeline did not read is drained to keep the connection (as Go's server does). */
const DRAIN_MAX_BYTES = 64 * 1024;
/** How long such a drain may take before the connection is closed anyway. */
const DRAIN_TIMEOUT_MS = 2_000;

/**
 * Writes a response. A request whose body was not (or not completely) read must not hold its
 * connection at the client's pace: HTTP/1.1 drains a small declared body the pipeline did not ask
 * for (the connection is closed if that takes longer than a moment) and answers `Connection:
 * close` otherwise (a large, chunked or refused body); HTTP/2
 * ends the stream after the response (RST_STREAM NO_ERROR, RFC 9113 §8.1).
 *
 * (`complete` can still be false when the whole body is already buffered: Node runs the handler
 * before it parses the body of the same packet. Hence the drain rather than a close.)
 */
function writeResponse(request: FastifyRequest, reply: FastifyReply, exchange: Exchange, response: GatewayResponse, bodyFailed = false): void {
  const raw = request.raw as NodeRequest;
  // A request without a body is not complete yet when it is answered synchronously (a refusal, a
  // static route): Node marks it complete just after the handler returns. Nothing to drain then.
  if (!raw.complete && mayHaveBody(raw)) {
    if (raw.httpVersionMajor === 2) {
      const stream = (raw as Http2ServerRequest).stream;
      reply.raw.once("finish", () => stream.close(http2Constants.NGHTTP2_NO_ERROR));
    } else if (!bodyFailed && Number(raw.headers["content-length"] ?? Infinity) <= DRAIN_MAX_BYTES) {
      reply.raw.once("finish", () => {
        const timer = setTimeout(() => raw.complete || raw.socket.destroy(), DRAIN_TIMEOUT_MS);
        raw.once("end", () => clearTimeout(timer));
      });
    } else reply.header("connection", "close");
  }
  const { body } = response;
  // A stream's replies: piped with back-pressure (the upstream is read only as fast as the client
  // takes them); a client that goes away destroys the stream, which cancels the upstream call.
  let payload: string | Buffer | Readable;
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    payload = body;
    exchange.bytesOut = typeof body === "string" ? Buffer.byteLength(body) : body.length;
  } else payload = Readable.from(counted(body, exchange));
  void reply.code(response.status).header(REQUEST_ID_HEADER, exchange.requestId).headers(response.headers).send(payload);
}

/** A streamed body whose bytes are added to the exchange's count as they are written. */
async function* counted(body: AsyncIterable<string | Buffer>, exchange: Exchange): AsyncGenerator<string | Buffer> {
  for await (const chunk of body) {
    exchange.bytesOut += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    yield chunk;
  }
}

/** A static path the serving generation has no responder for (never, while the docs settings cannot change on reload). */
function notServed(): GatewayError {
  return new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", "not found");
}

/**
 * This response is the connection's last: HTTP/1.1 says `Connection: close` (Node closes the
 * socket after it); HTTP/2 sends GOAWAY, which lets the streams open on the session finish (the
 * drain deadline destroys what remains).
 */
function endConnectionAfter(raw: NodeRequest, reply: FastifyReply): void {
  if (raw.httpVersionMajor !== 2) {
    reply.header("connection", "close");
    return;
  }
  const session = (raw as Http2ServerRequest).stream.session;
  if (session && !session.closed && !session.destroyed) session.close();
}

/**
 * The connection a request came on, as the key of per-connection memos: the socket for HTTP/1,
 * the session for HTTP/2 (its requests' `socket` is a proxy made per stream).
 */
function connectionOf(raw: NodeRequest): object | undefined {
  return raw.httpVersionMajor === 2 ? (raw as Http2ServerRequest).stream.session : raw.socket;
}

function shuttingDown(): GatewayError {
  return shuttingDownError({ connection: "close" });
}

/** Errors Fastify raises before the handler runs (in practice, only a bug can get here). */
function fromFrameworkError(error: Error & { code?: string; statusCode?: number }): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_REQUEST", `bad request: ${error.message}`, { httpStatus: error.statusCode, cause: error });
  }
  return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error", { cause: error });
}

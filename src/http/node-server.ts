import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from "node:http2";
import type { Socket } from "node:net";
import type { ServerTls } from "../config/read-tls-files.js";
import { renderRefusal, type RenderedError } from "../errors/error-writer.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { guardConnections, type ConnectionGuard, type ConnectionLimits, type RefusalReason } from "./connection-guard.js";
import { closeGracefully, guardHttp2Session } from "./http2-session-guard.js";
import { parserErrorResponse, type ParserError } from "./parser-errors.js";
import { answerAndClose } from "./raw-response.js";
import { createLogThrottle } from "../log-throttle.js";

/** Limits of the HTTP server itself (resolved from `server.*` in gateway.yaml). */
export interface ServerLimits extends ConnectionLimits {
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxUrlBytes: number;
  readonly maxHeaderBytes: number;
  readonly http2MaxConcurrentStreams: number;
}

export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;
type RequestListener = (request: NodeRequest, response: NodeResponse) => void;

export interface NodeServerOptions {
  /** HTTPS with HTTP/2 and HTTP/1.1 (ALPN) when set; plain HTTP/1.1 otherwise. */
  readonly tls?: ServerTls;
  readonly limits: ServerLimits;
  /** Trusted proxies: exempt from the per-address connection cap. */
  readonly isTrustedPeer: (address: string) => boolean;
  readonly log: { warn(details: object, message: string): void };
  /** The `upgrade` listener (WebSocket); without one, Node serves Upgrade requests as plain ones. */
  readonly onUpgrade?: (request: IncomingMessage, socket: Socket, head: Buffer) => void;
  /** Renders (and records) the answer to a request refused before Fastify saw it; default: renderRefusal. */
  readonly refuse?: Refuse;
}

/**
 * The answer to a request the Node server refuses itself (a parser error, an over-cap connection,
 * CONNECT, an unsupported expectation): `request` when Node parsed one. The adapter records each
 * one as an exchange, so metrics and the access log see them as they see every other answer.
 */
export type Refuse = (error: GatewayError, socket: Socket, request?: IncomingMessage) => RenderedError;

const renderOnly: Refuse = (error) => renderRefusal(error);

/** The Node server under Fastify, with what the gateway needs to drain it. */
export interface NodeServer {
  readonly server: HttpServer | Http2SecureServer;
  readonly connections: ConnectionGuard;
  /** Closes idle connections now (HTTP/1.1 keep-alive), or asks HTTP/2 sessions to finish (GOAWAY). */
  closeIdle(): void;
  /** Closes every connection at once (the end of the drain timeout). */
  closeAll(): void;
}

/** How often Node checks its header timeout; its default (30 s) would let a 30 s timeout run to 60 s. */
function checkingIntervalMs(headersTimeoutMs: number): number {
  return Math.max(50, Math.min(1_000, Math.floor(headersTimeoutMs / 4)));
}

/**
 * Creates the Node HTTP server (for Fastify's `serverFactory`), configured so that every
 * resource a client can hold is bounded, and every answer Node would otherwise write itself (an
 * empty 400 or 417, a destroyed socket) is a google.rpc.Status body:
 * - Node's header timeout on (408), its whole-request timeout off: the gateway's own body reader
 *   bounds bodies, because a streaming body may rightly last longer than any fixed time;
 * - the connection guard in front of the parser (total and per-address caps, a 503 to refusals);
 * - the parser's errors answered as Status bodies (400, 408, 414, 431, 501);
 * - `Expect: 100-continue` not answered by Node: the pipeline sends 100 after its edge checks;
 *   other expectations get 417; CONNECT gets 501;
 * - HTTP/2: a cap on concurrent streams and on the header list size, rapid-reset floods closed,
 *   idle sessions closed (see http2-session-guard.ts).
 */
export function createNodeServer(listener: RequestListener, options: NodeServerOptions): NodeServer {
  const { limits, tls } = options;
  const refuse = options.refuse ?? renderOnly;
  const sessions = new Set<ServerHttp2Session>();
  let server: HttpServer | Http2SecureServer;
  if (tls) {
    const secure = createSecureServer(
      {
        allowHTTP1: true,
        cert: tls.cert,
        key: tls.key,
        maxSessionMemory: 10,
        settings: { maxConcurrentStreams: limits.http2MaxConcurrentStreams, maxHeaderListSize: limits.maxHeaderBytes },
      },
      listener,
    );
    secure.on("session", (session: ServerHttp2Session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
      // An idle HTTP/2 connection ends as an idle keep-alive one does.
      guardHttp2Session(session, limits.keepAliveTimeoutMs);
    });
    server = secure;
  } else {
    server = createHttpServer(
      {
        // Checked by the gateway, which answers with a Status body instead of Node's empty 400.
        requireHostHeader: false,
        maxHeaderSize: limits.maxHeaderBytes,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: 0,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: checkingIntervalMs(limits.headersTimeoutMs),
      },
      listener,
    );
  }
  const http1 = server as HttpServer;
  if (tls) {
    // HTTP/1.1 over TLS (ALPN fallback) runs Node's HTTP/1 machinery with these fields.
    http1.headersTimeout = limits.headersTimeoutMs;
    http1.requestTimeout = 0;
    http1.keepAliveTimeout = limits.keepAliveTimeoutMs;
  }

  if (options.onUpgrade) server.on("upgrade", options.onUpgrade);
  server.on("checkContinue", (request: NodeRequest, response: NodeResponse) => server.emit("request", request, response));
  server.on("checkExpectation", (request: IncomingMessage, response: ServerResponse) => {
    const rendered = refuse(new GatewayError(GrpcCode.FAILED_PRECONDITION, "PG_ERR_EXPECTATION_FAILED", "only the expectation 100-continue is supported", { httpStatus: 417 }), request.socket, request);
    response.writeHead(rendered.status, { ...rendered.headers, "content-length": Buffer.byteLength(rendered.body), connection: "close" });
    response.end(rendered.body);
  });
  server.on("connect", (request: IncomingMessage, socket: Socket) => {
    answerAndClose(socket, refuse(new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_IMPLEMENTED", "the CONNECT method is not supported"), socket, request));
  });

  const logRefusal = createLogThrottle(options.log);
  const connections = guardConnections(server, limits, {
    isTrustedPeer: options.isTrustedPeer,
    refuse: (socket, reason) => {
      logRefusal(reason, { cap: reason === "server" ? "maxConnections" : "maxConnectionsPerIp", peer: socket.remoteAddress }, "refused a client connection over the connection caps");
      // Over TLS an answer would first cost the handshake the cap exists to save: close at once.
      if (tls) socket.destroy();
      else answerAndClose(socket, refuse(refusal(reason), socket));
    },
  });

  return {
    server,
    connections,
    closeIdle: () => {
      if (tls) for (const session of sessions) closeGracefully(session, 60_000);
      else http1.closeIdleConnections();
    },
    closeAll: () => {
      if (tls) for (const session of sessions) session.destroy();
      else http1.closeAllConnections();
    },
  };
}

/**
 * Answers a request Node's parser rejected (see parser-errors.ts); installed as Fastify's
 * `clientErrorHandler`, which Fastify attaches to the server it gets from `serverFactory`.
 */
export function createClientErrorHandler(maxUrlBytes: number, refuse: Refuse = renderOnly): (error: ParserError, socket: Socket) => void {
  return (error, socket) => {
    const answer = parserErrorResponse(error, maxUrlBytes);
    // Boundary: Node's own field for the response on this socket; once its head is out, a second answer would corrupt the stream.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (answer === undefined || inFlight?.headersSent) socket.destroy();
    else answerAndClose(socket, refuse(answer, socket));
  };
}

function refusal(reason: RefusalReason): GatewayError {
  const message = reason === "server" ? "the gateway has too many open connections; retry later" : "too many open connections from your address";
  return new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_TOO_MANY_CONNECTIONS", message, { headers: { "retry-after": "1" } });
}


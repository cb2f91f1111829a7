import { ServerResponse, type IncomingMessage, type Server as HttpServer } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { isTokenProtocol, type TokenSource } from "../auth/credentials.js";
import { renderRefusal } from "../errors/error-writer.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { shuttingDownError } from "../errors/shutting-down.js";
import type { GatewayPipeline, GatewayResponse, MessageSocket, RequestHead, SocketFrame } from "../gateway/pipeline.js";
import type { Timers } from "../timers.js";
import type { ClientInfo } from "../upstream/metadata.js";
import { answerAndClose } from "./raw-response.js";
import type { Exchange } from "../observe/exchange.js";
import { REQUEST_ID_HEADER } from "../observe/request-id.js";
import { checkRequest } from "./request-checks.js";
import { GRAPHQL_WS_PROTOCOL } from "../graphql/subscriptions/graphql-ws-session.js";

export interface WebSocketGatewayOptions {
  /**
   * The pipeline a new upgrade runs on (read once per upgrade: a reload swaps it). Its config
   * gives the largest frame accepted (`streaming.maxMessageBytes`; larger ones close the
   * connection with 1009), the ping interval (`streaming.webSocket.pingIntervalMs`: a peer that
   * has not answered the previous ping is disconnected; 0: none) and the token subprotocols.
   */
  readonly pipeline: () => GatewayPipeline;
  readonly clientInfo: (request: IncomingMessage) => ClientInfo;
  readonly maxUrlBytes: number;
  readonly timers: Timers;
  /** Whether the gateway is shutting down (new upgrades are refused with 503). */
  readonly draining: () => boolean;
  /** Serves an upgrade request that is not a WebSocket one (`Upgrade: h2c`, ...) as a plain request. */
  readonly server: () => HttpServer;
}

/** Frames a socket may hold unread before the gateway stops reading from it. */
const MAX_QUEUED_FRAMES = 16;
/** Bytes a socket may hold unsent before `send` waits. */
const SEND_HIGH_WATER_BYTES = 256 * 1024;
/** Close code when the gateway shuts down (RFC 6455: going away). */
const CLOSE_GOING_AWAY = 1001;

/** The WebSocket side of the adapter: upgrades checked by the pipeline before they are accepted. */
export interface WebSocketGateway {
  /** The Node server's `upgrade` listener. */
  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Closes every open WebSocket with 1001 (the gateway is going away). */
  closeAll(): void;
  /** Resolves once every WebSocket call running now has ended (and its exchange with it). */
  settled(): Promise<void>;
}

/**
 * Opens streaming calls over WebSocket (RFC 6455, with the `ws` library): a GET with
 * `Upgrade: websocket` on the path of a streaming method's rule. Route, authentication,
 * authorisation and rate limits are checked before the upgrade is accepted, so a refused upgrade
 * is an ordinary HTTP error response (a google.rpc.Status body), as are malformed handshakes.
 * The selected subprotocol is `graphql-transport-ws` when offered (graphql-ws at the GraphQL
 * endpoint), else the first one the client offers that carries no token (a token source's entry is
 * never echoed back).
 */
export function createWebSocketGateway(options: WebSocketGatewayOptions): WebSocketGateway {
  const sockets = new Set<WebSocket>();
  const running = new Set<Promise<void>>();
  /** ws's server (it only performs handshakes here) for the settings of the pipeline of the last upgrade; a reload changing them makes a new one. */
  let handshakes: { readonly config: GatewayPipeline["config"]; readonly wss: WebSocketServer } | undefined;
  const handshakesFor = (config: GatewayPipeline["config"]): WebSocketServer => {
    if (handshakes?.config !== config) handshakes = { config, wss: createHandshakeServer(config.streaming.maxMessageBytes, config.auth.tokenSources) };
    return handshakes.wss;
  };

  return {
    handleUpgrade(request, socket, head) {
      socket.on("error", () => socket.destroy());
      if (request.headers.upgrade?.toLowerCase() !== "websocket") return serveAsRequest(options.server(), request, socket, head);
      const requestHead: RequestHead = {
        method: request.method ?? "GET",
        url: request.url ?? "/",
        headers: request.headers,
        rawHeaders: request.rawHeaders,
        client: options.clientInfo(request),
        connection: socket,
      };
      const pipeline = options.pipeline();
      const exchange = pipeline.begin(requestHead);
      const refused = options.draining()
        ? shuttingDownError()
        : checkRequest(request, options.maxUrlBytes);
      if (refused) return answer(socket, pipeline.fail(refused, exchange), exchange, pipeline);
      void pipeline.admitUpgrade(exchange).then((admitted) => {
        if ("status" in admitted) return answer(socket, admitted, exchange, pipeline);
        if (socket.destroyed) {
          exchange.status = 499;
          return pipeline.end(exchange);
        }
        handshakesFor(pipeline.config).handleUpgrade(request, socket, head, (ws) => {
          exchange.status = 101;
          sockets.add(ws);
          // A protocol error (a frame over maxPayload, bad framing): ws closes the connection itself
          // (1009, 1002); without a listener the error would crash the process.
          ws.on("error", () => undefined);
          const closed = new AbortController();
          ws.once("close", () => {
            sockets.delete(ws);
            closed.abort();
          });
          const stopPings = keepAlive(ws, pipeline.config.streaming.webSocket.pingIntervalMs, options.timers);
          const call = pipeline
            .runSocket(exchange, admitted, messageSocket(ws), closed.signal)
            .finally(stopPings)
            .finally(() => {
              pipeline.end(exchange);
              running.delete(call);
            });
          running.add(call);
        });
      });
    },
    closeAll() {
      for (const ws of sockets) ws.close(CLOSE_GOING_AWAY, "the gateway is shutting down");
    },
    settled: () => Promise.all(running).then(() => undefined),
  };
}

/**
 * ws's server in `noServer` mode (it performs handshakes only): frames up to `maxPayload` bytes,
 * no compression, the first offered subprotocol that carries no token.
 */
function createHandshakeServer(maxPayload: number, tokenSources: readonly TokenSource[] | undefined): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    // Compression would let a small frame inflate to a large message (and costs CPU per frame).
    perMessageDeflate: false,
    clientTracking: false,
    // graphql-ws's subprotocol when offered (the pipeline admits it only at the GraphQL endpoint), else the first without a token.
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_WS_PROTOCOL) ? GRAPHQL_WS_PROTOCOL : ([...protocols].find((protocol) => !isTokenProtocol(protocol, tokenSources)) ?? false)),
  });
  // A malformed handshake (bad key, version, subprotocol list): a Status body instead of ws's text.
  wss.on("wsClientError", (error: Error & { code?: string }, socket: Socket) => {
    const version = error.code === "WS_ERR_UNSUPPORTED_WEBSOCKET_VERSION" ? { "sec-websocket-version": "13" } : undefined;
    refuse(socket, new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_REQUEST", `invalid WebSocket handshake: ${error.message}`, { httpStatus: version ? 426 : 400, headers: version }));
  });
  return wss;
}

/** `ws` as the pipeline's MessageSocket: frames pulled in order (reading pauses while they wait), sends with back-pressure. */
function messageSocket(ws: WebSocket): MessageSocket {
  const queue: SocketFrame[] = [];
  let ended = false;
  let waiter: (() => void) | undefined;
  const wake = (): void => {
    const next = waiter;
    waiter = undefined;
    next?.();
  };
  ws.on("message", (data: RawData, isBinary: boolean) => {
    queue.push(isBinary ? { binary: true } : { text: rawText(data) });
    if (queue.length >= MAX_QUEUED_FRAMES) ws.pause();
    wake();
  });
  ws.once("close", () => {
    ended = true;
    wake();
  });
  return {
    async *frames() {
      for (;;) {
        const frame = queue.shift();
        if (frame !== undefined) {
          if (ws.isPaused && queue.length < MAX_QUEUED_FRAMES / 2) ws.resume();
          yield frame;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (waiter = resolve));
      }
    },
    send: (data) =>
      new Promise<void>((resolve, reject) => {
        if (ws.readyState !== ws.OPEN) return reject(new Error("the WebSocket is closed"));
        // Resolve at once while little is buffered; otherwise when this frame has been written.
        ws.send(data, { binary: typeof data !== "string" }, (error) => (error ? reject(error) : resolve()));
        if (ws.bufferedAmount < SEND_HIGH_WATER_BYTES) resolve();
      }),
    close: (code, reason) => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    },
  };
}

/** Pings every `intervalMs`; a peer that has not answered the previous ping by the next one is cut off. */
function keepAlive(ws: WebSocket, intervalMs: number, timers: Timers): () => void {
  if (intervalMs <= 0) return () => undefined;
  let answered = true;
  let timer: unknown;
  const tick = (): void => {
    if (!answered) {
      ws.terminate();
      return;
    }
    answered = false;
    ws.ping();
    timer = timers.setTimeout(tick, intervalMs);
  };
  ws.on("pong", () => (answered = true));
  timer = timers.setTimeout(tick, intervalMs);
  return () => timers.clearTimeout(timer);
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

function refuse(socket: Socket, error: GatewayError): void {
  answerAndClose(socket, renderRefusal(error));
}

/** Answers a refused upgrade (its request ID in the headers) and ends its exchange. */
function answer(socket: Socket, response: GatewayResponse, exchange: Exchange, pipeline: GatewayPipeline): void {
  const body = typeof response.body === "string" ? response.body : "";
  answerAndClose(socket, { status: response.status, headers: { ...response.headers, [REQUEST_ID_HEADER]: exchange.requestId }, body });
  exchange.status = response.status;
  exchange.bytesOut = Buffer.byteLength(body);
  pipeline.end(exchange);
}

/**
 * An `Upgrade` request that is not a WebSocket one (`Upgrade: h2c` from `curl --http2`): served
 * as a plain request, without the upgrade. Node hands every request with an `Upgrade` header to
 * the upgrade listener once there is one, detached from its HTTP parser, so the response is
 * built here on the socket and the connection closes after it. A body cannot be read this way.
 */
function serveAsRequest(server: HttpServer, request: IncomingMessage, socket: Socket, head: Buffer): void {
  const length = request.headers["content-length"];
  if (head.length > 0 || request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")) {
    return refuse(socket, new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_REQUEST", `a request with a body cannot ask for Upgrade: ${String(request.headers.upgrade).slice(0, 32)}`, { httpStatus: 400 }));
  }
  const response = new ServerResponse(request);
  response.shouldKeepAlive = false;
  response.assignSocket(socket);
  response.once("finish", () => {
    response.detachSocket(socket);
    socket.destroySoon();
  });
  request.push(null);
  server.emit("request", request, response);
}

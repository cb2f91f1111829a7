import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { renderRefusal } from "../errors/error-writer.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { pathOf } from "../gateway/request-path.js";
import { ADMIN_PATHS } from "./admin-paths.js";
import { ReloadRefused } from "../reload/reload-refused.js";

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  /** What /metrics serves: one gateway's registry, or (with workers) the sum over the workers. */
  readonly metrics: () => Promise<MetricsText>;
  /** The readiness report /readyz answers with (200 when ready, 503 otherwise). */
  readonly readiness: () => Readiness | Promise<Readiness>;
  /** GET /config: which configuration is in force (its hash and load time). */
  readonly config: () => object | Promise<object>;
  /**
   * POST /reload: reads the configuration again and serves it; resolves with what GET /config
   * would then answer, or rejects with ReloadRefused (answered as its Status) when it cannot.
   */
  readonly reload: () => Promise<object>;
  /** Where a failed scrape is logged. */
  readonly log: { error(details: object, message: string): void };
}

/** A /readyz body: `ready` decides the status; the rest is for operators. */
export interface Readiness {
  readonly ready: boolean;
}

/** A Prometheus exposition and its content type. */
export interface MetricsText {
  readonly contentType: string;
  readonly text: string;
}

/** /metrics of one registry (a gateway's own). */
export function registryMetrics(registry: Registry): () => Promise<MetricsText> {
  return async () => ({ contentType: registry.contentType, text: await registry.metrics() });
}

/** The admin listener could not listen (its port in use, ...): the listen error is the cause. */
export class AdminListenError extends Error {
  override name = "AdminListenError";
  constructor(readonly listenError: Error) {
    super(`admin listener: ${listenError.message}`, { cause: listenError });
  }
}

/** The running admin listener. */
export interface AdminServer {
  /** `http://HOST:PORT` it listens on. */
  readonly url: string;
  close(): Promise<void>;
}

const JSON_TYPE = "application/json";
/** Each endpoint and the methods it answers. */
const ENDPOINTS: ReadonlyMap<string, string> = new Map([
  [ADMIN_PATHS.health, "GET, HEAD"],
  [ADMIN_PATHS.ready, "GET, HEAD"],
  [ADMIN_PATHS.metrics, "GET, HEAD"],
  [ADMIN_PATHS.config, "GET, HEAD"],
  [ADMIN_PATHS.reload, "POST"],
]);

/**
 * The admin listener, apart from the public one (operators bind it to a private address):
 * liveness (/healthz), readiness (/readyz), Prometheus metrics (/metrics) and the configuration
 * in force (/config), GET (or HEAD); a hot reload (POST /reload). Plain node:http: a few fixed
 * endpoints need no framework. Anything else gets a google.rpc.Status body, as on the public port.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      options.log.error({ err: error }, "admin endpoint failed");
      if (!response.headersSent) sendError(response, new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error"));
      else response.destroy();
    });
  });
  // Admin clients (Prometheus, probes) are few; do not let an idle one hold close() up.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => reject(new AdminListenError(error));
    server.once("error", failed);
    server.listen(options.port, options.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}`, close: () => closeServer(server) };
}

async function handle(options: AdminServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = pathOf(request.url ?? "/");
  const allowed = ENDPOINTS.get(path);
  if (allowed === undefined) {
    sendError(response, new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", `no admin endpoint at ${path.slice(0, 128)}; the admin listener serves ${ADMIN_PATHS.health}, ${ADMIN_PATHS.ready}, ${ADMIN_PATHS.metrics}, ${ADMIN_PATHS.config} and POST ${ADMIN_PATHS.reload}`));
    return;
  }
  if (!allowed.split(", ").includes(String(request.method))) {
    sendError(
      response,
      new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_ALLOWED", `method ${String(request.method).slice(0, 32)} is not allowed for ${path}; allowed: ${allowed}`, {
        httpStatus: 405,
        headers: { allow: allowed },
      }),
    );
    return;
  }
  switch (path) {
    case ADMIN_PATHS.health:
      send(response, 200, JSON_TYPE, JSON.stringify({ status: "ok" }));
      return;
    case ADMIN_PATHS.ready: {
      const report = await options.readiness();
      send(response, report.ready ? 200 : 503, JSON_TYPE, JSON.stringify(report));
      return;
    }
    case ADMIN_PATHS.config:
      send(response, 200, JSON_TYPE, JSON.stringify(await options.config()));
      return;
    case ADMIN_PATHS.reload: {
      // The body is not read: a reload takes no parameters (it reads the files it was started from).
      request.resume();
      let reloaded: object;
      try {
        reloaded = await options.reload();
      } catch (error) {
        if (!(error instanceof ReloadRefused)) throw error;
        sendError(response, error.toGatewayError());
        return;
      }
      send(response, 200, JSON_TYPE, JSON.stringify(reloaded));
      return;
    }
    default: {
      const { contentType, text } = await options.metrics();
      send(response, 200, contentType, text);
    }
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  response.end(response.req.method === "HEAD" ? undefined : body);
}

function sendError(response: ServerResponse, error: GatewayError): void {
  const rendered = renderRefusal(error);
  response.writeHead(rendered.status, { ...rendered.headers, "content-length": Buffer.byteLength(rendered.body) });
  response.end(response.req.method === "HEAD" ? undefined : rendered.body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

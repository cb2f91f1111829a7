import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { createEdgeAuth, type EdgeAuthOptions } from "./auth/edge-auth.js";
import { readServerTls, readUpstreamTargets } from "./config/read-tls-files.js";
import type { GatewayConfig } from "./config/schema.js";
import { loadGenerated, type GeneratedFolder } from "./load-generated.js";
import { createLogger } from "./logger.js";
import { rateLimiterFromConfig } from "./ratelimit/create-rate-limiter.js";
import { createServer } from "./http/adapter.js";
import { DEFAULT_API_KEY_HEADER } from "./auth/credentials.js";
import { createDocsRoutes } from "./docs/docs-routes.js";
import { createCodecRegistry } from "./transcode/json/codec-registry.js";
import { createUpstreamPool } from "./upstream/upstream-pool.js";
import type { UpstreamPool } from "./upstream/upstream.js";
import { upstreamServiceOf } from "./upstream/upstream-service.js";
import { ExchangeRecorder } from "./observe/exchange-recorder.js";
import { combineObservers, type ExchangeObserver } from "./observe/observer.js";
import { createAccessLog, type AccessLogSeams } from "./observe/access-log/access-log.js";
// Admin listener and metrics:
import { registryMetrics, startAdminServer, type AdminServer } from "./admin/admin-server.js";
import { readinessReport, type GatewayPhase, type ReadinessReport } from "./admin/readiness.js";
import { STANDARD_METHODS } from "./gateway/pipeline.js";
import { createGatewayMetrics } from "./observe/metrics/gateway-metrics.js";
import { createTracing, type TracingSeams } from "./observe/tracing.js";
import { REAL_TIMERS, type Timers } from "./timers.js";

/** A running gateway. */
export interface RunningGateway {
  /** `http://HOST:PORT` it listens on. */
  readonly url: string;
  readonly app: FastifyInstance;
  /** `http://HOST:PORT` of the admin listener (/healthz, /readyz, /metrics); undefined when `admin.enabled` is false. */
  readonly adminUrl: string | undefined;
  /** Stops accepting, waits for in-flight requests (up to the drain timeout), closes upstream channels. */
  close(): Promise<void>;
  /** What /readyz reports now. */
  readiness(): ReadinessReport;
  /** The registry /metrics serves; undefined when `admin.enabled` is false (no metrics then). */
  readonly metricsRegistry: Registry | undefined;
}

/** How the gateway runs: alone (the default), or as one worker of several. */
export interface GatewayRunOptions {
  /**
   * Start the admin listener (default: when `admin.enabled`). A worker runs without one: the
   * primary serves /healthz, /readyz and /metrics for all workers, asking each over IPC.
   */
  readonly adminListener?: boolean;
  /** Log the start-up warnings (no upstream for a service, auth off, ...); default true. Workers after the first do not repeat them. */
  readonly startupWarnings?: boolean;
}

/** Test seams (clocks, the JWKS fetch); production passes none. */
export interface GatewaySeams {
  readonly auth?: EdgeAuthOptions;
  /** Extra observers of every request, and the recorder's clock and request-ID generator. */
  readonly observe?: { readonly observers?: readonly ExchangeObserver[]; readonly now?: () => number; readonly newRequestId?: () => string };
  /** The access log's random source (sampling), wall clock, and a stream instead of its destination. */
  readonly accessLog?: AccessLogSeams;
  /** Tracing's exporter and ID generator (used only when `tracing` is on). */
  readonly tracing?: TracingSeams;
  /** The shutdown's clock: the pre-stop delay and the drain deadline (tests advance it by hand). */
  readonly timers?: Timers;
}

/**
 * At the drain deadline open streams are told to end (a last NDJSON line, an SSE error event,
 * WebSocket close 1001); connections still open this much later are closed.
 */
export const STREAM_END_GRACE_MS = 1_000;

/**
 * Assembles and starts the gateway from a validated config: the generated route table, the JSON
 * codecs built from its descriptors, one channel per upstream, the HTTP server.
 */
export async function startGateway(config: Readonly<GatewayConfig>, generated?: GeneratedFolder, seams: GatewaySeams = {}, run: GatewayRunOptions = {}): Promise<RunningGateway> {
  const folder = generated ?? (await loadGenerated(config.generated));
  // Before anything opens a connection: a docs path that a route matches fails the start here.
  const staticRoutes = createDocsRoutes({
    docs: config.docs,
    openApi: folder.openApi,
    generatedDir: config.generated,
    bindings: folder.bindings,
    apiKeyHeader: config.auth.apiKeys?.header ?? DEFAULT_API_KEY_HEADER,
  });
  const codecs = createCodecRegistry(folder.files ?? folder.descriptorSet, { ignoreUnknownFields: config.transcoding.ignoreUnknownFields });
  const serverTls = readServerTls(config);
  const upstreams: UpstreamPool = createUpstreamPool(readUpstreamTargets(config));
  // Metrics exist only with the admin listener that serves them (otherwise they cost nothing).
  const metrics = config.admin.enabled ? createGatewayMetrics({ bindings: folder.bindings, standardMethods: STANDARD_METHODS }) : undefined;
  const auth = await createEdgeAuth(config.auth, metrics ? { ...seams.auth, onJwksFetch: (issuer, outcome) => metrics.jwksFetched(issuer, outcome) } : seams.auth);
  const log = createLogger(config.logging.level);
  const rateLimiter = await rateLimiterFromConfig(config.rateLimits, log, {}, metrics?.rateLimitEvents);
  metrics?.watchRateLimitStore(() => rateLimiter.storeHealth());
  // Tracing: no observer at all when it is off, so requests pay nothing for it.
  const tracing = config.tracing?.enabled ? createTracing(config.tracing, seams.tracing, log) : undefined;
  // The access log has a destination of its own (logging.level does not silence it).
  const accessLog = createAccessLog(config.accessLog, log, seams.accessLog);
  const observers = [...(metrics ? [metrics.observer] : []), ...(tracing ? [tracing.observer] : []), ...(seams.observe?.observers ?? []), ...accessLog.observers];
  const recorder = new ExchangeRecorder({ ...seams.observe, observer: combineObservers(observers) });
  const shutdown = new AbortController();
  const { app, node, drain, endSockets, socketsSettled } = createServer({
    config,
    bindings: folder.bindings,
    codecs,
    upstreams,
    tls: serverTls,
    auth,
    rateLimiter,
    log,
    staticRoutes,
    recorder,
    shutdown: shutdown.signal,
  });
  if (run.startupWarnings !== false) warnAtStart(config, folder, auth.enabled, app.log);

  let phase: GatewayPhase = "starting";
  const readiness = () => readinessReport({ phase: () => phase, upstreams: () => upstreams.statuses?.() ?? [], rateLimitStore: () => rateLimiter.storeHealth() });
  let admin: AdminServer | undefined;
  if (metrics && run.adminListener !== false) {
    admin = await startAdminServer({ host: config.admin.host, port: config.admin.port, metrics: registryMetrics(metrics.registry), readiness, log: app.log });
  }
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    await admin?.close();
    throw error;
  }
  phase = "serving";
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;

  const timers = seams.timers ?? REAL_TIMERS;
  let closing: Promise<void> | undefined;
  /**
   * The graceful shutdown: /readyz turns 503 at once; the listener keeps serving for the pre-stop
   * delay (so load balancers see the change before anything is refused), then stops accepting;
   * requests and streams in flight may finish until the drain deadline, when the streams still
   * open are ended cleanly, and whatever remains a moment later is closed.
   */
  const close = () =>
    (closing ??= (async () => {
      phase = "draining";
      if (config.server.preStopDelayMs > 0) await new Promise<void>((resolve) => timers.setTimeout(resolve, config.server.preStopDelayMs));
      drain();
      let force: unknown;
      const deadline = timers.setTimeout(() => {
        shutdown.abort();
        endSockets();
        force = timers.setTimeout(() => node.closeAll(), STREAM_END_GRACE_MS);
      }, config.server.drainTimeoutMs);
      // A keep-alive connection whose in-flight request finishes during the drain turns idle
      // after close() began, and close() would wait for it; close such connections as they idle.
      node.closeIdle();
      const sweep = setInterval(() => node.closeIdle(), 50);
      try {
        await app.close();
        // Upgraded sockets are not the HTTP server's: wait for their calls (closed with 1001 at
        // the deadline) so that their exchanges end, and are logged and traced, before close resolves.
        await socketsSettled();
      } finally {
        clearInterval(sweep);
        timers.clearTimeout(deadline);
        timers.clearTimeout(force);
        upstreams.close();
        auth.close();
        await rateLimiter.close();
        await admin?.close();
        // After the server closed: every span has ended; export the last ones.
        // A collector that is down must not fail the shutdown; say what was lost.
        await tracing?.close().catch((error: unknown) => app.log.warn({ err: error }, "tracing: the last spans could not be exported"));
        // Last: every request has ended by now, so its line is written before the file closes.
        await accessLog.close();
      }
    })());
  return { url: `${serverTls ? "https" : "http"}://${host}:${port}`, adminUrl: admin?.url, app, close, readiness, metricsRegistry: metrics?.registry };
}

/** What would make routes fail, said once at start: auth off or with nothing configured, services without an upstream. */
function warnAtStart(config: Readonly<GatewayConfig>, folder: GeneratedFolder, authEnabled: boolean, log: { warn(message: string): void }): void {
  if (!authEnabled) log.warn("authentication is OFF (auth.mode: off): every method can be called without credentials; use this for local work only");
  else if ((config.auth.jwt?.issuers.length ?? 0) === 0 && (config.auth.apiKeys?.keys.length ?? 0) === 0) {
    log.warn(
      "authentication is on but no JWT issuer and no API key is configured: every method without a public rule answers 401; configure auth.jwt.issuers or auth.apiKeys in gateway.yaml, mark methods public with (protogate.v1.rule), or run with --auth off for local work",
    );
  }
  const configured = (service: string) => service in config.upstreams;
  const services = new Set(folder.bindings.map((b) => upstreamServiceOf(b, configured)));
  for (const service of services) if (!configured(service)) log.warn(`no upstream configured for ${service}: its routes will answer 503`);
  const routed = new Set(folder.bindings.map((b) => b.service));
  for (const service of Object.keys(config.upstreams)) if (!routed.has(service)) log.warn(`upstream ${service} has no routes in ${config.generated}`);
}

import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { ConfigSource } from "./config/load-config.js";
import { readServerTls } from "./config/read-tls-files.js";
import type { GatewayConfig } from "./config/schema.js";
import { buildGeneration, type GenerationSeams, type GenerationShared } from "./generation.js";
import { loadGenerated, type GeneratedFolder } from "./load-generated.js";
import { createLogger } from "./logger.js";
import { createServer } from "./http/adapter.js";
import { upstreamServiceOf } from "./upstream/upstream-service.js";
// Admin listener and metrics:
import { registryMetrics, startAdminServer, type AdminServer } from "./admin/admin-server.js";
import { readinessReport, type GatewayPhase, type ReadinessReport } from "./admin/readiness.js";
import { STANDARD_METHODS } from "./gateway/pipeline.js";
import { createGatewayMetrics } from "./observe/metrics/gateway-metrics.js";
// Reload:
import { configIdentity, NO_FILE_SHA256, UNKNOWN_SHA256, type ConfigIdentity } from "./reload/config-identity.js";
import { createReloader, type GenerationSlot, type PreparedReload } from "./reload/reloader.js";
import { REAL_TIMERS, type Timers } from "./timers.js";

/** A running gateway. */
export interface RunningGateway {
  /** `http://HOST:PORT` it listens on. */
  readonly url: string;
  readonly app: FastifyInstance;
  /** `http://HOST:PORT` of the admin listener (/healthz, /readyz, /metrics, /config, /reload); undefined when `admin.enabled` is false or the gateway is a worker. */
  readonly adminUrl: string | undefined;
  /** Stops accepting, waits for in-flight requests (up to the drain timeout), closes upstream channels. */
  close(): Promise<void>;
  /** What /readyz reports now. */
  readiness(): ReadinessReport;
  /** The registry /metrics serves; undefined when `admin.enabled` is false (no metrics then). */
  readonly metricsRegistry: Registry | undefined;
  /** Which configuration serves now (GET /config). */
  activeConfig(): ActiveConfig;
  /**
   * Reads the config file and flags again (`GatewayRunOptions.configSource`) and the generated
   * folder, and serves them from now on (SIGHUP, POST /reload); rejects with ReloadRefused, the
   * configuration in force unchanged, when they cannot be used. One reload at a time.
   */
  reload(): Promise<ConfigIdentity>;
  /**
   * The first half of a reload, for a worker whose primary read the config: builds the next
   * generation from `config` and the generated folder as it is now, without serving it yet.
   */
  prepareReload(config: Readonly<GatewayConfig>, configSha256: string): Promise<PreparedReload>;
}

/** GET /config: the identity of the configuration in force, the file it came from and the generated folder. */
export interface ActiveConfig extends ConfigIdentity {
  readonly file: string | undefined;
  readonly generated: string;
}

export type { PreparedReload } from "./reload/reloader.js";

/** How the gateway runs: alone (the default), or as one worker of several. */
export interface GatewayRunOptions {
  /**
   * Start the admin listener (default: when `admin.enabled`). A worker runs without one: the
   * primary serves /healthz, /readyz and /metrics for all workers, asking each over IPC.
   */
  readonly adminListener?: boolean;
  /** Log the start-up warnings (no upstream for a service, auth off, ...); default true. Workers after the first do not repeat them. */
  readonly startupWarnings?: boolean;
  /** Where `reload` reads the config again (serve's `--config` and flags); without one, a reload is refused. */
  readonly configSource?: ConfigSource;
  /** SHA-256 of the config file the config came from (`loadConfigFile`), for GET /config. */
  readonly configSha256?: string;
}

/** Test seams (clocks, the JWKS fetch, observers, exporters); production passes none. */
export interface GatewaySeams extends GenerationSeams {
  /** The shutdown's clock: the pre-stop delay and the drain deadline (tests advance it by hand). */
  readonly timers?: Timers;
}

/**
 * At the drain deadline open streams are told to end (a last NDJSON line, an SSE error event,
 * WebSocket close 1001); connections still open this much later are closed.
 */
export const STREAM_END_GRACE_MS = 1_000;

/**
 * Assembles and starts the gateway from a validated config: the listeners (public and admin),
 * the metrics, and the first generation (generation.ts: everything built from the config and the
 * route table that serves requests), which a reload replaces.
 */
export async function startGateway(config: Readonly<GatewayConfig>, generated?: GeneratedFolder, seams: GatewaySeams = {}, run: GatewayRunOptions = {}): Promise<RunningGateway> {
  const folder = generated ?? (await loadGenerated(config.generated));
  const serverTls = readServerTls(config);
  const log = createLogger(config.logging.level);
  // Metrics exist only with the admin listener that serves them (otherwise they cost nothing).
  const metrics = config.admin.enabled ? createGatewayMetrics({ bindings: folder.bindings, standardMethods: STANDARD_METHODS }) : undefined;
  const shutdown = new AbortController();
  const shared: GenerationShared = { log, metrics, shutdown: shutdown.signal, seams };
  const identity = configIdentity(run.configSha256 ?? NO_FILE_SHA256, folder.sha256 ?? UNKNOWN_SHA256);
  /** What serves new requests: the adapter reads it once per request; a reload swaps it. */
  const slot: GenerationSlot = { current: await buildGeneration(config, folder, identity, shared) };
  metrics?.watchRateLimitStore(() => slot.current.rateLimiter.storeHealth());
  metrics?.watchUpstreams(() => slot.current.upstreams.statuses?.() ?? []);
  const { app, node, endKeepAlive, drain, endSockets, socketsSettled } = createServer({
    config,
    tls: serverTls,
    serving: slot,
    bindings: folder.bindings,
    log,
    staticPaths: [...slot.current.staticResponders.keys()],
  });
  if (run.startupWarnings !== false) warnAtStart(config, folder, slot.current.authEnabled, app.log);

  let phase: GatewayPhase = "starting";
  const readiness = () =>
    readinessReport({ phase: () => phase, upstreams: () => slot.current.upstreams.statuses?.() ?? [], rateLimitStore: () => slot.current.rateLimiter.storeHealth() });
  const reloader = createReloader({ listenerConfig: config, slot, shared, serving: () => phase === "serving", source: run.configSource });
  const activeConfig = (): ActiveConfig => ({ ...slot.current.identity, file: run.configSource?.file, generated: slot.current.config.generated });

  let admin: AdminServer | undefined;
  try {
    if (metrics && run.adminListener !== false) {
      admin = await startAdminServer({ host: config.admin.host, port: config.admin.port, metrics: registryMetrics(metrics.registry), readiness, config: activeConfig, reload: () => reloader.reload().then(activeConfig), log: app.log });
    }
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    await admin?.close();
    await slot.current.retire();
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
   * delay (so load balancers see the change before anything is refused), each response ending its
   * connection so that kept-alive clients reconnect elsewhere meanwhile, then stops accepting;
   * requests and streams in flight may finish until the drain deadline, when the streams still
   * open are ended cleanly, and whatever remains a moment later is closed.
   */
  const close = () =>
    (closing ??= (async () => {
      phase = "draining";
      endKeepAlive();
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
        // Every request has ended: each generation closes its upstream channels, rate-limit
        // store, tracing (the last spans exported) and access log (the last lines written).
        await slot.current.retire();
        await reloader.retired();
        await admin?.close();
      }
    })());
  return {
    url: `${serverTls ? "https" : "http"}://${host}:${port}`,
    adminUrl: admin?.url,
    app,
    close,
    readiness,
    metricsRegistry: metrics?.registry,
    activeConfig,
    reload: reloader.reload,
    prepareReload: reloader.prepare,
  };
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

import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { EdgeAuthOptions } from "./auth/edge-auth.js";
import { ConfigError, loadConfigFile, type ConfigSource, type LoadedConfig } from "./config/load-config.js";
import { readServerTls } from "./config/read-tls-files.js";
import type { GatewayConfig } from "./config/schema.js";
import { buildGeneration, type Generation, type GenerationShared } from "./generation.js";
import { loadGenerated, loadGeneratedFresh, type GeneratedFolder } from "./load-generated.js";
import { createLogger } from "./logger.js";
import { createServer } from "./http/adapter.js";
import { upstreamServiceOf } from "./upstream/upstream-service.js";
import type { ExchangeObserver } from "./observe/observer.js";
import type { AccessLogSeams } from "./observe/access-log/access-log.js";
// Admin listener and metrics:
import { registryMetrics, startAdminServer, type AdminServer } from "./admin/admin-server.js";
import { readinessReport, type GatewayPhase, type ReadinessReport } from "./admin/readiness.js";
import { STANDARD_METHODS } from "./gateway/pipeline.js";
import { createGatewayMetrics } from "./observe/metrics/gateway-metrics.js";
import type { TracingSeams } from "./observe/tracing.js";
// Reload:
import { configIdentity, type ConfigIdentity } from "./reload/config-identity.js";
import { changedListenerSettings } from "./reload/listener-settings.js";
import { ReloadRefused } from "./reload/reload-refused.js";
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

/** A reload built and ready to serve: `commit` swaps it in for new requests, `abort` closes it unused. */
export interface PreparedReload {
  readonly identity: ConfigIdentity;
  commit(): void;
  abort(): Promise<void>;
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
  /** Where `reload` reads the config again (serve's `--config` and flags); without one, a reload is refused. */
  readonly configSource?: ConfigSource;
  /** SHA-256 of the config file the config came from (`loadConfigFile`), for GET /config. */
  readonly configSha256?: string;
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
  const slot: { current: Generation } = { current: await buildGeneration(config, folder, identity, shared) };
  metrics?.watchRateLimitStore(() => slot.current.rateLimiter.storeHealth());
  const { app, node, drain, endSockets, socketsSettled } = createServer({
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
  /** Generations swapped out by reloads, until their last request has ended and their resources are closed. */
  const retiring = new Set<Promise<void>>();

  const prepareReload = async (next: Readonly<GatewayConfig>, configSha256: string): Promise<PreparedReload> => {
    if (phase !== "serving") throw new ReloadRefused("unavailable", "the gateway is shutting down");
    const changed = changedListenerSettings(config, next);
    if (changed.length > 0) {
      throw new ReloadRefused("restart-required", `${changed.join(", ")} changed: the listeners were built from ${changed.length === 1 ? "it" : "them"} at start; restart the gateway to apply ${changed.length === 1 ? "this change" : "these changes"}`);
    }
    let built: Generation;
    try {
      const nextFolder = await loadGeneratedFresh(next.generated);
      built = await buildGeneration(next, nextFolder, configIdentity(configSha256, nextFolder.sha256 ?? UNKNOWN_SHA256), shared);
    } catch (error) {
      throw new ReloadRefused("invalid", error instanceof Error ? error.message : String(error));
    }
    return {
      identity: built.identity,
      commit: () => {
        const previous = slot.current;
        slot.current = built;
        log.level = next.logging.level;
        const done: Promise<void> = previous
          .retire()
          .catch((error: unknown) => log.error({ err: error }, "closing the resources of the configuration reloaded away failed"))
          .finally(() => retiring.delete(done));
        retiring.add(done);
      },
      abort: () => built.retire(),
    };
  };
  const reload = serially(async (): Promise<ConfigIdentity> => {
    try {
      const source = run.configSource;
      if (source === undefined) throw new ReloadRefused("unavailable", "this gateway was not started from a config file and flags to read again");
      let next: LoadedConfig;
      try {
        next = loadConfigFile(source.file, source.overrides);
      } catch (error) {
        if (error instanceof ConfigError) throw new ReloadRefused("invalid", error.message);
        throw error;
      }
      const prepared = await prepareReload(next.config, next.sha256);
      prepared.commit();
      log.info({ ...prepared.identity }, "configuration reloaded");
      return prepared.identity;
    } catch (error) {
      if (error instanceof ReloadRefused) log.error({ refusal: error.refusal }, `reload refused, the configuration in force is unchanged: ${error.message}`);
      throw error;
    }
  });
  const activeConfig = (): ActiveConfig => ({ ...slot.current.identity, file: run.configSource?.file, generated: slot.current.config.generated });

  let admin: AdminServer | undefined;
  try {
    if (metrics && run.adminListener !== false) {
      admin = await startAdminServer({ host: config.admin.host, port: config.admin.port, metrics: registryMetrics(metrics.registry), readiness, config: activeConfig, reload: () => reload().then(activeConfig), log: app.log });
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
        // Every request has ended: each generation closes its upstream channels, rate-limit
        // store, tracing (the last spans exported) and access log (the last lines written).
        await slot.current.retire();
        await Promise.all(retiring);
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
    reload,
    prepareReload,
  };
}

/** SHA-256 of no bytes: the config "file" of a gateway started without one. */
const NO_FILE_SHA256 = createHash("sha256").digest("hex");
/** A route table loaded by something other than load-generated.ts (tests): nothing to hash. */
const UNKNOWN_SHA256 = "unknown";

/** Runs `task` after the previous run of it has finished: reloads one at a time, in the order asked. */
function serially<T>(task: () => Promise<T>): () => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    const next = last.then(task, task);
    last = next.catch(() => undefined);
    return next;
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

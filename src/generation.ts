import { createEdgeAuth, type EdgeAuth } from "./auth/edge-auth.js";
import { DEFAULT_API_KEY_HEADER } from "./auth/credentials.js";
import { readUpstreamTargets } from "./config/read-tls-files.js";
import type { GatewayConfig } from "./config/schema.js";
import { ConfigError } from "./config/load-config.js";
import { createDocsRoutes } from "./docs/docs-routes.js";
import { createGraphiqlRoutes } from "./graphql/graphiql/graphiql-routes.js";
import { createGatewayPipeline } from "./gateway/pipeline.js";
import { loadAggregateModules } from "./aggregate/typed/load-aggregate-modules.js";
import { loadGraphqlFiles } from "./graphql/graphql-files.js";
import { createStaticResponder } from "./http/static-routes.js";
import type { Serving } from "./http/adapter.js";
import type { GeneratedFolder } from "./load-generated.js";
import type { GatewayLogger } from "./logger.js";
import { createAccessLog, type AccessLogSeams } from "./observe/access-log/access-log.js";
import { ExchangeRecorder } from "./observe/exchange-recorder.js";
import type { GatewayMetrics } from "./observe/metrics/gateway-metrics.js";
import { combineObservers, type ExchangeObserver } from "./observe/observer.js";
import { createTracing, type TracingSeams } from "./observe/tracing/tracing.js";
import { rateLimiterFromConfig } from "./ratelimit/create-rate-limiter.js";
import type { RateLimiter } from "./ratelimit/rate-limiter.js";
import type { ConfigIdentity } from "./reload/config-identity.js";
import type { EdgeAuthOptions } from "./auth/edge-auth.js";
import { createCodecRegistry } from "./transcode/json/codec-registry.js";
import { createUpstreamPool, type ResilienceSeams } from "./upstream/upstream-pool.js";
import type { UpstreamPool } from "./upstream/upstream.js";
import type { Timers } from "./timers.js";

/** What every generation of one gateway shares: the process's logger and metrics, the shutdown, the test seams. */
export interface GenerationShared {
  readonly log: GatewayLogger;
  /** The gateway's metrics (they outlive reloads); undefined when `admin.enabled` is false. */
  readonly metrics: GatewayMetrics | undefined;
  /** Aborted at the shutdown's drain deadline (open streams then end cleanly). */
  readonly shutdown: AbortSignal;
  readonly seams: GenerationSeams;
}

/** Test seams of what a generation builds; production passes none. */
export interface GenerationSeams {
  /** The JWT verifier's clock and fetch, the failed-attempt limiter's clock. */
  readonly auth?: EdgeAuthOptions;
  /** Extra observers of every request, and the recorder's clock and request-ID generator. */
  readonly observe?: { readonly observers?: readonly ExchangeObserver[]; readonly now?: () => number; readonly newRequestId?: () => string };
  /** The access log's random source (sampling), wall clock, and a stream instead of its destination. */
  readonly accessLog?: AccessLogSeams;
  /** Tracing's collector transport, timers and IDs (used only when `tracing` is on). */
  readonly tracing?: TracingSeams;
  /** The clock of aggregate calls' deadlines (src/aggregate/). */
  readonly aggregateTimers?: Timers;
  /** Balanced upstreams' clock and timers, backoff jitter and DNS resolver. */
  readonly upstreams?: Pick<ResilienceSeams, "timers" | "random" | "resolve">;
}

/**
 * One generation of the gateway: everything built from one config and one route table that
 * serves requests (codecs, upstream channels, auth, rate limiter, tracing, access log, the
 * pipeline and the docs), as against the listeners, which outlive it. A reload builds a new
 * generation beside the serving one and swaps it in for new requests; the old one serves the
 * requests it began and closes its resources once they have ended.
 */
export interface Generation extends Serving {
  readonly config: Readonly<GatewayConfig>;
  readonly folder: GeneratedFolder;
  readonly identity: ConfigIdentity;
  readonly upstreams: UpstreamPool;
  readonly rateLimiter: RateLimiter;
  readonly authEnabled: boolean;
  /** Stops serving: resolves once every request it began has ended and its resources are closed. */
  retire(): Promise<void>;
}

/**
 * Builds a generation. Anything wrong (a docs path a route matches, an unreadable key or
 * certificate file, a Redis store that cannot be set up) throws, after closing what was
 * already opened: a refused reload leaves nothing behind.
 */
export async function buildGeneration(config: Readonly<GatewayConfig>, folder: GeneratedFolder, identity: ConfigIdentity, shared: GenerationShared): Promise<Generation> {
  const { log, metrics, seams } = shared;
  const opened: Array<() => unknown> = [];
  try {
    const codecs = createCodecRegistry(folder.files ?? folder.descriptorSet, { ignoreUnknownFields: config.transcoding.ignoreUnknownFields });
    const upstreams = createUpstreamPool(readUpstreamTargets(config), {
      resilience: { ...seams.upstreams, log, ...(metrics && { tallies: (service: string) => metrics.upstreamTallies(service) }) },
    });
    opened.push(() => upstreams.close());
    const auth: EdgeAuth = await createEdgeAuth(config.auth, metrics ? { ...seams.auth, onJwksFetch: (issuer, outcome) => metrics.jwksFetched(issuer, outcome) } : seams.auth);
    opened.push(() => auth.close());
    const rateLimiter = await rateLimiterFromConfig(config.rateLimits, log, {}, metrics?.rateLimitEvents);
    opened.push(() => rateLimiter.close());
    // Tracing: no observer at all when it is off, so requests pay nothing for it.
    const tracing = config.tracing?.enabled ? createTracing(config.tracing, seams.tracing, log) : undefined;
    // A collector that is down must not fail the shutdown; say what was lost.
    const closeTracing = () => tracing?.close().catch((error: unknown) => log.warn({ err: error }, "tracing: the last spans could not be exported"));
    opened.push(closeTracing);
    // The access log has a destination of its own (logging.level does not silence it).
    const accessLog = createAccessLog(config.accessLog, log, seams.accessLog);
    opened.push(() => accessLog.close());
    metrics?.addRoutes(folder.bindings);

    const observers = [...(metrics ? [metrics.observer] : []), ...(tracing ? [tracing.observer] : []), ...(seams.observe?.observers ?? []), ...accessLog.observers];
    const recorder = new ExchangeRecorder({ ...seams.observe, observer: combineObservers(observers) });
    const aggregateModules = await loadAggregateModules(config.aggregates);
    const graphql = config.graphql.enabled ? await loadGraphqlFiles(config.generated) : undefined;
    const pipeline = createGatewayPipeline({
      config,
      bindings: folder.bindings,
      codecs,
      upstreams,
      auth,
      rateLimiter,
      log,
      recorder,
      shutdown: shared.shutdown,
      aggregateModules,
      ...(seams.aggregateTimers && { aggregateTimers: seams.aggregateTimers }),
      ...(graphql && { graphql }),
    });
    // A docs path that a route (or an aggregate) matches fails here; what was opened is closed below.
    const staticRoutes = createDocsRoutes({
      docs: config.docs,
      openApi: folder.openApi,
      generatedDir: config.generated,
      bindings: folder.bindings,
      aggregates: pipeline.aggregates,
      apiKeyHeader: config.auth.apiKeys?.header ?? DEFAULT_API_KEY_HEADER,
    });
    // The GraphiQL page, answered like the docs (before routing); a route on its paths fails here too.
    if (config.graphql.graphiql) {
      staticRoutes.push(...createGraphiqlRoutes({ pagePath: config.graphql.graphiqlPath, endpoint: config.graphql.path, title: "Protogate", bindings: folder.bindings, aggregates: pipeline.aggregates }));
    }
    const staticProblem = staticPathProblem(staticRoutes.map((route) => route.path), config.graphql.enabled ? config.graphql.path : undefined);
    if (staticProblem !== undefined) throw new ConfigError(staticProblem);
    let retiring: Promise<void> | undefined;
    return {
      config,
      folder,
      identity,
      pipeline,
      staticResponders: new Map(staticRoutes.map((route) => [route.path, createStaticResponder(route)])),
      upstreams,
      rateLimiter,
      authEnabled: auth.enabled,
      retire: () =>
        (retiring ??= (async () => {
          await recorder.settled();
          upstreams.close();
          auth.close();
          await rateLimiter.close();
          // After its last request ended: every span has ended, every access-log line is written.
          await closeTracing();
          await accessLog.close();
        })()),
    };
  } catch (error) {
    for (const close of opened.reverse()) await close();
    throw error;
  }
}

/**
 * Two pages answering one path (docs.path and graphql.graphiqlPath alike), or a page on the GraphQL
 * endpoint's path: the gateway answers the pages' paths before routing, so one would hide the other.
 */
function staticPathProblem(paths: readonly string[], graphqlPath: string | undefined): string | undefined {
  const seen = new Set<string>();
  for (const path of paths) {
    if (seen.has(path)) return `two of the gateway's own pages (docs, GraphiQL) answer ${path}: give docs.path, docs.openApiPath and graphql.graphiqlPath distinct paths`;
    seen.add(path);
  }
  if (graphqlPath !== undefined && seen.has(graphqlPath)) return `graphql.path ${graphqlPath} is also a path of the docs or the GraphiQL page: give it a path of its own`;
  return undefined;
}

import cluster from "node:cluster";
import { collectDefaultMetrics, Registry } from "prom-client";
import { startAdminServer, type AdminServer, type MetricsText, type Readiness } from "../admin/admin-server.js";
import type { GatewayPhase, ReadinessReport } from "../admin/readiness.js";
import type { ConfigSource, LoadedConfig } from "../config/load-config.js";
import { createLogger, type GatewayLogger } from "../logger.js";
import { REAL_TIMERS } from "../timers.js";
import { aggregateClusterMetrics } from "./cluster-metrics.js";
import { clusterActiveConfig, createClusterReload } from "./cluster-reload.js";
import { Supervisor, WorkerStartError, type WorkerSlotState } from "./supervisor.js";
import { WORKER_ENV } from "./worker-env.js";
import { clusterWorkerProcess } from "./worker-process.js";

/** How long /metrics waits for a worker's registry, and /readyz for its report. */
const METRICS_TIMEOUT_MS = 5_000;
const READINESS_TIMEOUT_MS = 2_000;

/** /readyz of a gateway with workers: ready when the primary serves and every worker is ready. */
export interface ClusterReadiness extends Readiness {
  readonly phase: GatewayPhase;
  readonly workers: ReadonlyArray<WorkerSlotState & { readonly report?: ReadinessReport; readonly error?: string }>;
}

/**
 * `protogate serve --workers N`: the primary process. It serves nothing itself: it forks N
 * workers sharing the public port (node:cluster: the primary holds the listening socket and
 * hands connections to the workers in turn), restarts a worker that dies (supervisor.ts), runs
 * the one admin listener (/metrics summed over the workers, /readyz over all of them, /config
 * and POST /reload), reloads them all on SIGHUP (cluster-reload.ts), prints the ready lines once
 * every worker listens, and on SIGTERM or SIGINT drains them all and exits 0.
 */
export async function runPrimary(source: ConfigSource, loaded: LoadedConfig, workers: number): Promise<number> {
  const { config } = loaded;
  const log = createLogger(config.logging.level).child({ role: "primary" });
  /** The configuration in force: what every worker serves, and what a restarted one is given. */
  let active = loaded;
  cluster.setupPrimary({ serialization: "advanced" });
  const supervisor = new Supervisor({
    count: workers,
    fork: () => clusterWorkerProcess(cluster.fork({ [WORKER_ENV]: "1" })),
    startMessage: (_slot, first) => ({ protogate: "start", config: active.config, configSha256: active.sha256, startupWarnings: first }),
    timers: REAL_TIMERS,
    log,
  });
  let phase: GatewayPhase = "starting";
  const stopRequested = new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      // /readyz turns 503 at once; each worker keeps serving through its pre-stop delay.
      phase = "draining";
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });

  const reload = createClusterReload({
    source,
    supervisor,
    active: () => active,
    activate: (next) => {
      active = next;
      log.level = next.config.logging.level;
    },
    phase: () => phase,
    log,
  });
  // A refusal is logged by reload itself.
  const onHangUp = () => void reload().catch(() => undefined);
  process.on("SIGHUP", onHangUp);

  let admin: AdminServer | undefined;
  if (config.admin.enabled) {
    const processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
    admin = await startAdminServer({
      host: config.admin.host,
      port: config.admin.port,
      metrics: () => clusterMetrics(supervisor, processMetrics, log),
      readiness: () => clusterReadiness(supervisor, phase),
      config: () => clusterActiveConfig(supervisor, active, source),
      reload,
      log,
    });
  }

  const started = await Promise.race([supervisor.start().then((ready) => ({ ready }), (error: unknown) => ({ error })), stopRequested.then(() => undefined)]);
  if (started === undefined || "error" in started) {
    process.off("SIGHUP", onHangUp);
    await supervisor.stop();
    await admin?.close();
    if (started === undefined) return 0;
    // The worker printed why it could not start (its stderr is ours).
    if (started.error instanceof WorkerStartError) return 1;
    throw started.error;
  }
  phase = "serving";
  const { url } = started.ready;
  console.log(`protogate listening on ${url}`);
  if (admin !== undefined) console.log(`protogate admin on ${admin.url}`);
  if (config.docs.enabled) console.log(`API docs on ${url}${config.docs.path} (OpenAPI document: ${url}${config.docs.openApiPath})`);
  log.info({ workers, pids: supervisor.states().map((slot) => slot.pid) }, "workers ready");

  await stopRequested;
  process.off("SIGHUP", onHangUp);
  const drained = await supervisor.stop();
  await admin?.close();
  if (!drained) log.error("a worker did not exit cleanly while draining");
  // node:cluster leaves open a connection it was handing to a worker at the instant that worker
  // died (it waits for an answer that never comes): such a leftover must not keep the primary up.
  setTimeout(() => process.exit(drained ? 0 : 1), 1_000).unref();
  return drained ? 0 : 1;
}

/** /metrics: every ready worker's registry (over IPC), summed, and the processes' own metrics labelled by process. */
async function clusterMetrics(supervisor: Supervisor, processMetrics: Registry, log: GatewayLogger): Promise<MetricsText> {
  const answers = await Promise.all(
    supervisor.readyChannels().map(({ worker, channel }) =>
      channel.request({ kind: "metrics" }, METRICS_TIMEOUT_MS).then(
        (metrics) => ({ worker, metrics }),
        (error: unknown) => {
          // The scrape goes on without it: its counters are missing from this one sum.
          log.warn({ worker, err: error }, "a worker did not give its metrics");
          return undefined;
        },
      ),
    ),
  );
  const registry = aggregateClusterMetrics(
    answers.filter((answer) => answer !== undefined),
    await processMetrics.getMetricsAsJSON(),
  );
  return { contentType: registry.contentType, text: await registry.metrics() };
}

/** /readyz: each worker's own report (its upstreams, its rate-limit store), ready only when all are. */
async function clusterReadiness(supervisor: Supervisor, phase: GatewayPhase): Promise<ClusterReadiness> {
  const channels = new Map(supervisor.readyChannels().map((ready) => [ready.worker, ready.channel]));
  const workers = await Promise.all(
    supervisor.states().map(async (slot) => {
      const channel = channels.get(slot.worker);
      if (channel === undefined) return slot;
      try {
        return { ...slot, report: await channel.request({ kind: "readiness" }, READINESS_TIMEOUT_MS) };
      } catch (error) {
        return { ...slot, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const ready = phase === "serving" && workers.every((worker) => "report" in worker && worker.report?.ready === true);
  return { ready, phase, workers };
}

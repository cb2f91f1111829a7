import type { ActiveConfig } from "../app.js";
import type { GatewayPhase } from "../admin/readiness.js";
import { ConfigError, loadConfigFile, type ConfigSource, type LoadedConfig } from "../config/load-config.js";
import { refuseListenerChanges } from "../reload/listener-settings.js";
import { ReloadRefused, type ReloadRefusal } from "../reload/reload-refused.js";
import { serially } from "../reload/serially.js";
import type { Supervisor } from "./supervisor.js";
import { WorkerRequestError } from "./worker-process.js";

/** A worker builds the next generation within this (a large route table takes seconds to load). */
const PREPARE_TIMEOUT_MS = 120_000;
/** Swapping it in, or closing it unused, is immediate. */
const COMMIT_TIMEOUT_MS = 10_000;
const CONFIG_TIMEOUT_MS = 2_000;

/** GET /config with workers: the config file in force, and each worker's own identity (they agree unless a restarted worker found the generated folder changed on disk). */
export interface ClusterActiveConfig {
  /** The workers' common hash; null when they differ (or none answered). */
  readonly hash: string | null;
  readonly configSha256: string;
  readonly file: string | undefined;
  readonly generated: string;
  readonly workers: ReadonlyArray<{ readonly worker: number; readonly pid: number | undefined } & (ActiveConfig | { readonly state: string; readonly error?: string })>;
}

export interface ClusterReloadOptions {
  readonly source: ConfigSource;
  readonly supervisor: Supervisor;
  /** The configuration in force (what a restarted worker is given). */
  readonly active: () => LoadedConfig;
  readonly activate: (loaded: LoadedConfig) => void;
  readonly phase: () => GatewayPhase;
  readonly log: { info(details: object, message: string): void; error(details: object, message: string): void };
}

/** GET /config: the file in force, and every worker's answer. */
export async function clusterActiveConfig(supervisor: Supervisor, active: LoadedConfig, source: ConfigSource): Promise<ClusterActiveConfig> {
  const channels = new Map(supervisor.readyChannels().map((ready) => [ready.worker, ready.channel]));
  const workers = await Promise.all(
    supervisor.states().map(async ({ worker, pid, state }) => {
      const channel = channels.get(worker);
      if (channel === undefined) return { worker, pid, state };
      try {
        return { worker, pid, ...(await channel.request({ kind: "config" }, CONFIG_TIMEOUT_MS)) };
      } catch (error) {
        return { worker, pid, state, error: (error as Error).message };
      }
    }),
  );
  const hashes = new Set(workers.map((worker) => ("hash" in worker ? worker.hash : null)));
  const [hash] = hashes;
  return { hash: hashes.size === 1 ? (hash ?? null) : null, configSha256: active.sha256, file: source.file, generated: active.config.generated, workers };
}

/**
 * The reload of a gateway with workers (SIGHUP or POST /reload to the primary), one at a time:
 * the primary reads the config file and flags again and checks them (a schema error or a changed
 * listener setting is refused at once); then every worker builds the next generation (the route
 * table as it is on disk, the key files it names) without serving it; only when all have, each
 * swaps it in, so that the workers never serve different configurations. If one refuses (or
 * does not answer, or is not ready), the others close what they built and the configuration in
 * force stays; the answer names each worker's reason.
 */
export function createClusterReload(options: ClusterReloadOptions): () => Promise<ClusterActiveConfig> {
  const { supervisor, log } = options;
  return serially(async (): Promise<ClusterActiveConfig> => {
    try {
      if (options.phase() !== "serving") throw new ReloadRefused("unavailable", options.phase() === "starting" ? "the workers are still starting" : "the gateway is shutting down");
      let next: LoadedConfig;
      try {
        next = loadConfigFile(options.source.file, options.source.overrides);
      } catch (error) {
        if (error instanceof ConfigError) throw new ReloadRefused("invalid", error.message);
        throw error;
      }
      refuseListenerChanges(options.active().config, next.config);
      const notReady = supervisor.states().filter((slot) => slot.state !== "ready");
      if (notReady.length > 0) throw new ReloadRefused("unavailable", notReady.map((slot) => `worker ${slot.worker} is ${slot.state}`).join(", ") + "; retry once every worker is ready");

      const workers = supervisor.readyChannels();
      const prepared = await Promise.allSettled(workers.map(({ channel }) => channel.request({ kind: "prepare-reload", config: next.config, configSha256: next.sha256 }, PREPARE_TIMEOUT_MS)));
      const refusals = prepared.flatMap((result, index) => (result.status === "rejected" ? [{ worker: workers[index].worker, error: result.reason as Error }] : []));
      if (refusals.length > 0) {
        await Promise.allSettled(workers.map(({ channel }) => channel.request({ kind: "abort-reload" }, COMMIT_TIMEOUT_MS)));
        throw refusedBy(refusals, workers.length);
      }
      // Before the swaps: a worker that dies from here on restarts with the new configuration.
      options.activate(next);
      await Promise.allSettled(workers.map(({ channel }) => channel.request({ kind: "commit-reload" }, COMMIT_TIMEOUT_MS)));
      const active = await clusterActiveConfig(supervisor, next, options.source);
      log.info({ hash: active.hash, configSha256: active.configSha256, workers: workers.length }, "configuration reloaded");
      return active;
    } catch (error) {
      if (error instanceof ReloadRefused) log.error({ refusal: error.refusal }, `reload refused, the configuration in force is unchanged: ${error.message}`);
      throw error;
    }
  });
}

/**
 * One refusal for the workers' reasons: the reason once when every worker gave the same, else
 * each worker's. A config one worker found invalid is invalid (retrying will not help); a
 * worker that did not answer makes it "unavailable".
 */
function refusedBy(refusals: ReadonlyArray<{ readonly worker: number; readonly error: Error }>, workerCount: number): ReloadRefused {
  const kinds = new Set<ReloadRefusal>(refusals.map(({ error }) => (error instanceof WorkerRequestError ? (error.refusal ?? "unavailable") : "unavailable")));
  const refusal: ReloadRefusal = kinds.has("invalid") ? "invalid" : kinds.has("restart-required") ? "restart-required" : "unavailable";
  const messages = new Set(refusals.map(({ error }) => error.message));
  if (messages.size === 1 && refusals.length === workerCount) return new ReloadRefused(refusal, refusals[0].error.message);
  return new ReloadRefused(refusal, refusals.map(({ worker, error }) => `worker ${worker}: ${error.message}`).join("; "));
}

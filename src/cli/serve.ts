import { loadConfigFile, type ConfigOverrides, type ConfigSource } from "../config/load-config.js";
import type { RunningGateway } from "../app.js";
import { isProtogateWorker } from "../cluster/worker-env.js";

/**
 * `protogate serve`: start, print the ready line, drain and exit 0 on SIGTERM/SIGINT. With
 * `workers` > 1 this process is the primary of that many workers (src/cluster/); a worker it
 * forked runs the same command line and takes its config from the primary instead.
 */
export async function runServe(options: { configFile: string | undefined; overrides: ConfigOverrides; workers?: number }): Promise<number> {
  if (isProtogateWorker()) return (await import("../cluster/worker.js")).runWorker();
  const source: ConfigSource = { file: options.configFile, overrides: options.overrides };
  const loaded = loadConfigFile(source.file, source.overrides);
  // The primary serves no request: it does not load the gateway's modules.
  if ((options.workers ?? 1) > 1) return (await import("../cluster/primary.js")).runPrimary(source, loaded, options.workers ?? 1);
  const { config } = loaded;
  const { startGateway } = await import("../app.js");
  const gateway = await startGateway(config, undefined, {}, { configSource: source, configSha256: loaded.sha256 });
  console.log(`protogate listening on ${gateway.url}`);
  if (gateway.adminUrl !== undefined) console.log(`protogate admin on ${gateway.adminUrl}`);
  if (config.docs.enabled) console.log(`API docs on ${gateway.url}${config.docs.path} (OpenAPI document: ${gateway.url}${config.docs.openApiPath})`);
  // SIGHUP reloads; the outcome (or why it was refused) is logged by reload itself.
  const onHangUp = () => void gateway.reload().catch(() => undefined);
  process.on("SIGHUP", onHangUp);
  return waitForShutdown(gateway, () => {
    process.off("SIGHUP", onHangUp);
    return Promise.resolve();
  });
}

/** Resolves with exit code 0 once a termination signal has drained the gateway. */
export function waitForShutdown(gateway: Pick<RunningGateway, "close">, beforeClose?: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      void gateway
        .close()
        .then(() => beforeClose?.())
        .then(() => resolve(0), (error: unknown) => {
          console.error("protogate: error while shutting down:", error);
          resolve(1);
        });
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}

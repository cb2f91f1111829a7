import { ConfigError, loadConfigFile, type ConfigSource, type LoadedConfig } from "../config/load-config.js";
import type { GatewayConfig } from "../config/schema.js";
import { buildGeneration, type Generation, type GenerationShared } from "../generation.js";
import { loadGeneratedFresh } from "../load-generated.js";
import { configIdentity, UNKNOWN_SHA256, type ConfigIdentity } from "./config-identity.js";
import { refuseListenerChanges } from "./listener-settings.js";
import { ReloadRefused } from "./reload-refused.js";
import { serially } from "./serially.js";

/** A reload built and ready to serve: `commit` swaps it in for new requests, `abort` closes it unused. */
export interface PreparedReload {
  readonly identity: ConfigIdentity;
  commit(): void;
  abort(): Promise<void>;
}

/** Where the serving generation is: the adapter reads `current` once per request; a reload swaps it. */
export interface GenerationSlot {
  current: Generation;
}

export interface ReloaderOptions {
  /** The config the listeners were built from (what a reload cannot change). */
  readonly listenerConfig: Readonly<GatewayConfig>;
  readonly slot: GenerationSlot;
  readonly shared: GenerationShared;
  /** Whether the gateway is serving (a reload while it starts or shuts down is refused). */
  readonly serving: () => boolean;
  /** The config file and flags `reload` reads again; without them it is refused. */
  readonly source: ConfigSource | undefined;
}

export interface Reloader {
  /**
   * The first half of a reload: builds the next generation from `config` and the generated folder
   * as it is on disk now, without serving it. Rejects with ReloadRefused (nothing left open).
   */
  prepare(config: Readonly<GatewayConfig>, configSha256: string): Promise<PreparedReload>;
  /** Reads the config file and flags again, prepares and commits; logs the outcome. One at a time. */
  reload(): Promise<ConfigIdentity>;
  /** Resolves once every generation swapped out so far has closed its resources. */
  retired(): Promise<void>;
}

/**
 * The hot reload of one gateway process. A generation swapped out keeps serving the requests it
 * began and closes its resources once the last has ended (Generation.retire).
 */
export function createReloader(options: ReloaderOptions): Reloader {
  const { slot, shared } = options;
  const { log } = shared;
  const retiring = new Set<Promise<void>>();

  const prepare = async (next: Readonly<GatewayConfig>, configSha256: string): Promise<PreparedReload> => {
    if (!options.serving()) throw new ReloadRefused("unavailable", "the gateway is shutting down");
    refuseListenerChanges(options.listenerConfig, next);
    let built: Generation;
    try {
      const folder = await loadGeneratedFresh(next.generated);
      built = await buildGeneration(next, folder, configIdentity(configSha256, folder.sha256 ?? UNKNOWN_SHA256), shared);
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
      const { source } = options;
      if (source === undefined) throw new ReloadRefused("unavailable", "this gateway was not started from a config file and flags to read again");
      let next: LoadedConfig;
      try {
        next = loadConfigFile(source.file, source.overrides);
      } catch (error) {
        if (error instanceof ConfigError) throw new ReloadRefused("invalid", error.message);
        throw error;
      }
      const prepared = await prepare(next.config, next.sha256);
      prepared.commit();
      log.info({ ...prepared.identity }, "configuration reloaded");
      return prepared.identity;
    } catch (error) {
      if (error instanceof ReloadRefused) log.error({ refusal: error.refusal }, `reload refused, the configuration in force is unchanged: ${error.message}`);
      throw error;
    }
  });

  return { prepare, reload, retired: () => Promise.all(retiring).then(() => undefined) };
}

import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RateLimitConfig } from "./rate-limit-config.js";
import { GCRA_SCRIPT } from "./redis-script.js";
import type { ScriptRunner } from "./redis-store.js";

type RedisConfig = RateLimitConfig["redis"];

/** A connected ioredis client for the limit store, reduced to what the store uses. */
export interface RedisConnection {
  readonly runner: ScriptRunner;
  /** Resolves once the client is ready, or after `connectTimeoutMs` (the store then fails per policy). */
  readonly ready: Promise<boolean>;
  /** Whether the client is connected and ready now. */
  connected(): boolean;
  close(): Promise<void>;
}

export interface RedisConnectionLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

/** What the client tells its owner about the connection. */
export interface RedisConnectionHooks {
  /** Called each time the client is connected and ready (at start and after every reconnection). */
  readonly onReady?: () => void;
}

/** The longest pause between reconnection attempts to a dead Redis. */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * Opens the client. It never queues commands while disconnected and never retries a command:
 * a rate-limit decision that cannot be made within `commandTimeoutMs` is a failure now, handled
 * by the limit's policy, not a request left waiting. Reconnection goes on in the background.
 * The client has no command timeout of its own: ioredis's fires in the timer phase of the event
 * loop, before a reply already in the socket is read, so a blocked loop looked like a silent
 * Redis. The store times its commands out itself (reply-deadline.ts).
 */
export function connectRedis(config: RedisConfig, log: RedisConnectionLog, hooks: RedisConnectionHooks = {}): RedisConnection {
  const nodes = config.nodes.map(parseHostPort);
  const password = config.passwordEnv === undefined ? undefined : process.env[config.passwordEnv];
  const common: RedisOptions = {
    connectTimeout: config.connectTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: "protogate-ratelimit",
    ...(config.username !== undefined && { username: config.username }),
    ...(password !== undefined && { password }),
  };
  const reconnectDelay = (attempt: number) => Math.min(50 * attempt, MAX_RECONNECT_DELAY_MS);
  const client =
    config.mode === "cluster"
      ? new Cluster(nodes, { enableOfflineQueue: false, clusterRetryStrategy: reconnectDelay, redisOptions: common, slotsRefreshTimeout: config.connectTimeoutMs })
      : new Redis({ ...common, ...nodes[0], db: config.db, enableOfflineQueue: false, retryStrategy: reconnectDelay });

  let connected = false;
  client.on("error", (error: Error) => {
    // ioredis emits an error per failed reconnection attempt; one line per outage is enough.
    if (connected) log.warn({ err: error.message }, "rate-limit redis connection error");
    connected = false;
  });
  client.on("ready", () => {
    if (!connected) log.info({ nodes: config.nodes }, "rate-limit redis connected");
    connected = true;
    preloadScript(client);
    hooks.onReady?.();
  });
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), config.connectTimeoutMs);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  return {
    runner: client,
    ready,
    connected: () => connected,
    async close() {
      client.disconnect();
    },
  };
}

/**
 * Loads the limit script on every (re)connection, so the first requests after a Redis start or
 * restart do not each pay a failed EVALSHA (NOSCRIPT) and an EVAL: one round trip, not two. A
 * failure here is harmless; the store falls back to EVAL on NOSCRIPT.
 */
function preloadScript(client: Redis | Cluster): void {
  const targets = client instanceof Cluster ? client.nodes("master") : [client];
  for (const target of targets) void target.script("LOAD", GCRA_SCRIPT).catch(() => undefined);
}

function parseHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(address.slice(colon + 1)) };
}

import { CircuitBreaker } from "../circuit-breaker.js";
import { createMemoryStore } from "./memory-store.js";
import type { RateLimitConfig } from "./rate-limit-config.js";
import { createRateLimiter, type RateLimitEvents, type RateLimiter } from "./rate-limiter.js";
import { connectRedis, type RedisConnectionLog } from "./redis-client.js";
import { createRedisStore } from "./redis-store.js";
import type { DeadlineTimers } from "./reply-deadline.js";

export interface RateLimiterLog extends RedisConnectionLog {
  error(details: object, message: string): void;
}

/** Tests only: the clock of the breaker and the timers of Redis command deadlines. */
export interface RateLimiterClock {
  readonly now?: () => number;
  readonly timers?: DeadlineTimers;
}

/**
 * The limiter the config asks for: the memory store, or Redis behind a circuit breaker (with a
 * memory store for fail-open limits while Redis is down). Waits up to `connectTimeoutMs` for
 * Redis at start; a Redis that is not there yet does not stop the gateway.
 */
export async function rateLimiterFromConfig(config: RateLimitConfig, log: RateLimiterLog, clock: RateLimiterClock = {}, events?: RateLimitEvents): Promise<RateLimiter> {
  const memory = createMemoryStore({ maxKeys: config.memory.maxKeys });
  if (config.store === "memory" || config.limits.length === 0) return createRateLimiter(config, { store: memory, ...(events && { events }) });

  const breaker = new CircuitBreaker({
    ...config.redis.breaker,
    ...(clock.now && { now: clock.now }),
    onTrip: (cause) =>
      log.error(
        { err: cause instanceof Error ? cause.message : String(cause), coolDownMs: config.redis.breaker.coolDownMs },
        "rate-limit store DOWN: circuit open; fail-open limits use per-replica local limits, fail-closed limits answer 503",
      ),
    onRecover: (downForMs) => log.info({ downForMs }, "rate-limit store recovered: circuit closed; shared limits are exact again"),
  });
  // A (re)connected client means Redis is back: probe it now rather than after the cool-down.
  const connection = connectRedis(config.redis, log, { onReady: () => breaker.probeNow() });
  const store = createRedisStore(connection.runner, {
    keyPrefix: config.redis.keyPrefix,
    hashTag: config.redis.hashTag,
    breaker,
    commandTimeoutMs: config.redis.commandTimeoutMs,
    ...(clock.timers && { timers: clock.timers }),
    close: () => connection.close(),
  });
  if (!(await connection.ready)) log.warn({ nodes: config.redis.nodes }, "rate-limit redis not reachable at start; limits apply their onStoreFailure policy until it is");
  return createRateLimiter(config, { store, fallback: memory, ...(events && { events }), health: () => ({ store: "redis", connected: connection.connected(), breaker: breaker.state }) });
}

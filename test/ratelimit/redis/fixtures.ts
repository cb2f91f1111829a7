import { CircuitBreaker } from "../../../src/ratelimit/breaker.js";
import type { RateLimiterLog } from "../../../src/ratelimit/create-rate-limiter.js";
import { rateLimitConfigSchema, type RateLimitConfig } from "../../../src/ratelimit/rate-limit-config.js";
import { connectRedis } from "../../../src/ratelimit/redis-client.js";
import { createRedisStore, type ScriptRunner } from "../../../src/ratelimit/redis-store.js";
import type { RateLimitStore } from "../../../src/ratelimit/store.js";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `attempt` until it resolves (not throws), for at most `timeoutMs`; the last error otherwise. */
export async function eventually<T>(attempt: () => Promise<T> | T, timeoutMs = 15_000, pauseMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(pauseMs);
    }
  }
}

/** One line a component logged. */
export interface LoggedLine {
  readonly level: "info" | "warn" | "error";
  readonly details: object;
  readonly message: string;
}

/** A logger that records what it is told, for assertions. */
export function recordingLog(): RateLimiterLog & { readonly lines: LoggedLine[]; messages(level: LoggedLine["level"]): string[] } {
  const lines: LoggedLine[] = [];
  const at = (level: LoggedLine["level"]) => (details: object, message: string) => void lines.push({ level, details, message });
  return {
    lines,
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    messages: (level) => lines.filter((line) => line.level === level).map((line) => line.message),
  };
}

/** `rateLimits` as the config file would give it, with the Redis store on `nodes`. */
export function redisRateLimitConfig(nodes: readonly string[], rest: Record<string, unknown> = {}, redis: Record<string, unknown> = {}): RateLimitConfig {
  return rateLimitConfigSchema.parse({ store: "redis", ...rest, redis: { nodes, ...redis } });
}

/** Calls the store made, counted at the client. */
export interface ScriptCalls {
  evalsha: number;
  eval: number;
}

/** The Redis store as create-rate-limiter.ts wires it, with its breaker and a count of the calls it makes. */
export interface StoreUnderTest {
  readonly store: RateLimitStore;
  readonly breaker: CircuitBreaker;
  readonly calls: ScriptCalls;
  readonly ready: Promise<boolean>;
  close(): Promise<void>;
}

export function openRedisStore(config: RateLimitConfig, log = recordingLog()): StoreUnderTest {
  const connection = connectRedis(config.redis, log);
  const breaker = new CircuitBreaker(config.redis.breaker);
  const calls: ScriptCalls = { evalsha: 0, eval: 0 };
  const counting: ScriptRunner = {
    evalsha: (...args) => {
      calls.evalsha++;
      return connection.runner.evalsha(...args);
    },
    eval: (...args) => {
      calls.eval++;
      return connection.runner.eval(...args);
    },
  };
  const store = createRedisStore(counting, { keyPrefix: config.redis.keyPrefix, hashTag: config.redis.hashTag, breaker, close: () => connection.close() });
  return { store, breaker, calls, ready: connection.ready, close: () => store.close() };
}

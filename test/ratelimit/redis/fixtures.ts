import { CircuitBreaker, type BreakerOptions } from "../../../src/circuit-breaker.js";
import type { RateLimiterLog } from "../../../src/ratelimit/create-rate-limiter.js";
import { rateLimitConfigSchema, type RateLimitConfig } from "../../../src/ratelimit/rate-limit-config.js";
import { connectRedis } from "../../../src/ratelimit/redis-client.js";
import { createRedisStore, type ScriptRunner } from "../../../src/ratelimit/redis-store.js";
import type { DeadlineTimers } from "../../../src/ratelimit/reply-deadline.js";
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
export function recordingLog(): RateLimiterLog & {
  readonly lines: LoggedLine[];
  messages(level: LoggedLine["level"]): string[];
  /** Resolves with the next line (logged from now on) whose message matches `pattern`. */
  next(pattern: RegExp): Promise<LoggedLine>;
} {
  const lines: LoggedLine[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve(line: LoggedLine): void }>();
  const at = (level: LoggedLine["level"]) => (details: object, message: string) => {
    const line = { level, details, message };
    lines.push(line);
    for (const waiter of waiters) {
      if (!waiter.pattern.test(message)) continue;
      waiters.delete(waiter);
      waiter.resolve(line);
    }
  };
  return {
    lines,
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    messages: (level) => lines.filter((line) => line.level === level).map((line) => line.message),
    next: (pattern) => new Promise((resolve) => void waiters.add({ pattern, resolve })),
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
  /** Resolves when the client is next ready (connected again; the breaker may then probe at once). */
  nextReady(): Promise<void>;
  close(): Promise<void>;
}

/** The breaker's clock and callbacks and the command deadlines' timers (real ones by default). */
export type StoreTestOptions = Pick<BreakerOptions, "now" | "onTrip" | "onRecover"> & { readonly timers?: DeadlineTimers };

export function openRedisStore(config: RateLimitConfig, log = recordingLog(), options: StoreTestOptions = {}): StoreUnderTest {
  const { timers, ...breakerOptions } = options;
  const breaker = new CircuitBreaker({ ...config.redis.breaker, ...breakerOptions });
  const readyWaiters: Array<() => void> = [];
  const connection = connectRedis(config.redis, log, {
    onReady: () => {
      breaker.probeNow();
      for (const resolve of readyWaiters.splice(0)) resolve();
    },
  });
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
  const store = createRedisStore(counting, {
    keyPrefix: config.redis.keyPrefix,
    hashTag: config.redis.hashTag,
    breaker,
    commandTimeoutMs: config.redis.commandTimeoutMs,
    ...(timers && { timers }),
    close: () => connection.close(),
  });
  return { store, breaker, calls, ready: connection.ready, nextReady: () => new Promise((resolve) => void readyWaiters.push(resolve)), close: () => store.close() };
}

/**
 * Keeps the event loop busy for `ms` without yielding, as handling a burst of new connections
 * does: timers expire and replies arrive meanwhile, and are only seen once this returns.
 */
export function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else runs on this thread meanwhile
  }
}

/** Deadline timers that expire only when a test says so: no test waits for a timeout to pass. */
export interface ManualTimers extends DeadlineTimers {
  /** Deadlines armed and neither cleared nor expired yet. */
  readonly pending: number;
  /** Expires every armed deadline now, as if its time had passed. */
  expireAll(): void;
}

export function manualTimers(): ManualTimers {
  const armed = new Map<number, () => void>();
  let lastId = 0;
  return {
    setTimeout(expire) {
      armed.set(++lastId, expire);
      return lastId;
    },
    clearTimeout(handle) {
      armed.delete(handle as number);
    },
    get pending() {
      return armed.size;
    },
    expireAll() {
      const due = [...armed.values()];
      armed.clear();
      for (const expire of due) expire();
    },
  };
}

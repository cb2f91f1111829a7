import type { CircuitBreaker } from "../circuit-breaker.js";
import { GCRA_SCRIPT, GCRA_SCRIPT_SHA1 } from "./redis-script.js";
import { awaitReply, REAL_TIMERS, type DeadlineTimers, type ReplyDeadline } from "./reply-deadline.js";
import { RateLimitStoreError, type LimitCheck, type LimitState, type RateLimitStore, type StoreDecision } from "./store.js";

/** What the store needs of an ioredis client (standalone or cluster). */
export interface ScriptRunner {
  evalsha(sha1: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

export interface RedisStoreOptions {
  /** Prefix of every key, e.g. `protogate:rl:`. */
  readonly keyPrefix: string;
  /**
   * Every key of the store carries this `{hash tag}`, so all buckets of a request live in one
   * cluster slot and one script can check them atomically.
   */
  readonly hashTag: string;
  readonly breaker: CircuitBreaker;
  /**
   * A command whose reply has not arrived this long after it was written fails (a reply that
   * arrived while the event loop was busy is still taken: see reply-deadline.ts).
   */
  readonly commandTimeoutMs: number;
  /** Tests only: timers to expire command deadlines without waiting. */
  readonly timers?: DeadlineTimers;
  readonly close: () => Promise<void>;
}

/**
 * Buckets in Redis: one EVALSHA per request (the script is loaded by an EVAL when Redis answers
 * NOSCRIPT, after a restart or a SCRIPT FLUSH). Failures and an open breaker reject with
 * `RateLimitStoreError`. The client must not time commands out itself (ioredis's
 * `commandTimeout` fires before a reply waiting in the socket is read): this store does.
 */
export function createRedisStore(client: ScriptRunner, options: RedisStoreOptions): RateLimitStore {
  const prefix = `${options.keyPrefix}{${options.hashTag}}:`;
  const { breaker } = options;
  // A reply to a call given up as timed out shows Redis answers again: an open breaker probes now.
  const deadline: ReplyDeadline = { ms: options.commandTimeoutMs, timers: options.timers ?? REAL_TIMERS, onLateReply: () => breaker.probeNow() };

  const run = async (checks: readonly LimitCheck[]): Promise<unknown> => {
    const keysAndArgs = new Array<string>(checks.length * 3);
    for (let i = 0; i < checks.length; i++) {
      keysAndArgs[i] = prefix + checks[i].key;
      keysAndArgs[checks.length + 2 * i] = String(checks[i].params.intervalUs);
      keysAndArgs[checks.length + 2 * i + 1] = String(checks[i].params.burst);
    }
    // Each deadline starts right after its command is written (ioredis writes it synchronously).
    try {
      return await awaitReply(client.evalsha(GCRA_SCRIPT_SHA1, checks.length, ...keysAndArgs), deadline);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await awaitReply(client.eval(GCRA_SCRIPT, checks.length, ...keysAndArgs), deadline);
    }
  };

  return {
    async consume(checks) {
      const ticket = breaker.admit();
      if (ticket === undefined) throw new RateLimitStoreError("rate-limit store unavailable (circuit open)");
      let reply: unknown;
      try {
        reply = await run(checks);
      } catch (error) {
        breaker.failure(ticket, error);
        throw new RateLimitStoreError(`rate-limit store failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      breaker.success(ticket);
      return parseReply(reply, checks.length);
    },
    close: options.close,
  };
}

/** The script's flat integer reply as a decision; anything else is a store failure. */
function parseReply(reply: unknown, count: number): StoreDecision {
  if (!Array.isArray(reply) || reply.length !== 1 + 4 * count || !reply.every((value) => typeof value === "number")) {
    throw new RateLimitStoreError("rate-limit store returned an unexpected reply");
  }
  const values = reply as number[];
  const states: LimitState[] = new Array<LimitState>(count);
  for (let i = 0; i < count; i++) {
    const at = 1 + 4 * i;
    states[i] = { allowed: values[at] === 1, remaining: values[at + 1], resetUs: values[at + 2], retryAfterUs: values[at + 3] };
  }
  return { allowed: values[0] === 1, states };
}

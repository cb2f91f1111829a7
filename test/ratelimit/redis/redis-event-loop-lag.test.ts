import { afterAll, beforeAll, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { httpStatusFromCode } from "../../../src/errors/http-status.js";
import { rateLimiterFromConfig } from "../../../src/ratelimit/create-rate-limiter.js";
import { gcraParams } from "../../../src/ratelimit/gcra.js";
import type { MethodLimiter, RateLimiter } from "../../../src/ratelimit/rate-limiter.js";
import { describeWithRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";
import { blockEventLoop, openRedisStore, recordingLog, redisRateLimitConfig } from "./fixtures.js";

/**
 * Defect 2 of the hardening issue: a burst of new connections blocks the event loop for longer
 * than `commandTimeoutMs` while Redis answers in a millisecond. Node runs expired timers before
 * it polls for I/O, so a timer armed when the command was sent fired before the reply, already in
 * the socket buffer, was read: a healthy Redis was declared down. These tests block the loop
 * with a synchronous busy loop, as a burst of connection handling does.
 */

const COMMAND_TIMEOUT_MS = 50;
/** Far longer than the command timeout, far shorter than anything a test would wait for. */
const BLOCK_MS = 4 * COMMAND_TIMEOUT_MS;
const HOUR = 3600;

describeWithRedis("Redis store under event-loop lag (a blocked loop is not a slow Redis)", () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("regression: a healthy Redis declared down under connection bursts (a blocked event loop tripped the command timeout)", async () => {
    const config = redisRateLimitConfig([redis.address], {}, { keyPrefix: "lag-store:", commandTimeoutMs: COMMAND_TIMEOUT_MS, breaker: { failureThreshold: 3, coolDownMs: 2000 } });
    const subject = openRedisStore(config);
    try {
      expect(await subject.ready).toBe(true);
      const params = gcraParams(1000, HOUR, 1000);
      expect((await subject.store.consume([{ key: "warm-up", params }])).allowed).toBe(true);

      // A burst: 100 requests' calls are written, then the loop is busy for 4 command timeouts.
      const calls = Array.from({ length: 100 }, async () => {
        try {
          await subject.store.consume([{ key: "burst", params }]);
          return "ok";
        } catch (error) {
          return String(error);
        }
      });
      blockEventLoop(BLOCK_MS);
      const outcomes = await Promise.all(calls);

      expect(outcomes.filter((outcome) => outcome !== "ok")).toEqual([]);
      expect(subject.breaker.state).toBe("closed");
      // Redis counted each of them exactly once.
      expect((await subject.store.consume([{ key: "burst", params }])).states[0].remaining).toBe(1000 - 101);
    } finally {
      await subject.close();
    }
  });

  it("regression: under a blocked loop fail-closed limits answered 503 and fail-open limits over-admitted (12 of 10)", async () => {
    const log = recordingLog();
    const config = redisRateLimitConfig(
      [redis.address],
      {
        limits: [
          { name: "open", key: "ip", requests: 10, periodSeconds: HOUR, methods: ["demo.v1.UserService.GetUser"] },
          { name: "closed", key: "ip", requests: 1000, periodSeconds: HOUR, methods: ["demo.v1.UserService.ListUsers"], onStoreFailure: "fail-closed" },
        ],
      },
      { keyPrefix: "lag-policy:", commandTimeoutMs: COMMAND_TIMEOUT_MS, localFallbackShare: 0.5, breaker: { failureThreshold: 3, coolDownMs: 2000 } },
    );
    const limiter: RateLimiter = await rateLimiterFromConfig(config, log);
    const method = (name: string): MethodLimiter => {
      const found = limiter.forMethod("demo.v1.UserService", name);
      if (!found) throw new Error(`no limit on ${name}`);
      return found;
    };
    const httpStatusOf = (error: unknown) => (error instanceof GatewayError ? (error.httpStatus ?? httpStatusFromCode(error.code)) : 500);
    /** The HTTP status the gateway would answer; the check (and its Redis call) starts at once, not in a later tick. */
    const statusOf = async (name: string, clientIp: string): Promise<number> => {
      try {
        await method(name).check({ caller: undefined, clientIp, headers: {} });
        return 200;
      } catch (error) {
        return httpStatusOf(error);
      }
    };
    try {
      // Fail-open: 8 of its 10 spent normally, then 4 more in a burst under a blocked loop.
      for (let i = 0; i < 8; i++) expect(await statusOf("GetUser", "10.9.0.1")).toBe(200);
      const openBurst = Array.from({ length: 4 }, () => statusOf("GetUser", "10.9.0.1"));
      // Fail-closed: a burst of 20 under the same blocked loop.
      const closedBurst = Array.from({ length: 20 }, (_, i) => statusOf("ListUsers", `10.9.1.${i}`));
      blockEventLoop(BLOCK_MS);
      expect((await Promise.all(openBurst)).sort()).toEqual([200, 200, 429, 429]);
      expect(await Promise.all(closedBurst)).toEqual(Array<number>(20).fill(200));
      // And afterwards: Redis is still the one deciding, exactly.
      expect(await statusOf("GetUser", "10.9.0.1")).toBe(429);
      expect(await statusOf("ListUsers", "10.9.1.0")).toBe(200);
      expect(log.messages("error")).toEqual([]);
    } finally {
      await limiter.close();
    }
  });
});

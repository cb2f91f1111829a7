import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { gcraParams, type GcraParams } from "../../../src/ratelimit/gcra.js";
import { GCRA_SCRIPT_SHA1 } from "../../../src/ratelimit/redis-script.js";
import { RateLimitStoreError, type LimitCheck, type StoreDecision } from "../../../src/ratelimit/store.js";
import { describeWithRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";
import { openRedisStore, redisRateLimitConfig, sleep, type StoreUnderTest } from "./fixtures.js";

/** Slack for the time that passes between calls on a busy machine (reset only ever shrinks with it). */
const SLACK_US = 5_000_000;
/** Long periods: no refill during a test, unless the test waits for one. */
const HOUR = 3600;

describeWithRedis("Redis store against a real redis-server", () => {
  let redis: RedisServer;
  let admin: Redis;
  let subject: StoreUnderTest;
  const config = () => redisRateLimitConfig([redis.address], {}, { hashTag: "tag-1", keyPrefix: "t:", commandTimeoutMs: 2000, breaker: { failureThreshold: 3, coolDownMs: 200 } });

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis({ host: redis.host, port: redis.port, maxRetriesPerRequest: 2 });
    subject = openRedisStore(config());
    expect(await subject.ready).toBe(true);
  });
  afterAll(async () => {
    await subject?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  let keyCounter = 0;
  const freshKey = (name: string) => `${name}-${++keyCounter}`;
  const consume = async (...checks: LimitCheck[]): Promise<StoreDecision> => subject.store.consume(checks);
  const check = (key: string, params: GcraParams): LimitCheck => ({ key, params });

  it("admits exactly the burst, then rejects, with exact remaining, reset and retry-after", async () => {
    const params = gcraParams(5, HOUR, 5);
    const { intervalUs } = params;
    const key = freshKey("burst");
    for (let i = 1; i <= 5; i++) {
      const { allowed, states } = await consume(check(key, params));
      expect(allowed).toBe(true);
      expect(states[0]).toMatchObject({ allowed: true, remaining: 5 - i, retryAfterUs: 0 });
      expect(states[0].resetUs).toBeLessThanOrEqual(i * intervalUs);
      expect(states[0].resetUs).toBeGreaterThan(i * intervalUs - SLACK_US);
    }
    let previousReset = Infinity;
    for (let attempt = 0; attempt < 3; attempt++) {
      const { allowed, states } = await consume(check(key, params));
      expect(allowed).toBe(false);
      const [state] = states;
      expect(state).toMatchObject({ allowed: false, remaining: 0 });
      expect(state.resetUs).toBeLessThanOrEqual(5 * intervalUs);
      expect(state.resetUs).toBeGreaterThan(5 * intervalUs - SLACK_US);
      // One request fits again once the bucket has drained to burst - 1 intervals ahead.
      expect(state.retryAfterUs).toBe(state.resetUs + intervalUs - 5 * intervalUs);
      expect(state.retryAfterUs).toBeGreaterThan(intervalUs - SLACK_US);
      // A rejection consumed nothing: the bucket only drains.
      expect(state.resetUs).toBeLessThanOrEqual(previousReset);
      previousReset = state.resetUs;
    }
  });

  it("admits a request only when every limit admits it; a rejected request consumes nothing from any bucket", async () => {
    const small = check(freshKey("small"), gcraParams(2, HOUR, 2));
    const large = check(freshKey("large"), gcraParams(4, HOUR, 4));
    expect((await consume(small, large)).states.map((s) => s.remaining)).toEqual([1, 3]);
    expect((await consume(small, large)).states.map((s) => s.remaining)).toEqual([0, 2]);
    for (let attempt = 0; attempt < 3; attempt++) {
      const rejected = await consume(small, large);
      expect(rejected.allowed).toBe(false);
      expect(rejected.states[0]).toMatchObject({ allowed: false, remaining: 0 });
      // The admitting bucket is reported as it stands, untouched.
      expect(rejected.states[1]).toMatchObject({ allowed: true, remaining: 2, retryAfterUs: 0 });
      expect(rejected.states[1].resetUs).toBeLessThanOrEqual(2 * large.params.intervalUs);
      expect(rejected.states[1].resetUs).toBeGreaterThan(2 * large.params.intervalUs - SLACK_US);
    }
    // The large bucket still holds exactly the 2 the rejected requests did not take.
    expect((await consume(large)).states[0]).toMatchObject({ allowed: true, remaining: 1 });
    expect((await consume(large)).states[0]).toMatchObject({ allowed: true, remaining: 0 });
    expect((await consume(large)).allowed).toBe(false);

    // The same with the rejecting bucket second.
    const fresh = check(freshKey("fresh"), gcraParams(3, HOUR, 3));
    const blocked = await consume(fresh, small);
    expect(blocked.allowed).toBe(false);
    expect(blocked.states.map((s) => s.allowed)).toEqual([true, false]);
    expect(blocked.states[0].remaining).toBe(3);
    for (const remaining of [2, 1, 0]) expect((await consume(fresh)).states[0].remaining).toBe(remaining);
  });

  it("refills at the steady rate (one request per interval after the burst)", async () => {
    const params = gcraParams(2, 3, 1); // one request per 1.5 s, no burst beyond it
    const key = freshKey("refill");
    expect((await consume(check(key, params))).allowed).toBe(true);
    const rejected = await consume(check(key, params));
    expect(rejected.allowed).toBe(false);
    const { retryAfterUs } = rejected.states[0];
    expect(retryAfterUs).toBeGreaterThan(0);
    expect(retryAfterUs).toBeLessThanOrEqual(params.intervalUs);
    await sleep(retryAfterUs / 1000 + 300);
    const refilled = await consume(check(key, params));
    expect(refilled.allowed).toBe(true);
    expect(refilled.states[0].remaining).toBe(0);
    // Exactly one came back: the next is rejected again (1.2 s of margin before another would).
    expect((await consume(check(key, params))).allowed).toBe(false);
  });

  it("names every key with the {hash tag} and lets it expire when its bucket is full again", async () => {
    const params = gcraParams(10, HOUR, 10);
    const [a, b] = [freshKey("tagged-a"), freshKey("tagged-b")];
    const { states } = await consume(check(a, params), check(b, params));
    const keys = await admin.keys(`t:*tagged-*`);
    expect(keys.sort()).toEqual([`t:{tag-1}:${a}`, `t:{tag-1}:${b}`]);
    const ttlMs = await admin.pttl(`t:{tag-1}:${a}`);
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(Math.ceil(states[0].resetUs / 1000));
    expect(ttlMs).toBeGreaterThan(states[0].resetUs / 1000 - SLACK_US / 1000);
    // The stored TAT is a plain integer (no exponent form), in microseconds of Redis's clock.
    const [seconds, micros] = await admin.time();
    const tat = await admin.get(`t:{tag-1}:${a}`);
    expect(tat).toMatch(/^\d+$/);
    expect(Number(tat) - (Number(seconds) * 1e6 + Number(micros))).toBeGreaterThan(params.intervalUs - SLACK_US);
  });

  it("loads the script as soon as it connects, so even the first request is a single EVALSHA", async () => {
    const fresh = await startRedisServer();
    const store = openRedisStore(redisRateLimitConfig([fresh.address]));
    try {
      expect(await store.ready).toBe(true);
      expect((await store.store.consume([check("first", gcraParams(5, HOUR, 5))])).states[0].remaining).toBe(4);
      expect(store.calls).toEqual({ evalsha: 1, eval: 0 });
      // Loaded on connecting, before that request on the same connection (Redis answers in order).
      const direct = new Redis({ host: fresh.host, port: fresh.port });
      try {
        expect(await direct.script("EXISTS", GCRA_SCRIPT_SHA1)).toEqual([1]);
      } finally {
        direct.disconnect();
      }
    } finally {
      await store.close();
      await fresh.stop();
    }
  });

  it("runs by EVALSHA, loading the script by EVAL on NOSCRIPT (first use, SCRIPT FLUSH) without losing buckets", async () => {
    const params = gcraParams(4, HOUR, 4);
    const key = freshKey("noscript");
    await admin.script("FLUSH");
    const before = { ...subject.calls };
    expect((await consume(check(key, params))).states[0].remaining).toBe(3);
    expect(subject.calls).toEqual({ evalsha: before.evalsha + 1, eval: before.eval + 1 });
    expect(await admin.script("EXISTS", GCRA_SCRIPT_SHA1)).toEqual([1]);

    expect((await consume(check(key, params))).states[0].remaining).toBe(2);
    expect(subject.calls).toEqual({ evalsha: before.evalsha + 2, eval: before.eval + 1 });

    await admin.script("FLUSH");
    expect((await consume(check(key, params))).states[0].remaining).toBe(1);
    expect(subject.calls).toEqual({ evalsha: before.evalsha + 3, eval: before.eval + 2 });
  });

  it("fails while Redis is down, and after a restart (empty, no script) is exact again by itself", async () => {
    const params = gcraParams(3, HOUR, 3);
    const key = freshKey("restart");
    for (const remaining of [2, 1, 0]) expect((await consume(check(key, params))).states[0].remaining).toBe(remaining);
    expect((await consume(check(key, params))).allowed).toBe(false);

    const loadsBefore = subject.calls.eval;
    await redis.kill();
    await expect(consume(check(key, params))).rejects.toBeInstanceOf(RateLimitStoreError);
    const reconnected = subject.nextReady();
    await redis.restart();
    // The client reconnects and the breaker lets a probe through, without help.
    await reconnected;
    await consume(check(freshKey("probe"), params));
    expect(subject.breaker.state).toBe("closed");
    // The new server knew no script: the client loaded it again when it reconnected, before the
    // probe (same connection, in order), so no request paid a NOSCRIPT and an EVAL.
    expect(subject.calls.eval).toBe(loadsBefore);

    // Redis came back empty: the bucket is full again, and holds exactly its burst.
    for (const remaining of [2, 1, 0]) expect((await consume(check(key, params))).states[0]).toMatchObject({ allowed: true, remaining });
    expect((await consume(check(key, params))).allowed).toBe(false);
  });
});

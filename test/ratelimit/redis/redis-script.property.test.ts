import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { gcraEvaluate, unconsumed, type GcraParams } from "../../../src/ratelimit/gcra.js";
import { GCRA_SCRIPT_WITH_CLOCK_ARG } from "../../../src/ratelimit/redis-script.js";
import { describeWithRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";

/**
 * The Lua script against gcra.ts on random request sequences. The script variant takes its clock
 * as the last ARGV, so both run on the same simulated clock. Its keys expire in Redis's real time,
 * which a simulated clock does not follow, so each step also PERSISTs them in the same
 * transaction: a stale bucket (TAT in the past) counts as a full one in both implementations.
 */

interface Scenario {
  readonly buckets: readonly GcraParams[];
  readonly steps: ReadonlyArray<{ readonly advanceUs: number; readonly buckets: readonly number[] }>;
}

const bucketArbitrary = fc.record({
  intervalUs: fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 5_000_000 })),
  burst: fc.integer({ min: 1, max: 8 }),
});

/** Steps of random length, some landing exactly on (or one microsecond off) a multiple of an interval. */
function scenarioArbitrary(): fc.Arbitrary<Scenario> {
  return fc.array(bucketArbitrary, { minLength: 1, maxLength: 4 }).chain((buckets) => {
    const indices = buckets.map((_, i) => i);
    const nearMultiple = fc
      .tuple(fc.constantFrom(...indices), fc.integer({ min: 0, max: 10 }), fc.integer({ min: -1, max: 1 }))
      .map(([i, times, offset]) => Math.max(0, buckets[i].intervalUs * times + offset));
    const step = fc.record({
      advanceUs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20_000_000 }), nearMultiple),
      buckets: fc.shuffledSubarray(indices, { minLength: 1 }),
    });
    return fc.record({ buckets: fc.constant(buckets), steps: fc.array(step, { minLength: 1, maxLength: 30 }) });
  });
}

describeWithRedis("the Redis GCRA script equals gcra.ts (property)", () => {
  let redis: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    client = new Redis({ host: redis.host, port: redis.port });
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it("gives identical verdicts, remaining, reset and retry-after, and stores the same TATs", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(), fc.integer({ min: 0, max: 1_000_000_000_000 }), async ({ buckets, steps }, startOffsetUs) => {
        run++;
        const keys = buckets.map((_, i) => `prop:${run}:{t}:${i}`);
        const tats = new Map<number, number>();
        // A realistic epoch in microseconds (2023 on), where %g would print an exponent.
        let now = 1_700_000_000_000_000 + startOffsetUs;
        for (const step of steps) {
          now += step.advanceUs;
          const stepKeys = step.buckets.map((i) => keys[i]);
          const args = step.buckets.flatMap((i) => [String(buckets[i].intervalUs), String(buckets[i].burst)]);
          const transaction = client.multi().eval(GCRA_SCRIPT_WITH_CLOCK_ARG, stepKeys.length, ...stepKeys, ...args, String(now));
          for (const key of stepKeys) transaction.persist(key);
          for (const key of stepKeys) transaction.get(key);
          const results = await transaction.exec();
          if (!results) throw new Error("transaction aborted");
          for (const [error] of results) if (error) throw error;
          const reply = results[0][1];
          const stored = results.slice(1 + stepKeys.length).map(([, value]) => value);

          let verdicts = step.buckets.map((i) => gcraEvaluate(tats.get(i), now, buckets[i]));
          const allowed = verdicts.every((verdict) => verdict.allowed);
          if (allowed) step.buckets.forEach((bucket, j) => tats.set(bucket, verdicts[j].tat));
          else verdicts = verdicts.map((verdict, j) => unconsumed(verdict, buckets[step.buckets[j]]));
          const expected = [allowed ? 1 : 0, ...verdicts.flatMap((v) => [v.allowed ? 1 : 0, v.remaining, v.resetUs, v.retryAfterUs])];

          expect(reply).toEqual(expected);
          expect(stored).toEqual(step.buckets.map((i) => (tats.has(i) ? String(tats.get(i)) : null)));
        }
      }),
      { numRuns: 150 },
    );
  });
});

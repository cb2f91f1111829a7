import { Cluster } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { rateLimiterFromConfig } from "../../../src/ratelimit/create-rate-limiter.js";
import type { LimitHeaders, MethodLimiter, RateLimiter } from "../../../src/ratelimit/rate-limiter.js";
import { GCRA_SCRIPT } from "../../../src/ratelimit/redis-script.js";
import { describeWithRedis, startRedisCluster, type RedisCluster } from "../../support/redis-server.js";
import { recordingLog, redisRateLimitConfig } from "./fixtures.js";

const HOUR = 3600;

describeWithRedis(
  "Redis Cluster store (3 masters)",
  () => {
    let cluster: RedisCluster;
    let admin: Cluster;
    let limiter: RateLimiter;

    beforeAll(async () => {
      cluster = await startRedisCluster(3);
      admin = new Cluster(cluster.addresses.map((address) => ({ host: "127.0.0.1", port: Number(address.split(":")[1]) })));
      const config = redisRateLimitConfig(
        cluster.addresses,
        {
          limits: [
            { name: "per-ip", key: "ip", requests: 30, periodSeconds: HOUR, methods: ["demo.v1.UserService.GetUser"] },
            { name: "all", key: "global", requests: 40, periodSeconds: HOUR, methods: ["demo.v1.UserService.GetUser", "demo.v1.UserService.ListUsers"] },
          ],
        },
        { mode: "cluster", hashTag: "pg", keyPrefix: "cl:", commandTimeoutMs: 2_000, connectTimeoutMs: 10_000 },
      );
      const log = recordingLog();
      limiter = await rateLimiterFromConfig(config, log);
      expect(log.messages("warn")).toEqual([]);
    }, 60_000);

    afterAll(async () => {
      await limiter?.close();
      admin?.disconnect();
      await cluster?.stop();
    });

    const method = (name: string): MethodLimiter => {
      const found = limiter.forMethod("demo.v1.UserService", name);
      if (!found) throw new Error(`no limit on ${name}`);
      return found;
    };
    /** Fires `count` checks at once; the admitted ones' headers, and how many were rejected with 429. */
    const burstOf = async (name: string, clientIp: string, count: number) => {
      const settled = await Promise.allSettled(Array.from({ length: count }, () => method(name).check({ caller: undefined, clientIp, headers: {} })));
      const admitted: LimitHeaders[] = [];
      let rejected = 0;
      for (const result of settled) {
        if (result.status === "fulfilled") admitted.push(result.value);
        else if (result.reason instanceof GatewayError && result.reason.reason === "PG_ERR_RATE_LIMITED") rejected++;
        else throw result.reason;
      }
      return { admitted, rejected };
    };

    it("admits exactly the burst of a request's tightest limit, with all its keys in one slot", async () => {
      // GetUser counts against both limits: 30 per IP binds first.
      const first = await burstOf("GetUser", "10.2.0.1", 100);
      expect(first.admitted).toHaveLength(30);
      expect(first.rejected).toBe(70);
      // The tightest limit's remaining: each admitted request got its own place in the bucket.
      expect(first.admitted.map((headers) => Number(headers["x-ratelimit-remaining"])).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));

      // The global limit (40) had 30 taken with them; the rejected requests took nothing.
      const second = await burstOf("ListUsers", "10.2.0.2", 30);
      expect(second.admitted).toHaveLength(10);
      expect(second.rejected).toBe(20);
      // And now GetUser from a new IP is blocked by the global limit alone, consuming nothing.
      const third = await burstOf("GetUser", "10.2.0.3", 5);
      expect(third.rejected).toBe(5);

      const keys: string[] = [];
      for (const node of admin.nodes("master")) keys.push(...(await node.keys("cl:*")));
      expect(keys).toHaveLength(2);
      expect(keys.find((key) => key.startsWith("cl:{pg}:all|"))).toMatch(/\|\*$/);
      expect(keys.find((key) => key.startsWith("cl:{pg}:per-ip|"))).toMatch(/\|ip:10\.2\.0\.1$/);
      const slots = await Promise.all(keys.map((key) => admin.cluster("KEYSLOT", key)));
      expect(new Set(slots).size).toBe(1);
    });

    it("needs the hash tag: the same script over untagged keys in different slots is refused (CROSSSLOT)", async () => {
      const untagged = ["cl:per-ip:x", "cl:all:*"];
      const slots = await Promise.all(untagged.map((key) => admin.cluster("KEYSLOT", key)));
      expect(slots[0]).not.toBe(slots[1]);
      await expect(admin.eval(GCRA_SCRIPT, 2, ...untagged, "1000", "1", "1000", "1")).rejects.toThrow(/CROSSSLOT/);
    });
  },
  { cluster: true },
);

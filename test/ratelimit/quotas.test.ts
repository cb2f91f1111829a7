import { describe, expect, it } from "vitest";
import { rateLimitConfigSchema } from "../../src/ratelimit/rate-limit-config.js";
import { limitsForMethod } from "../../src/ratelimit/quotas.js";

const config = rateLimitConfigSchema.parse({
  redis: { localFallbackShare: 0.25 },
  limits: [
    {
      name: "per-caller",
      key: "caller",
      requests: 100,
      tiers: { partner: { requests: 1000 }, anonymous: { requests: 10, periodSeconds: 60, burst: 5 } },
      overrides: [
        { selector: "demo.v1.OrderService.*", requests: 50 },
        { selector: "demo.v1.OrderService.CreateOrder", requests: 5, periodSeconds: 1, tiers: { partner: { requests: 20, periodSeconds: 1 } } },
      ],
    },
    { name: "orders-global", key: "global", requests: 10000, periodSeconds: 1, methods: ["demo.v1.OrderService.*"], onStoreFailure: "fail-closed" },
  ],
});

describe("limitsForMethod", () => {
  it("applies a limit only to the methods it selects, in config order", () => {
    expect(limitsForMethod(config, "demo.v1.UserService", "GetUser").map((limit) => limit.name)).toEqual(["per-caller"]);
    expect(limitsForMethod(config, "demo.v1.OrderService", "GetOrder").map((limit) => [limit.name, limit.failOpen])).toEqual([
      ["per-caller", true],
      ["orders-global", false],
    ]);
  });

  it("picks the caller's tier, or the level's own quota", () => {
    const [perCaller] = limitsForMethod(config, "demo.v1.UserService", "GetUser");
    expect(perCaller.quotaFor("partner")).toMatchObject({ requests: 1000, periodSeconds: 60, policyItem: '"per-caller";q=1000;w=60', params: { intervalUs: 60_000, burst: 1000 } });
    expect(perCaller.quotaFor("anonymous")).toMatchObject({ requests: 10, params: { intervalUs: 6_000_000, burst: 5 } });
    expect(perCaller.quotaFor("gold")).toMatchObject({ requests: 100, bucketPrefix: "per-caller|||" });
  });

  it("the most specific override wins entirely: its quota and only its own tiers", () => {
    const [service] = limitsForMethod(config, "demo.v1.OrderService", "GetOrder");
    expect(service.quotaFor("partner")).toMatchObject({ requests: 50, bucketPrefix: "per-caller|demo.v1.OrderService.*||" });
    const [create] = limitsForMethod(config, "demo.v1.OrderService", "CreateOrder");
    expect(create.quotaFor("partner")).toMatchObject({ requests: 20, periodSeconds: 1, bucketPrefix: "per-caller|demo.v1.OrderService.CreateOrder|partner|" });
    expect(create.quotaFor("anonymous")).toMatchObject({ requests: 5, periodSeconds: 1 });
  });

  it("scales the per-replica fallback by localFallbackShare, never below one request", () => {
    const [perCaller] = limitsForMethod(config, "demo.v1.UserService", "GetUser");
    expect(perCaller.quotaFor("gold").fallbackParams).toEqual({ intervalUs: 2_400_000, burst: 25 });
    expect(perCaller.quotaFor("anonymous").fallbackParams).toEqual({ intervalUs: 24_000_000, burst: 1 });
  });
});

describe("rateLimitConfigSchema", () => {
  it("defaults to the memory store and no limits", () => {
    expect(rateLimitConfigSchema.parse({})).toMatchObject({ store: "memory", memory: { maxKeys: 100_000 }, limits: [] });
  });

  it.each([
    [{ limits: [{ name: "a", key: "caller", requests: 1 }, { name: "a", key: "ip", requests: 1 }] }, "appears twice"],
    [{ limits: [{ name: "a", key: "cookie:x", requests: 1 }] }, "expected caller, subject"],
    [{ limits: [{ name: "a", key: "ip", requests: 0 }] }, "requests"],
    [{ limits: [{ name: "a", key: "ip", requests: 1, periodSeconds: 0.5 }] }, "periodSeconds"],
    [{ limits: [{ name: "a", key: "ip", requests: 1, overrides: [{ selector: "a.B.*", requests: 1 }, { selector: "a.B.*", requests: 2 }] }] }, "appears twice"],
    [{ redis: { passwordEnv: "not a name" } }, "environment variable"],
    [{ redis: { nodes: ["localhost"] } }, "HOST:PORT"],
  ])("rejects %j naming the problem", (raw, message) => {
    const result = rateLimitConfigSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it("lower-cases header keys", () => {
    expect(rateLimitConfigSchema.parse({ limits: [{ name: "t", key: "header:X-Tenant", requests: 1 }] }).limits[0].key).toBe("header:x-tenant");
  });
});

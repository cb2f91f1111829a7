import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/auth/caller.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { createMemoryStore } from "../../src/ratelimit/memory-store.js";
import { rateLimitConfigSchema } from "../../src/ratelimit/rate-limit-config.js";
import { callerTier, createRateLimiter, keyValue, NO_LIMIT_HEADERS, type LimitedRequest, type LimitHeaders, type MethodLimiter } from "../../src/ratelimit/rate-limiter.js";
import { RateLimitStoreError, type LimitCheck, type RateLimitStore, type StoreDecision } from "../../src/ratelimit/store.js";

const SECOND = 1_000_000;
const alice: Caller = { kind: "jwt", subject: "alice", issuer: "https://idp", scopes: new Set(), claims: { plan: "partner" } };
const keyHolder: Caller = { kind: "api-key", subject: "billing", consumer: "billing", keyId: "0123456789abcdef", tier: "gold", scopes: new Set(), claims: {} };
const anonymous = (ip: string, headers: LimitedRequest["headers"] = {}): LimitedRequest => ({ caller: undefined, clientIp: ip, headers });

function limiterFor(rawConfig: unknown, store: RateLimitStore, fallback = createMemoryStore({ maxKeys: 100 })): MethodLimiter {
  const limiter = createRateLimiter(rateLimitConfigSchema.parse(rawConfig), { store, fallback });
  const method = limiter.forMethod("demo.v1.UserService", "GetUser");
  if (!method) throw new Error("expected a limiter");
  return method;
}

/** Runs a check, returning its headers or the GatewayError it threw. */
async function attempt(limiter: MethodLimiter, request: LimitedRequest): Promise<LimitHeaders | GatewayError> {
  try {
    return await limiter.check(request);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}

describe("keyValue", () => {
  const request = (caller: Caller | undefined, headers: LimitedRequest["headers"] = {}): LimitedRequest => ({ caller, clientIp: "192.0.2.7", headers });

  it.each([
    ["caller", request(alice), "j:https://idp alice"],
    ["caller", request(keyHolder), "c:billing"],
    ["caller", request(undefined), "ip:192.0.2.7"],
    ["subject", request(undefined), undefined],
    ["consumer", request(keyHolder), "c:billing"],
    ["consumer", request(alice), undefined],
    ["apiKey", request(keyHolder), "k:0123456789abcdef"],
    ["ip", request(alice), "ip:192.0.2.7"],
    ["route", request(alice), "/demo.v1.UserService/GetUser"],
    ["global", request(undefined), "*"],
    ["header:x-tenant", request(undefined, { "x-tenant": "acme" }), "h:acme"],
    ["header:x-tenant", request(undefined, { "x-tenant": "" }), undefined],
    ["header:x-tenant", request(undefined), undefined],
  ] as const)("%s of %j", (key, input, expected) => {
    expect(keyValue(key, input, "/demo.v1.UserService/GetUser")).toBe(expected);
  });

  it("a subject that looks like an IP never shares the IP's bucket, and long values are hashed", () => {
    const spoof: Caller = { ...keyHolder, subject: "ip:192.0.2.7", consumer: "ip:192.0.2.7" };
    expect(keyValue("caller", request(spoof), "/x")).not.toBe(keyValue("caller", request(undefined), "/x"));
    const long = keyValue("header:x-tenant", request(undefined, { "x-tenant": "t".repeat(5000) }), "/x");
    expect(long).toMatch(/^h:#[A-Za-z0-9_-]{43}$/);
  });
});

describe("callerTier", () => {
  it("is anonymous without a caller, an API key's tier, a JWT's tier claim, else default", () => {
    expect(callerTier(undefined, "plan")).toBe("anonymous");
    expect(callerTier(keyHolder, "plan")).toBe("gold");
    expect(callerTier(alice, "plan")).toBe("partner");
    expect(callerTier(alice, undefined)).toBe("default");
    expect(callerTier({ ...alice, claims: { plan: 7 } }, "plan")).toBe("default");
  });
});

describe("createRateLimiter", () => {
  const perIp = { limits: [{ name: "per-ip", key: "ip", requests: 2, periodSeconds: 60 }] };

  it("costs nothing for methods no limit selects", () => {
    const limiter = createRateLimiter(rateLimitConfigSchema.parse({ limits: [{ name: "x", key: "ip", requests: 1, methods: ["other.v1.Svc.*"] }] }), { store: createMemoryStore({ maxKeys: 10 }) });
    expect(limiter.forMethod("demo.v1.UserService", "GetUser")).toBeUndefined();
  });

  it("admits with headers, then answers 429 RESOURCE_EXHAUSTED with Retry-After, RetryInfo and QuotaFailure", async () => {
    let now = 1_000 * SECOND;
    const limiter = limiterFor(perIp, createMemoryStore({ maxKeys: 100, nowUs: () => now }));
    expect(await attempt(limiter, anonymous("192.0.2.1"))).toMatchObject({ "x-ratelimit-limit": "2", "x-ratelimit-remaining": "1", "x-ratelimit-reset": "30" });
    expect(await attempt(limiter, anonymous("192.0.2.1"))).toMatchObject({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": "60" });
    now += 10 * SECOND;
    const rejected = await attempt(limiter, anonymous("192.0.2.1"));
    expect(rejected).toBeInstanceOf(GatewayError);
    const error = rejected as GatewayError;
    expect(error.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(error.reason).toBe("PG_ERR_RATE_LIMITED");
    expect(error.message).toBe("rate limit exceeded (per-ip); retry after 20s");
    expect(error.headers).toMatchObject({ "retry-after": "20", "x-ratelimit-remaining": "0", ratelimit: '"per-ip";r=0;t=50' });
    expect(error.details).toEqual([
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "20s" },
      { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ subject: "limit:per-ip", description: "at most 2 requests per 60 s" }] },
    ]);
    // Another client IP has its own bucket.
    expect(await attempt(limiter, anonymous("192.0.2.2"))).toMatchObject({ "x-ratelimit-remaining": "1" });
  });

  it("skips limits whose key the request lacks; with none left it adds no headers", async () => {
    const limiter = limiterFor({ limits: [{ name: "tenant", key: "header:x-tenant", requests: 1 }] }, createMemoryStore({ maxKeys: 10 }));
    expect(await attempt(limiter, anonymous("192.0.2.1"))).toBe(NO_LIMIT_HEADERS);
    expect(await attempt(limiter, anonymous("192.0.2.1", { "x-tenant": "acme" }))).toMatchObject({ "x-ratelimit-remaining": "0" });
    expect(await attempt(limiter, anonymous("192.0.2.9", { "x-tenant": "acme" }))).toBeInstanceOf(GatewayError);
  });

  it("gives a tier its own quota", async () => {
    const limiter = limiterFor({ limits: [{ name: "per-caller", key: "caller", requests: 1, tiers: { gold: { requests: 3 } } }] }, createMemoryStore({ maxKeys: 10 }));
    const gold = { caller: keyHolder, clientIp: "192.0.2.1", headers: {} };
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await attempt(limiter, gold));
    expect(results.map((result) => result instanceof GatewayError)).toEqual([false, false, false, true]);
    expect(await attempt(limiter, anonymous("192.0.2.1"))).toMatchObject({ "x-ratelimit-limit": "1" });
  });

  describe("when the store fails", () => {
    const failing: RateLimitStore = {
      consume: async () => {
        throw new RateLimitStoreError("redis down");
      },
      close: async () => {},
    };

    it("fail-open limits fall back to the local store with the fallback share", async () => {
      const limiter = limiterFor({ redis: { localFallbackShare: 0.5 }, limits: [{ name: "per-ip", key: "ip", requests: 4, periodSeconds: 3600 }] }, failing);
      const verdicts = [];
      for (let i = 0; i < 3; i++) verdicts.push(await attempt(limiter, anonymous("192.0.2.1")));
      expect(verdicts.map((verdict) => verdict instanceof GatewayError)).toEqual([false, false, true]);
    });

    it("a fail-closed limit makes it a 503 UNAVAILABLE naming the limit", async () => {
      const limiter = limiterFor({ limits: [{ name: "open", key: "ip", requests: 4 }, { name: "strict", key: "global", requests: 4, onStoreFailure: "fail-closed" }] }, failing);
      const result = await attempt(limiter, anonymous("192.0.2.1"));
      expect(result).toBeInstanceOf(GatewayError);
      expect(result).toMatchObject({ code: GrpcCode.UNAVAILABLE, reason: "PG_ERR_RATE_LIMIT_UNAVAILABLE", headers: { "retry-after": "1" } });
      expect((result as GatewayError).message).toContain('"strict"');
    });

    it("anything but a store failure is not hidden by the policy", async () => {
      const broken: RateLimitStore = {
        consume: () => {
          throw new TypeError("bug");
        },
        close: async () => {},
      };
      const limiter = limiterFor(perIp, broken);
      await expect(attempt(limiter, anonymous("192.0.2.1"))).rejects.toThrow(TypeError);
    });
  });

  it("hands the store one check per applicable limit, keyed by limit, level, tier and value", async () => {
    const seen: LimitCheck[][] = [];
    const recording: RateLimitStore = {
      consume: (checks): StoreDecision => {
        seen.push([...checks]);
        return { allowed: true, states: checks.map(() => ({ allowed: true, remaining: 1, resetUs: 1, retryAfterUs: 0 })) };
      },
      close: async () => {},
    };
    const limiter = limiterFor({ limits: [{ name: "per-caller", key: "caller", requests: 5, tiers: { gold: { requests: 9 } } }, { name: "all", key: "global", requests: 100 }] }, recording);
    await attempt(limiter, { caller: keyHolder, clientIp: "192.0.2.1", headers: {} });
    expect(seen[0].map((check) => check.key)).toEqual(["per-caller||gold|c:billing", "all|||*"]);
  });
});

describe("decision events (metrics)", () => {
  const failing: RateLimitStore = {
    consume: async () => {
      throw new RateLimitStoreError("redis down");
    },
    close: async () => {},
  };
  const twoLimits = (onStoreFailure: "fail-open" | "fail-closed") => ({
    limits: [
      { name: "per-ip", key: "ip", requests: 2, periodSeconds: 3600 },
      { name: "global", key: "global", requests: 100, periodSeconds: 3600, onStoreFailure },
    ],
  });

  it.each([
    { name: "the store decides: admitted, then limited by the limit that is full", store: () => createMemoryStore({ maxKeys: 10 }), policy: "fail-open" as const, requests: 3, expected: ["per-ip admitted", "global admitted", "per-ip admitted", "global admitted", "per-ip limited", "global admitted"] },
    { name: "the store fails, fail-open limits: fallback for each limit", store: () => failing, policy: "fail-open" as const, requests: 1, expected: ["per-ip fallback", "global fallback"] },
    { name: "the store fails, a fail-closed limit: store_error for each limit", store: () => failing, policy: "fail-closed" as const, requests: 1, expected: ["per-ip store_error", "global store_error"] },
  ])("$name", async ({ store, policy, requests, expected }) => {
    const heard: string[] = [];
    const limiter = createRateLimiter(rateLimitConfigSchema.parse(twoLimits(policy)), { store: store(), events: { decided: (p, decision) => heard.push(`${p} ${decision}`) } });
    const method = limiter.forMethod("demo.v1.UserService", "GetUser")!;
    for (let i = 0; i < requests; i++) await attempt(method, anonymous("192.0.2.1"));
    expect(heard).toEqual(expected);
  });

  it("the memory store's health is always 'memory'", () => {
    const limiter = createRateLimiter(rateLimitConfigSchema.parse(twoLimits("fail-open")), { store: createMemoryStore({ maxKeys: 10 }) });
    expect(limiter.storeHealth()).toEqual({ store: "memory" });
  });
});

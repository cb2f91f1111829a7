import { status, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { send, startTestGateway, startUserBackend, type SeenCall } from "./support/gateway-harness.js";

/*
 * Rate limits with the memory store, end to end: a real gateway on a loopback port in front of
 * a recording gRPC backend. A rejected request must never reach the backend.
 */

const user = (userId: string) => ({ userId, displayName: "Limited", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
type Handler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;
const getUser: Handler = (call, callback) => {
  const { userId } = call.request as { userId: string };
  if (userId === "missing") callback({ code: status.NOT_FOUND, details: "no such user" });
  else callback(null, user(userId));
};

const PARTNER_KEY = "pgk_rl_partner_0001";
const FREE_KEY = "pgk_rl_free_0002";
const API_KEYS = [
  { sha256: hashApiKey(PARTNER_KEY), consumer: "partner", tier: "partner", scopes: [] },
  { sha256: hashApiKey(FREE_KEY), consumer: "free", tier: "free", scopes: [] },
];

let backend: Awaited<ReturnType<typeof startUserBackend>>;
let gateway: RunningGateway | undefined;
const upstreams = () => ({ "demo.v1.UserService": backend.address });

beforeAll(async () => {
  backend = await startUserBackend({ getUser, listUsers: (_call, callback) => callback(null, { users: [], nextPageToken: "" }) });
});
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  backend.calls.length = 0;
});
afterAll(async () => {
  await backend.close();
});

const callsTo = (method: string): SeenCall[] => backend.calls.filter((call) => call.method === method);

describe("a per-IP limit on GetUser (memory store)", () => {
  const limits = { limits: [{ name: "per-ip", key: "ip", requests: 3, periodSeconds: 3600, methods: ["demo.v1.UserService.GetUser"] }] };

  it("admits the burst with rate-limit headers, then answers 429 that never reaches the backend", async () => {
    gateway = await startTestGateway(upstreams(), { rateLimits: limits });
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await send(gateway.url, "GET", "/v1/users/u-1"));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 429, 429]);
    expect(callsTo("getUser")).toHaveLength(3);

    const first = responses[0].headers;
    expect(first.get("x-ratelimit-limit")).toBe("3");
    expect(first.get("x-ratelimit-remaining")).toBe("2");
    expect(first.get("x-ratelimit-reset")).toBe("1200");
    expect(first.get("ratelimit-policy")).toBe('"per-ip";q=3;w=3600');
    expect(first.get("ratelimit")).toBe('"per-ip";r=2;t=1200');
    expect(first.get("retry-after")).toBeNull();

    const rejected = responses[3];
    expect(rejected.headers.get("content-type")).toMatch(/^application\/json/);
    expect(rejected.headers.get("x-ratelimit-remaining")).toBe("0");
    const retryAfter = Number(rejected.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(1190);
    expect(retryAfter).toBeLessThanOrEqual(1200);
    const body = rejected.json as { code: number; message: string; details: Array<Record<string, unknown>> };
    expect(body.code).toBe(8);
    expect(body.message).toMatch(/^rate limit exceeded \(per-ip\); retry after 11\d\d(\.\d+)?s$/);
    expect(body.details[0]).toEqual({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "PG_ERR_RATE_LIMITED", domain: "protogate" });
    expect(body.details[1]).toMatchObject({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: expect.stringMatching(/^11\d\d(\.\d+)?s$/) });
    expect(body.details[2]).toEqual({ "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ subject: "limit:per-ip", description: "at most 3 requests per 3600 s" }] });
  });

  it("puts the headers on upstream errors too, and leaves methods the limit does not select alone", async () => {
    gateway = await startTestGateway(upstreams(), { rateLimits: limits });
    const missing = await send(gateway.url, "GET", "/v1/users/missing");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-ratelimit-remaining")).toBe("2");
    const list = await send(gateway.url, "GET", "/v1/users");
    expect(list.status).toBe(200);
    expect(list.headers.get("x-ratelimit-limit")).toBeNull();
  });

  it("rejects before reading the body: an over-limit POST with a huge body gets 429, not 413", async () => {
    gateway = await startTestGateway(upstreams(), {
      server: { bodyLimitBytes: 1024 },
      rateLimits: { limits: [{ name: "writes", key: "global", requests: 1, periodSeconds: 3600, methods: ["demo.v1.UserService.SearchUsers"] }] },
    });
    const small = await send(gateway.url, "POST", "/v1/users:search", { headers: { "content-type": "application/json" }, body: "{}" });
    expect(small.status).not.toBe(429);
    const huge = await send(gateway.url, "POST", "/v1/users:search", { headers: { "content-type": "application/json" }, body: `{"query":"${"x".repeat(64 * 1024)}"}` });
    expect(huge.status).toBe(429);
  });
});

describe("several limits on one request", () => {
  it("a request rejected by one limit consumes nothing from the others", async () => {
    gateway = await startTestGateway(upstreams(), {
      server: { trustProxy: ["127.0.0.1"] },
      rateLimits: {
        limits: [
          { name: "per-ip", key: "ip", requests: 1, periodSeconds: 3600 },
          { name: "global", key: "global", requests: 3, periodSeconds: 3600 },
        ],
      },
    });
    const from = (ip: string) => send(gateway!.url, "GET", "/v1/users/u-1", { headers: { "x-forwarded-for": ip } });
    expect((await from("203.0.113.1")).status).toBe(200);
    // The same client, over its own limit many times: the global bucket must not drain.
    for (let i = 0; i < 5; i++) expect((await from("203.0.113.1")).status).toBe(429);
    const second = await from("203.0.113.2");
    expect(second.status).toBe(200);
    expect(second.headers.get("ratelimit")).toBe('"per-ip";r=0;t=3600, "global";r=1;t=2400');
    expect((await from("203.0.113.3")).status).toBe(200);
    const fourth = await from("203.0.113.4");
    expect(fourth.status).toBe(429);
    expect((fourth.json as { message: string }).message).toContain("(global)");
  });
});

describe("client IP and X-Forwarded-For", () => {
  const perIp = { limits: [{ name: "per-ip", key: "ip", requests: 1, periodSeconds: 3600 }] };

  it("ignores X-Forwarded-For unless the proxy is trusted", async () => {
    gateway = await startTestGateway(upstreams(), { rateLimits: perIp });
    expect((await send(gateway.url, "GET", "/v1/users/u-1", { headers: { "x-forwarded-for": "198.51.100.1" } })).status).toBe(200);
    // A spoofed, different X-Forwarded-For does not buy a fresh bucket.
    expect((await send(gateway.url, "GET", "/v1/users/u-1", { headers: { "x-forwarded-for": "198.51.100.2" } })).status).toBe(429);
  });

  it("with a trusted proxy, keys by the first untrusted address of X-Forwarded-For", async () => {
    gateway = await startTestGateway(upstreams(), { server: { trustProxy: ["127.0.0.1/32", "10.0.0.0/8"] }, rateLimits: perIp });
    const via = (chain: string) => send(gateway!.url, "GET", "/v1/users/u-1", { headers: { "x-forwarded-for": chain } });
    expect((await via("198.51.100.1")).status).toBe(200);
    expect((await via("198.51.100.2")).status).toBe(200);
    // The client may prepend anything; the hop the trusted proxy 10.1.2.3 saw is what counts.
    expect((await via("6.6.6.6, 198.51.100.1, 10.1.2.3")).status).toBe(429);
  });
});

describe("tiers and per-method overrides with API keys", () => {
  it("gives each tier its quota and an overridden method its own buckets", async () => {
    gateway = await startTestGateway(upstreams(), {
      auth: { mode: "on", apiKeys: { keys: API_KEYS }, rules: [{ selector: "demo.v1.UserService.*", public: false }] },
      rateLimits: {
        limits: [
          {
            name: "per-consumer",
            key: "consumer",
            requests: 2,
            periodSeconds: 3600,
            tiers: { partner: { requests: 4, periodSeconds: 3600 } },
            overrides: [{ selector: "demo.v1.UserService.ListUsers", requests: 1, periodSeconds: 3600 }],
          },
        ],
      },
    });
    const get = async (key: string) => (await send(gateway!.url, "GET", "/v1/users/u-1", { headers: { "x-api-key": key } })).status;
    const partner = [];
    const free = [];
    for (let i = 0; i < 5; i++) {
      partner.push(await get(PARTNER_KEY));
      free.push(await get(FREE_KEY));
    }
    expect(partner).toEqual([200, 200, 200, 200, 429]);
    expect(free).toEqual([200, 200, 429, 429, 429]);
    // ListUsers has its own quota of 1 for everyone, untouched by the GetUser calls.
    const list = async () => (await send(gateway!.url, "GET", "/v1/users", { headers: { "x-api-key": PARTNER_KEY } })).status;
    expect([await list(), await list()]).toEqual([200, 429]);
    // Unauthenticated requests are refused before the limiter: 401, and no headers.
    const anonymous = await send(gateway.url, "GET", "/v1/users/u-1");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("x-ratelimit-limit")).toBeNull();
  });
});

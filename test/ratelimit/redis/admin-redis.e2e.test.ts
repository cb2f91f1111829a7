import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningGateway } from "../../../src/app.js";
import { send, startTestGateway, startUserBackend } from "../../e2e/support/gateway-harness.js";
import { describeWithRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";

const user = (userId: string) => ({ userId, displayName: "User", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });

/** The admin listener's view of a Redis rate-limit store: /readyz reports it without failing on it, /metrics gauges it. */
describeWithRedis("admin listener with a Redis rate-limit store", () => {
  let redis: RedisServer;
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;

  beforeAll(async () => {
    redis = await startRedisServer();
    backend = await startUserBackend({ getUser: (call, callback) => callback(null, user((call.request as { userId: string }).userId)) });
    gateway = await startTestGateway(
      { "demo.v1.UserService": backend.address },
      { rateLimits: { store: "redis", redis: { nodes: [redis.address], breaker: { failureThreshold: 2 } }, limits: [{ name: "per-ip", key: "ip", requests: 1000, periodSeconds: 60 }] } },
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
    await redis?.stop();
  });

  const readyz = async () => {
    const response = await fetch(`${gateway.adminUrl}/readyz`);
    return { status: response.status, body: (await response.json()) as { rateLimitStore?: { store: string; connected: boolean; breaker: string } } };
  };
  const gauges = async () => {
    const page = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    return page.split("\n").filter((line) => /^protogate_rate_limit_(store_up|breaker_state)/.test(line) || /^protogate_rate_limit_decisions_total/.test(line));
  };

  it("while Redis serves: connected, breaker closed, store up; decisions admitted", async () => {
    expect((await send(gateway.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect(await readyz()).toEqual({ status: 200, body: expect.objectContaining({ rateLimitStore: { store: "redis", connected: true, breaker: "closed" } }) });
    expect((await gauges()).sort()).toEqual(
      [
        'protogate_rate_limit_breaker_state{state="closed"} 1',
        'protogate_rate_limit_breaker_state{state="half-open"} 0',
        'protogate_rate_limit_breaker_state{state="open"} 0',
        'protogate_rate_limit_decisions_total{policy="per-ip",decision="admitted"} 1',
        "protogate_rate_limit_store_up 1",
      ].sort(),
    );
  });

  it("with Redis dead: fail-open requests are decided by the fallback, the breaker opens, the store is down, and readiness stays 200", async () => {
    await redis.kill();
    // Each request fails on the store (at once, or at the command timeout) until the breaker has
    // opened after failureThreshold failures; every one is still answered by the local fallback.
    for (let i = 0; i < 3; i++) expect((await send(gateway.url, "GET", "/v1/users/u-1")).status).toBe(200);
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.body.rateLimitStore).toMatchObject({ store: "redis", breaker: "open" });
    const lines = await gauges();
    expect(lines).toContain("protogate_rate_limit_store_up 0");
    expect(lines).toContain('protogate_rate_limit_breaker_state{state="open"} 1');
    expect(lines).toContain('protogate_rate_limit_decisions_total{policy="per-ip",decision="fallback"} 3');
  });
});

import { createServer, type AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";
import { status, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import type { ReadinessReport } from "../../src/admin/readiness.js";
import { startSteadyLoad } from "../attack/support/steady-load.js";
import { roundTripsUntil } from "../support/at-rest.js";
import { createFakeClock } from "../support/fake-clock.js";
import { Changes, within } from "../support/until.js";
import { getUserOrNotFound, send, sendJson, startTestGateway, startUserBackend, type BackendOptions } from "./support/gateway-harness.js";
import { healthService, type ServingStatus } from "./support/health-service.js";
import { startChatBackend, writeMessages } from "./support/chat-backend.js";

const USERS = "demo.v1.UserService";
type Backend = Awaited<ReturnType<typeof startUserBackend>>;
type Handler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(handlers: Partial<Record<"getUser" | "createUser" | "searchUsers", Handler>>, more: BackendOptions = {}): Promise<Backend> {
  const started = await startUserBackend(handlers, undefined, more);
  cleanups.push(() => started.forceClose());
  return started;
}

async function gateway(upstream: Record<string, unknown>, clock = createFakeClock()): Promise<{ gateway: RunningGateway; clock: ReturnType<typeof createFakeClock> }> {
  // Retry backoffs of 0 (random 0), so only outlier detection, the breaker and health checks run on the manual clock.
  const started = await startTestGateway({}, { upstreams: { [USERS]: upstream } }, { upstreams: { timers: clock, random: () => 0 } });
  cleanups.push(() => started.close());
  return { gateway: started, clock };
}

/** The readiness report's view of the users upstream. */
async function usersStatus(running: RunningGateway) {
  const report = (await (await fetch(`${running.adminUrl}/readyz`)).json()) as ReadinessReport;
  const users = report.upstreams.find((upstream) => upstream.service === USERS);
  if (users?.balancing === undefined) throw new Error("the users upstream is not balanced");
  return { ...users, health: Object.fromEntries(users.balancing.endpoints.map((endpoint) => [endpoint.address, endpoint.health])) };
}
type UsersStatus = Awaited<ReturnType<typeof usersStatus>>;

/**
 * The users upstream's view once `holds` is true of it. The gateway applies a health verdict or a
 * DNS answer on its own, after the event the test waited for (the check or the lookup arriving),
 * and announces it nowhere a test can watch: so this is a bounded loop of round trips to /readyz.
 */
async function usersStatusOnce(running: RunningGateway, holds: (status: UsersStatus) => boolean): Promise<UsersStatus> {
  let seen = await usersStatus(running);
  try {
    await roundTripsUntil(() => holds(seen), async () => (seen = await usersStatus(running)));
  } catch (error) {
    throw new Error(`${(error as Error).message}; /readyz last showed ${JSON.stringify(seen.health)}`);
  }
  return seen;
}

async function metrics(running: RunningGateway): Promise<string> {
  return (await fetch(`${running.adminUrl}/metrics`)).text();
}

/** The guard on a wait for the steady load (so that its `finally` stops the load when one fails). */
const GUARD_MS = 10_000;
const ok: Handler = getUserOrNotFound;
const unavailable: Handler = (_call, callback) => callback({ code: status.UNAVAILABLE, details: "try elsewhere" });
const listResponse = { users: [], nextPageToken: "" };
const user = { userId: "u-new", displayName: "Ada", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" };

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("upstream resilience, end to end through the gateway", () => {
  it("three addresses, one killed under steady load: under 1 % of requests fail, and the address is used again once back", async () => {
    const backends = [await backend({ getUser: ok }), await backend({ getUser: ok }), await backend({ getUser: ok })];
    const { gateway: running, clock } = await gateway({ addresses: backends.map((b) => b.address), retries: {}, outlierDetection: {} });
    const calls = () => backends.reduce((sum, b) => sum + b.calls.length, 0);
    const load = startSteadyLoad(`${running.url}/v1/users/u-1`, 8, 5_000);
    // Each wait is on the load's answers: a backend's calls are counted before the answer they give.
    try {
      await within(load.until(() => calls() >= 300), GUARD_MS, "300 calls");
      const victim = backends[1];
      victim.forceClose();
      const atKill = backends[0].calls.length + backends[2].calls.length;
      await within(load.until(() => backends[0].calls.length + backends[2].calls.length >= atKill + 600), GUARD_MS, "600 calls on the other two");
      expect((await usersStatus(running)).health[victim.address]).toBe("ejected");

      const revived = await startUserBackend({ getUser: ok }, undefined, { bindAddress: victim.address });
      cleanups.push(() => revived.forceClose());
      // The ejection ends on the manual clock, which the test moves on at each answer of the load:
      // the transport reconnects on its own backoff (real time, under 1 s), and calls failing
      // meanwhile may eject the address again.
      await within(
        load.until(() => {
          clock.advance(300_000);
          return revived.calls.length >= 50;
        }),
        GUARD_MS,
        "50 calls on the revived address",
      );
    } finally {
      const outcomes = await load.stop();
      const failed = outcomes.filter((outcome) => outcome.status !== 200);
      expect(outcomes.length).toBeGreaterThan(900);
      expect(failed.length / outcomes.length, JSON.stringify(failed.slice(0, 3))).toBeLessThan(0.01);
    }
    expect((await usersStatus(running)).health).toEqual(Object.fromEntries(backends.map((b) => [b.address, "healthy"])));
    expect(await metrics(running)).toMatch(/protogate_upstream_ejections_total\{service="demo\.v1\.UserService"\} [1-9]/);
  });

  describe("retries never repeat a call that is not idempotent", () => {
    /** Two backends whose first call of each method answers UNAVAILABLE; every call counted. */
    async function flakyPair() {
      const seen = new Map<string, number>();
      const firstUnavailable =
        (method: string, reply: unknown): Handler =>
        (_call, callback) => {
          const count = (seen.get(method) ?? 0) + 1;
          seen.set(method, count);
          if (count === 1) callback({ code: status.UNAVAILABLE, details: "draining" });
          else callback(null, reply);
        };
      const handlers = { getUser: firstUnavailable("getUser", user), createUser: firstUnavailable("createUser", user), searchUsers: firstUnavailable("searchUsers", listResponse) };
      const pair = [await backend(handlers), await backend(handlers)];
      const { gateway: running } = await gateway({ addresses: pair.map((b) => b.address), retries: { maxAttempts: 3 } });
      const count = (method: string) => pair.reduce((sum, b) => sum + b.calls.filter((call) => call.method === method).length, 0);
      return { running, count };
    }

    it("a POST answered UNAVAILABLE is sent once and answers 503", async () => {
      const { running, count } = await flakyPair();
      const response = await sendJson(running.url, "POST", "/v1/users", { displayName: "Ada", email: "ada@example.com" });
      expect(response.status).toBe(503);
      expect(count("createUser")).toBe(1);
    });

    it("a GET, and a POST whose method is NO_SIDE_EFFECTS, are retried on the other address", async () => {
      const { running, count } = await flakyPair();
      expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(200);
      expect(count("getUser")).toBe(2);
      expect((await sendJson(running.url, "POST", "/v1/users:search", { query: "ada" })).status).toBe(200);
      expect(count("searchUsers")).toBe(2);
      expect(await metrics(running)).toMatch(/protogate_upstream_retries_total\{service="demo\.v1\.UserService",kind="retry"\} 2/);
    });

    it("a POST whose connection dies with the call in flight is not sent again", async () => {
      let arrived: () => void = () => undefined;
      const received = new Promise<void>((resolve) => (arrived = resolve));
      const dying = await backend({ createUser: () => arrived() });
      const spare = await backend({ createUser: (_call, callback) => callback(null, user) });
      const { gateway: running } = await gateway({ addresses: [dying.address, spare.address], retries: {} });
      const pending = sendJson(running.url, "POST", "/v1/users", { displayName: "Ada", email: "ada@example.com" });
      await received;
      dying.forceClose();
      expect((await pending).status).toBe(503);
      expect([dying.calls.length, spare.calls.length]).toEqual([1, 0]);
    });

    it("a POST refused before it left the gateway goes to another address once (gRPC's transparent retry)", async () => {
      const spare = await backend({ createUser: (_call, callback) => callback(null, user) });
      const { gateway: running } = await gateway({ addresses: [`127.0.0.1:${await closedPort()}`, spare.address] });
      for (let i = 0; i < 4; i++) expect((await sendJson(running.url, "POST", "/v1/users", { displayName: "Ada", email: "ada@example.com" })).status).toBe(201);
      expect(spare.calls).toHaveLength(4);
      expect(await metrics(running)).toMatch(/protogate_upstream_retries_total\{service="demo\.v1\.UserService",kind="transparent"\} [1-4]/);
    });
  });

  it("the circuit breaker opens after consecutive failures (503 with Retry-After, the backend spared) and closes after a good probe", async () => {
    let down = true;
    const only = await backend({ getUser: (call, callback) => (down ? unavailable(call, callback) : ok(call, callback)) });
    const { gateway: running, clock } = await gateway({ address: only.address, circuitBreaker: { consecutiveFailures: 3, coolDownMs: 10_000 } });
    for (let i = 0; i < 3; i++) expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(503);
    const refused = await send(running.url, "GET", "/v1/users/u-1");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(refused.json).toMatchObject({ code: 14, details: [{ reason: "PG_ERR_UPSTREAM_CIRCUIT_OPEN" }, { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "10s" }] });
    expect(only.calls).toHaveLength(3);
    expect((await usersStatus(running)).balancing?.breaker).toBe("open");
    expect(await metrics(running)).toContain('protogate_upstream_breaker_state{service="demo.v1.UserService",state="open"} 1');

    clock.advance(6_000);
    expect((await send(running.url, "GET", "/v1/users/u-1")).headers.get("retry-after")).toBe("4");
    down = false;
    clock.advance(4_000);
    expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect((await usersStatus(running)).balancing?.breaker).toBe("closed");
    expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect(only.calls).toHaveLength(5);
  });

  it("beyond maxConcurrentCalls a request is answered 503 with Retry-After at once, never queued", async () => {
    const held: Array<() => void> = [];
    const arrivals = new Changes();
    const slow = await backend({
      getUser: (call, callback) => {
        held.push(() => ok(call, callback));
        arrivals.changed();
      },
    });
    const { gateway: running } = await gateway({ address: slow.address, maxConcurrentCalls: 2 });
    const first = [send(running.url, "GET", "/v1/users/u-1"), send(running.url, "GET", "/v1/users/u-2")];
    await arrivals.until(() => held.length >= 2);
    expect(held).toHaveLength(2);
    const refused = await send(running.url, "GET", "/v1/users/u-3");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.json).toMatchObject({ code: 14, details: [{ reason: "PG_ERR_UPSTREAM_OVERLOADED" }, { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1s" }] });
    expect(slow.calls).toHaveLength(2);
    expect(await metrics(running)).toMatch(/protogate_upstream_refusals_total\{service="demo\.v1\.UserService",reason="overloaded"\} 1/);
    expect(await metrics(running)).toContain('protogate_upstream_calls_in_flight{service="demo.v1.UserService"} 2');
    for (const release of held) release();
    expect((await Promise.all(first)).map((response) => response.status)).toEqual([200, 200]);
    const after = send(running.url, "GET", "/v1/users/u-4");
    await arrivals.until(() => held.length >= 3);
    expect(held).toHaveLength(3);
    held[2]();
    expect((await after).status).toBe(200);
  });

  it("outlier detection ejects an address that keeps answering UNAVAILABLE and takes it back after the ejection time", async () => {
    let sick = true;
    const flaky = await backend({ getUser: (call, callback) => (sick ? unavailable(call, callback) : ok(call, callback)) });
    const steady = await backend({ getUser: ok });
    const { gateway: running, clock } = await gateway({ addresses: [flaky.address, steady.address], outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 30_000 } });
    for (let i = 0; i < 6; i++) await send(running.url, "GET", "/v1/users/u-1");
    expect(flaky.calls).toHaveLength(3);
    expect((await usersStatus(running)).health).toEqual({ [flaky.address]: "ejected", [steady.address]: "healthy" });
    for (let i = 0; i < 6; i++) expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect([flaky.calls.length, steady.calls.length]).toEqual([3, 9]);

    sick = false;
    clock.advance(29_999);
    await send(running.url, "GET", "/v1/users/u-1");
    expect(flaky.calls).toHaveLength(3);
    clock.advance(1);
    for (let i = 0; i < 4; i++) expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect(flaky.calls).toHaveLength(5);
    expect((await usersStatus(running)).health[flaky.address]).toBe("healthy");
  });

  it("active health checks take an address answering NOT_SERVING out of rotation, and put it back once SERVING", async () => {
    const serving: Record<string, ServingStatus> = { a: "NOT_SERVING", b: "SERVING" };
    const healthA = healthService(() => serving.a);
    const healthB = healthService(() => serving.b);
    const a = await backend({ getUser: ok }, { services: [[healthA.definition, healthA.implementation]] });
    const b = await backend({ getUser: ok }, { services: [[healthB.definition, healthB.implementation]] });
    // Thresholds of one, so each round's verdict shows in /readyz (the thresholds are unit-tested).
    const { gateway: running, clock } = await gateway({
      addresses: [a.address, b.address],
      healthCheck: { service: USERS, intervalMs: 10_000, timeoutMs: 1_000, unhealthyThreshold: 1, healthyThreshold: 1 },
    });
    /** Runs the round due after `ms` (each address's `nth` check) and waits for its checks to arrive, then for its verdicts. */
    const round = async (ms: number, nth: number, expected: Record<string, string>) => {
      clock.advance(ms);
      await Promise.all([healthA.checked(nth), healthB.checked(nth)]);
      expect((await usersStatusOnce(running, (seen) => isDeepStrictEqual(seen.health, expected))).health).toEqual(expected);
    };
    await round(0, 1, { [a.address]: "unhealthy", [b.address]: "healthy" });
    expect(healthA.checks).toEqual([USERS]);
    for (let i = 0; i < 4; i++) expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect([a.calls.length, b.calls.length]).toEqual([0, 4]);
    expect(await metrics(running)).toContain('protogate_upstream_addresses{service="demo.v1.UserService",health="unhealthy"} 1');

    serving.a = "SERVING";
    await round(10_000, 2, { [a.address]: "healthy", [b.address]: "healthy" });
    expect([healthA.checks.length, healthB.checks.length]).toEqual([2, 2]);
    for (let i = 0; i < 4; i++) await send(running.url, "GET", "/v1/users/u-1");
    expect(a.calls.length).toBe(2);
  });

  it("a dns:/// target follows the name's addresses (an injected resolver answering loopback addresses)", async () => {
    const first = await backend({ getUser: ok });
    const port = Number(first.address.split(":")[1]);
    const second = await backend({ getUser: ok }, { bindAddress: `127.0.0.2:${port}` });
    let answer = ["127.0.0.1"];
    let lookups = 0;
    const looked = new Changes();
    const clock = createFakeClock();
    const running = await startTestGateway(
      {},
      { upstreams: { [USERS]: { address: `dns:///users.test:${port}`, dnsRefreshMs: 5_000 } } },
      {
        upstreams: {
          timers: clock,
          random: () => 0,
          resolve: async (host) => {
            lookups++;
            looked.changed();
            return host === "users.test" ? answer : [];
          },
        },
      },
    );
    /** Runs the DNS refresh due after 5 s: waits for its lookup, then for the gateway to have applied the answer. */
    const refresh = async (addresses: string[]) => {
      const before = lookups;
      clock.advance(5_000);
      await looked.until(() => lookups > before);
      const seen = await usersStatusOnce(running, (status) => isDeepStrictEqual(Object.keys(status.health), addresses));
      expect(Object.keys(seen.health)).toEqual(addresses);
    };
    cleanups.push(() => running.close());
    for (let i = 0; i < 4; i++) expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect([first.calls.length, second.calls.length]).toEqual([4, 0]);
    answer = ["127.0.0.1", "127.0.0.2"];
    await refresh([first.address, second.address]);
    for (let i = 0; i < 4; i++) expect((await send(running.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect([first.calls.length, second.calls.length]).toEqual([6, 2]);
    answer = ["127.0.0.2"];
    await refresh([second.address]);
    for (let i = 0; i < 2; i++) await send(running.url, "GET", "/v1/users/u-1");
    expect([first.calls.length, second.calls.length]).toEqual([6, 4]);
    expect((await usersStatus(running)).address).toBe(`dns:///users.test:${port}`);
  });

  it("streams are balanced over the addresses too, and bounded by maxConcurrentCalls for their whole life", async () => {
    const opened: string[] = [];
    const held: Array<() => void> = [];
    const arrivals = new Changes();
    const chat = (name: string) =>
      startChatBackend({
        subscribe: (call) => {
          opened.push(name);
          held.push(() => writeMessages(call, 1_000));
          arrivals.changed();
        },
      });
    const [left, right] = [await chat("left"), await chat("right")];
    cleanups.push(() => left.close(), () => right.close());
    const running = await startTestGateway({}, { upstreams: { "demo.v1.ChatService": { addresses: [left.address, right.address], maxConcurrentCalls: 2 } } });
    cleanups.push(() => running.close());
    const streams = [send(running.url, "GET", "/v1/rooms/lobby/messages:subscribe"), send(running.url, "GET", "/v1/rooms/lobby/messages:subscribe")];
    await arrivals.until(() => opened.length >= 2);
    expect(opened.sort()).toEqual(["left", "right"]);
    const refused = await send(running.url, "GET", "/v1/rooms/lobby/messages:subscribe");
    expect([refused.status, refused.headers.get("retry-after")]).toEqual([503, "1"]);
    for (const release of held) release();
    for (const response of await Promise.all(streams)) expect(response.text.trimEnd().split("\n")).toHaveLength(1_000);
    held.length = 0;
    const again = send(running.url, "GET", "/v1/rooms/lobby/messages:subscribe");
    await arrivals.until(() => held.length >= 1);
    expect(held).toHaveLength(1);
    held[0]();
    expect((await again).status).toBe(200);
  });
});

import { describe, expect, it } from "vitest";
import { GrpcCode } from "../../../src/errors/grpc-code.js";
import { BalancedUpstream, silentTallies } from "../../../src/upstream/resilience/balanced-upstream.js";
import { staticEndpoints } from "../../../src/upstream/resilience/endpoint-set.js";
import type { ResilienceOptions } from "../../../src/upstream/resilience/resilience-options.js";
import { UpstreamError } from "../../../src/upstream/upstream-error.js";
import { createFakeClock } from "../../support/fake-clock.js";
import { rejection } from "../support/upstream-results.js";
import { FAILURES, FakeUpstream, OK_RESULT, settle, unaryCall, type Behaviour } from "./fake-upstreams.js";

const RETRIES = { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 200, budgetPercent: 20, minRetryConcurrency: 3 };

function setup(behaviours: Behaviour[], options: ResilienceOptions = {}, random = 0.5) {
  const clock = createFakeClock();
  const fakes = behaviours.map((behaviour, i) => new FakeUpstream(`10.0.0.${i + 1}:50051`, behaviour));
  const tallies = silentTallies();
  const logged: string[] = [];
  const upstream = new BalancedUpstream(
    staticEndpoints(fakes.map((fake) => [fake.address, fake] as const)),
    options,
    { timers: clock, random: () => random, tallies, log: { info: (_d, message) => logged.push(message), warn: (_d, message) => logged.push(message) }, service: "demo.v1.UserService" },
  );
  const counts = () => fakes.map((fake) => fake.calls.length);
  return { upstream, fakes, clock, tallies, logged, counts };
}

describe("BalancedUpstream: balancing", () => {
  it("round_robin spreads calls over the addresses", async () => {
    const { upstream, counts } = setup(["ok", "ok", "ok"]);
    for (let i = 0; i < 9; i++) await upstream.call(unaryCall());
    expect(counts()).toEqual([3, 3, 3]);
  });

  it("least_request sends a call to the address with the fewest in flight", async () => {
    const { upstream, fakes, counts } = setup(["hold", "ok"], { balancing: "least_request" });
    const held = upstream.call(unaryCall());
    await settle();
    expect(counts()).toEqual([1, 0]);
    fakes[0].behaviour = "ok";
    for (let i = 0; i < 3; i++) await upstream.call(unaryCall());
    expect(counts()).toEqual([1, 3]);
    fakes[0].held[0].resolve(OK_RESULT);
    await held;
    expect(upstream.balancing().endpoints.map((endpoint) => endpoint.active)).toEqual([0, 0]);
  });

  it("reports each address's state and the calls in flight", async () => {
    const { upstream } = setup(["hold", "ok"], { circuitBreaker: { consecutiveFailures: 5, coolDownMs: 1_000 } });
    void upstream.call(unaryCall());
    await settle();
    expect(upstream.balancing()).toEqual({
      endpoints: [
        { address: "10.0.0.1:50051", state: "ready", health: "healthy", active: 1 },
        { address: "10.0.0.2:50051", state: "ready", health: "healthy", active: 0 },
      ],
      breaker: "closed",
      active: 1,
    });
    expect(upstream.connectionState()).toBe("ready");
  });
});

describe("BalancedUpstream: retries", () => {
  it.each<[string, Behaviour, boolean, number[], "ok" | "error"]>([
    // The first address fails so; the call is idempotent or not: calls at each address, outcome.
    ["a POST whose connection closed in flight is never sent again", "reset", false, [1, 0], "error"],
    ["a POST answered UNAVAILABLE is never sent again", "unavailable", false, [1, 0], "error"],
    ["a POST refused before it left the gateway goes to another address (transparent retry)", "refused", false, [1, 1], "ok"],
    ["an idempotent call whose connection closed in flight is retried on another address", "reset", true, [1, 1], "ok"],
    ["an idempotent call answered UNAVAILABLE (trailers-only) is retried", "unavailable", true, [1, 1], "ok"],
    ["an idempotent call answered UNAVAILABLE after its response began is not", "unavailableAfterHeaders", true, [1, 0], "error"],
    ["NOT_FOUND is an answer, not retried", "notFound", true, [1, 0], "error"],
    ["the gateway's deadline is not retried", "deadline", true, [1, 0], "error"],
  ])("%s", async (_name, failure, idempotent, expected, outcome) => {
    const { upstream, fakes, clock, counts } = setup([failure, "ok"], { retries: RETRIES }, 0);
    const result = upstream.call(unaryCall({ idempotent }));
    await settle();
    clock.advance(1_000);
    if (outcome === "ok") await expect(result).resolves.toBe(OK_RESULT);
    else await expect(result).rejects.toBeInstanceOf(UpstreamError);
    expect(counts()).toEqual(expected);
    expect(fakes.every((fake) => fake.held.length === 0)).toBe(true);
  });

  it("waits a jittered backoff before a retry, on the injected timers", async () => {
    const { upstream, clock, counts, tallies } = setup(["unavailable", "ok"], { retries: RETRIES }, 0.5);
    const result = upstream.call(unaryCall({ idempotent: true }));
    await settle();
    expect(counts()).toEqual([1, 0]);
    // First retry: random 0.5 of min(200, 20 * 2^0) = 10 ms.
    clock.advance(9);
    await settle();
    expect(counts()).toEqual([1, 0]);
    clock.advance(1);
    await expect(result).resolves.toBe(OK_RESULT);
    expect(counts()).toEqual([1, 1]);
    expect(tallies.retries.pending).toBe(1);
  });

  it("stops after maxAttempts, the last failure being the call's", async () => {
    const { upstream, clock, counts } = setup(["unavailable", "unavailable", "unavailable"], { retries: { ...RETRIES, maxAttempts: 2 } }, 0);
    const result = rejection(upstream.call(unaryCall({ idempotent: true })));
    await settle();
    clock.advance(1_000);
    expect((await result).origin).toBe("upstream");
    expect(counts().reduce((a, b) => a + b)).toBe(2);
  });

  it("with one address, retries on it", async () => {
    const { upstream, fakes, clock } = setup(["unavailable"], { retries: RETRIES }, 0);
    const result = rejection(upstream.call(unaryCall({ idempotent: true })));
    await settle(50);
    clock.advance(1_000);
    await result;
    expect(fakes[0].calls).toHaveLength(3);
  });

  it("never retries past the call's deadline", async () => {
    const { upstream, counts } = setup(["unavailable", "ok"], { retries: { ...RETRIES, initialBackoffMs: 5_000, maxBackoffMs: 5_000 } }, 0.99);
    await rejection(upstream.call(unaryCall({ idempotent: true, deadline: Date.now() + 1_000 })));
    expect(counts()).toEqual([1, 0]);
  });

  it("a spent budget fails the call with its own error instead of retrying", async () => {
    const { upstream, fakes, clock, counts } = setup(["hold", "hold"], { retries: { ...RETRIES, budgetPercent: 0, minRetryConcurrency: 1 } }, 0.5);
    const first = upstream.call(unaryCall({ idempotent: true }));
    const second = rejection(upstream.call(unaryCall({ idempotent: true })));
    await settle();
    expect(counts()).toEqual([1, 1]);
    for (const fake of fakes) fake.behaviour = "ok";
    // Both fail with UNAVAILABLE: the first takes the budget's one retry (it waits its backoff)...
    fakes[0].held[0].reject(FAILURES.unavailable());
    await settle();
    // ...so the second has none left and fails at once.
    fakes[1].held[0].reject(FAILURES.unavailable());
    expect((await second).code).toBe(GrpcCode.UNAVAILABLE);
    clock.advance(1_000);
    await expect(first).resolves.toBe(OK_RESULT);
    expect(counts()).toEqual([1, 2]);
  });

  it("transparent retries try each other address once, then the call fails with the last error", async () => {
    const { upstream, counts, tallies } = setup(["refused", "refused", "refused"], {});
    const error = await rejection(upstream.call(unaryCall()));
    expect(error.unprocessed).toBe(true);
    expect(counts()).toEqual([1, 1, 1]);
    expect(tallies.transparentRetries.pending).toBe(2);
  });
});

describe("BalancedUpstream: circuit breaker", () => {
  const BREAKER = { circuitBreaker: { consecutiveFailures: 2, coolDownMs: 5_000 } };

  it("opens after consecutive failed calls, refuses fast with Retry-After until the cool-down, then closes on a good probe", async () => {
    const { upstream, fakes, clock, counts, tallies, logged } = setup(["unavailable"], BREAKER);
    await rejection(upstream.call(unaryCall()));
    await rejection(upstream.call(unaryCall()));
    expect(upstream.balancing().breaker).toBe("open");
    expect(logged).toContain("upstream circuit breaker open");
    clock.advance(2_000);
    const refused = await rejection(upstream.call(unaryCall()));
    expect([refused.origin, refused.code, refused.retryAfterMs]).toEqual(["breaker", GrpcCode.UNAVAILABLE, 3_000]);
    expect(counts()).toEqual([2]);
    expect(tallies.breakerOpen.pending).toBe(1);
    clock.advance(3_000);
    fakes[0].behaviour = "hold";
    const probe = upstream.call(unaryCall());
    await settle();
    expect(upstream.balancing().breaker).toBe("half-open");
    // While the probe is in flight, other calls are refused.
    expect((await rejection(upstream.call(unaryCall()))).origin).toBe("breaker");
    fakes[0].held[0].resolve(OK_RESULT);
    await probe;
    expect(upstream.balancing().breaker).toBe("closed");
    fakes[0].behaviour = "ok";
    await upstream.call(unaryCall());
    expect(logged).toContain("upstream circuit breaker closed");
  });

  it("a failed probe opens it again for another cool-down", async () => {
    const { upstream, clock } = setup(["unavailable"], BREAKER);
    await rejection(upstream.call(unaryCall()));
    await rejection(upstream.call(unaryCall()));
    clock.advance(5_000);
    expect((await rejection(upstream.call(unaryCall()))).origin).toBe("upstream");
    expect(upstream.balancing().breaker).toBe("open");
    expect((await rejection(upstream.call(unaryCall()))).retryAfterMs).toBe(5_000);
  });

  it("answers that are not failures (NOT_FOUND) keep it closed; the client's deadline does not count", async () => {
    const { upstream, fakes } = setup(["notFound"], BREAKER);
    for (let i = 0; i < 5; i++) await rejection(upstream.call(unaryCall()));
    fakes[0].behaviour = "deadline";
    for (let i = 0; i < 5; i++) await rejection(upstream.call(unaryCall()));
    expect(upstream.balancing().breaker).toBe("closed");
  });

  it("judges a call after its retries: a call a retry saved is a success", async () => {
    const { upstream, clock } = setup(["unavailable", "ok"], { ...BREAKER, retries: RETRIES }, 0);
    for (let i = 0; i < 4; i++) {
      const call = upstream.call(unaryCall({ idempotent: true }));
      await settle();
      clock.advance(100);
      await call;
    }
    expect(upstream.balancing().breaker).toBe("closed");
  });
});

describe("BalancedUpstream: maxConcurrentCalls", () => {
  it("refuses a call beyond the bound at once (503 material with Retry-After), never queues it", async () => {
    const { upstream, fakes, counts, tallies } = setup(["hold", "hold"], { maxConcurrentCalls: 2 });
    const held = [upstream.call(unaryCall()), upstream.call(unaryCall())];
    await settle();
    const refused = await rejection(upstream.call(unaryCall()));
    expect([refused.origin, refused.code, refused.retryAfterMs]).toEqual(["overloaded", GrpcCode.UNAVAILABLE, 1_000]);
    const stream = upstream.stream({ rpcPath: "/demo.v1.ChatService/Chat", metadata: [], deadline: undefined });
    expect((await rejection(stream.read())).origin).toBe("overloaded");
    expect(counts()).toEqual([1, 1]);
    expect(tallies.overloaded.pending).toBe(2);
    for (const fake of fakes) {
      fake.behaviour = "ok";
      fake.held[0].resolve(OK_RESULT);
    }
    await Promise.all(held);
    await expect(upstream.call(unaryCall())).resolves.toBe(OK_RESULT);
  });

  it("counts open streams until they end", async () => {
    const { upstream, fakes } = setup(["ok"], { maxConcurrentCalls: 1 });
    const stream = upstream.stream({ rpcPath: "/demo.v1.ChatService/Chat", metadata: [], deadline: undefined });
    expect((await rejection(upstream.call(unaryCall()))).origin).toBe("overloaded");
    fakes[0].streams[0].push(new Uint8Array([7]));
    fakes[0].streams[0].push(undefined);
    expect(await stream.read()).toEqual(new Uint8Array([7]));
    expect(await stream.read()).toBeUndefined();
    await expect(upstream.call(unaryCall())).resolves.toBe(OK_RESULT);
    const cancelled = upstream.stream({ rpcPath: "/demo.v1.ChatService/Chat", metadata: [], deadline: undefined });
    cancelled.cancel();
    expect(fakes[0].streams[1].cancelled).toBe(true);
    expect(upstream.balancing().active).toBe(0);
  });
});

describe("BalancedUpstream: outlier detection", () => {
  const OUTLIER = { outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 } };

  it("ejects an address that keeps failing, sends everything to the others, and takes it back after the ejection", async () => {
    const { upstream, fakes, clock, counts, tallies, logged } = setup(["unavailable", "ok"], OUTLIER);
    for (let i = 0; i < 6; i++) await upstream.call(unaryCall()).catch(() => undefined);
    expect(counts()).toEqual([3, 3]);
    expect(upstream.balancing().endpoints.map((endpoint) => endpoint.health)).toEqual(["ejected", "healthy"]);
    expect(tallies.ejections.pending).toBe(1);
    expect(logged).toContain("upstream address ejected (outlier detection)");
    for (let i = 0; i < 4; i++) await upstream.call(unaryCall());
    expect(counts()).toEqual([3, 7]);
    fakes[0].behaviour = "ok";
    clock.advance(30_000);
    for (let i = 0; i < 4; i++) await upstream.call(unaryCall());
    expect(counts()).toEqual([5, 9]);
    expect(upstream.balancing().endpoints.map((endpoint) => endpoint.health)).toEqual(["healthy", "healthy"]);
  });

  it("judges streams by their headers", async () => {
    const { upstream, counts } = setup(["refused", "ok"], OUTLIER);
    for (let i = 0; i < 6; i++) {
      const stream = upstream.stream({ rpcPath: "/demo.v1.ChatService/Chat", metadata: [], deadline: undefined });
      await stream.headers.catch(() => undefined);
      stream.cancel();
    }
    expect(upstream.balancing().endpoints.map((endpoint) => endpoint.health)).toEqual(["ejected", "healthy"]);
    expect(counts()).toEqual([0, 0]);
    expect(upstream.balancing().active).toBe(0);
  });
});

describe("BalancedUpstream: streams", () => {
  it("opens streams on the addresses in turn and never retries them", async () => {
    const { upstream, fakes } = setup(["reset", "ok"], {});
    const first = upstream.stream({ rpcPath: "/demo.v1.ChatService/Chat", metadata: [], deadline: undefined });
    const second = upstream.stream({ rpcPath: "/demo.v1.ChatService/Chat", metadata: [], deadline: undefined });
    expect((await rejection(first.read())).origin).toBe("connection");
    await expect(second.headers).resolves.toEqual([]);
    expect(fakes.map((fake) => fake.streams.length)).toEqual([1, 1]);
    second.cancel();
    expect(upstream.balancing().active).toBe(0);
  });
});

describe("BalancedUpstream: a name not yet resolved", () => {
  function unresolved(answer: Promise<void>, list: FakeUpstream[] = []) {
    const clock = createFakeClock();
    const set = { list: [] as ReturnType<typeof staticEndpoints>["list"], firstAnswer: answer as Promise<void> | undefined, target: "dns:///users.test:50051", close() {} };
    const upstream = new BalancedUpstream(set, {}, { timers: clock, random: () => 0, tallies: silentTallies(), log: { info() {}, warn() {} }, service: "demo.v1.UserService" });
    return { upstream, clock, set, fill: () => (set.list = staticEndpoints(list.map((fake) => [fake.address, fake] as const)).list) };
  }

  it("calls wait for the first answer, then go", async () => {
    let answered: () => void = () => undefined;
    const fake = new FakeUpstream("127.0.0.1:50051");
    const { upstream, fill } = unresolved(new Promise<void>((resolve) => (answered = resolve)), [fake]);
    const call = upstream.call(unaryCall());
    await settle();
    expect(fake.calls).toHaveLength(0);
    fill();
    answered();
    await expect(call).resolves.toBe(OK_RESULT);
  });

  it("a call waits no longer than its deadline, then fails UNAVAILABLE (nothing was sent); a stream does not wait", async () => {
    const { upstream, clock } = unresolved(new Promise<void>(() => undefined));
    const call = rejection(upstream.call(unaryCall({ deadline: Date.now() + 2_000 })));
    await settle();
    clock.advance(2_000);
    const error = await call;
    expect([error.origin, error.code, error.unprocessed]).toEqual(["connection", GrpcCode.UNAVAILABLE, true]);
    expect(error.message).toContain("dns:///users.test:50051");
    const stream = upstream.stream({ rpcPath: "/demo.v1.ChatService/Chat", metadata: [], deadline: undefined });
    expect((await rejection(stream.read())).origin).toBe("connection");
    expect(upstream.balancing().active).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { DnsEndpoints, parseDnsTarget, resolveWithSystem } from "../../../src/upstream/resilience/endpoint-set.js";
import { createFakeClock } from "../../support/fake-clock.js";
import { FakeUpstream, settle } from "./fake-upstreams.js";

function setup(answers: Array<readonly string[] | Error>, refreshMs = 30_000) {
  const clock = createFakeClock();
  const asked: string[] = [];
  const created: FakeUpstream[] = [];
  const events: string[] = [];
  let turn = 0;
  const set = new DnsEndpoints({
    host: "users.internal",
    port: 50051,
    refreshMs,
    resolve: (host) => {
      asked.push(host);
      const answer = answers[Math.min(turn++, answers.length - 1)];
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    createUpstream: (address) => {
      const upstream = new FakeUpstream(address);
      created.push(upstream);
      return upstream;
    },
    timers: clock,
    onResolveError: (error) => events.push(`error: ${(error as Error).message}`),
    onChange: (added, removed) => events.push(`+${added.join(",")} -${removed.join(",")}`),
    onRemove: (endpoint) => events.push(`removed ${endpoint.address}`),
  });
  const addresses = () => set.list.map((endpoint) => endpoint.address);
  return { set, clock, asked, created, events, addresses };
}

describe("DnsEndpoints", () => {
  it("resolves at once (calls wait for the first answer), then every refreshMs, one upstream per address", async () => {
    const { set, clock, asked, addresses, created } = setup([["127.0.0.2", "127.0.0.1"], ["127.0.0.1", "127.0.0.2"]]);
    expect(set.firstAnswer).toBeDefined();
    await set.firstAnswer;
    expect(set.firstAnswer).toBeUndefined();
    expect(addresses()).toEqual(["127.0.0.1:50051", "127.0.0.2:50051"]);
    expect(set.target).toBe("dns:///users.internal:50051");
    clock.advance(29_999);
    await settle();
    expect(asked).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(asked).toHaveLength(2);
    // The same addresses in another order change nothing.
    expect(created).toHaveLength(2);
    set.close();
    expect(created.map((upstream) => upstream.closed)).toEqual([1, 1]);
  });

  it("adds new addresses and retires vanished ones, closing a busy one only after its last call", async () => {
    const { set, clock, events, addresses, created } = setup([["127.0.0.1", "127.0.0.2"], ["127.0.0.2", "::1"]]);
    await set.firstAnswer;
    const leaving = set.list[0];
    leaving.active = 1;
    clock.advance(30_000);
    await settle();
    expect(addresses()).toEqual(["127.0.0.2:50051", "[::1]:50051"]);
    expect(events).toEqual(["+127.0.0.1:50051,127.0.0.2:50051 -", "removed 127.0.0.1:50051", "+[::1]:50051 -127.0.0.1:50051"]);
    expect(leaving.removed).toBe(true);
    expect(leaving.available).toBe(false);
    expect(created[0].closed).toBe(0);
    leaving.done();
    expect(created[0].closed).toBe(1);
    set.close();
  });

  it("keeps the last addresses when resolution fails or answers none", async () => {
    const { set, clock, events, addresses } = setup([["127.0.0.1"], new Error("SERVFAIL"), []]);
    await set.firstAnswer;
    clock.advance(30_000);
    await settle();
    clock.advance(30_000);
    await settle();
    expect(addresses()).toEqual(["127.0.0.1:50051"]);
    expect(events.slice(1)).toEqual(["error: SERVFAIL", "error: users.internal resolved to no address"]);
    set.close();
  });

  it("while the name has no address, asks again every second rather than every refreshMs", async () => {
    const { set, clock, asked, addresses } = setup([new Error("ENOTFOUND"), [], ["127.0.0.1"]]);
    await set.firstAnswer;
    expect(addresses()).toEqual([]);
    clock.advance(1_000);
    await settle();
    clock.advance(1_000);
    await settle();
    expect(asked).toHaveLength(3);
    expect(addresses()).toEqual(["127.0.0.1:50051"]);
    set.close();
  });

  it.each([
    ["dns:///users.internal:50051", { host: "users.internal", port: 50051 }],
    ["dns:///localhost:1", { host: "localhost", port: 1 }],
    ["dns:///users.internal:0", undefined],
    ["dns:///users.internal:70000", undefined],
    ["dns:///users.internal", undefined],
    ["users.internal:50051", undefined],
  ])("parseDnsTarget(%s)", (target, expected) => {
    expect(parseDnsTarget(target)).toEqual(expected);
  });

  it("the system resolver resolves localhost to loopback addresses", async () => {
    const addresses = await resolveWithSystem("localhost");
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(["127.0.0.1", "::1"]).toContain(address);
  });
});

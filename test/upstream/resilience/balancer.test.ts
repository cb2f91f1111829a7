import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Balancer } from "../../../src/upstream/resilience/balancer.js";
import { Endpoint } from "../../../src/upstream/resilience/endpoint.js";
import type { BalancingPolicy } from "../../../src/upstream/resilience/resilience-options.js";
import type { Upstream } from "../../../src/upstream/upstream.js";
import { fuzzRuns } from "../../support/fuzz.js";

const NO_UPSTREAM = {} as Upstream;

/** Endpoints a:1, b:1, ... with these states ("ok", "ejected", "unhealthy", "removed") and calls in flight. */
function endpoints(states: ReadonlyArray<readonly [state: string, active?: number]>): Endpoint[] {
  return states.map(([state, active = 0], i) => {
    const endpoint = new Endpoint(`${String.fromCharCode(97 + i)}:1`, NO_UPSTREAM);
    endpoint.active = active;
    if (state === "ejected") endpoint.ejectedUntil = 1;
    if (state === "unhealthy") endpoint.healthy = false;
    if (state === "removed") endpoint.removed = true;
    endpoint.refresh();
    return endpoint;
  });
}

function picks(balancer: Balancer, list: readonly Endpoint[], count: number, avoid?: readonly Endpoint[], repeat = true): Array<string | undefined> {
  return Array.from({ length: count }, () => balancer.pick(list, avoid, repeat)?.address);
}

describe("Balancer", () => {
  it.each<[string, BalancingPolicy, Array<readonly [string, number?]>, number, Array<string | undefined>]>([
    ["round_robin takes each in turn", "round_robin", [["ok"], ["ok"], ["ok"]], 6, ["a:1", "b:1", "c:1", "a:1", "b:1", "c:1"]],
    ["round_robin skips the ejected", "round_robin", [["ok"], ["ejected"], ["ok"]], 4, ["a:1", "c:1", "a:1", "c:1"]],
    ["round_robin skips the unhealthy and the removed", "round_robin", [["unhealthy"], ["ok"], ["removed"]], 3, ["b:1", "b:1", "b:1"]],
    ["least_request takes the fewest in flight", "least_request", [["ok", 3], ["ok", 1], ["ok", 2]], 2, ["b:1", "b:1"]],
    ["least_request rotates among ties", "least_request", [["ok", 1], ["ok", 1], ["ok", 5]], 4, ["a:1", "b:1", "a:1", "b:1"]],
    ["least_request never takes an ejected address, however idle", "least_request", [["ok", 9], ["ejected", 0]], 2, ["a:1", "a:1"]],
    ["with none in rotation, any listed one (panic routing)", "round_robin", [["unhealthy"], ["unhealthy"], ["removed"]], 3, ["a:1", "b:1", "a:1"]],
    ["an empty list gives none", "round_robin", [], 1, [undefined]],
    ["only removed addresses give none", "least_request", [["removed"]], 1, [undefined]],
  ])("%s", (_name, policy, states, count, expected) => {
    expect(picks(new Balancer(policy), endpoints(states), count)).toEqual(expected);
  });

  it.each<[string, boolean, Array<string | undefined>]>([
    ["a retry avoids the addresses tried while another is in rotation", true, ["c:1", "c:1"]],
    ["a transparent retry (no repeat) never goes back to one tried", false, ["c:1", "c:1"]],
  ])("%s", (_name, repeat, expected) => {
    const list = endpoints([["ok"], ["ok"], ["ok"]]);
    expect(picks(new Balancer("round_robin"), list, 2, [list[0], list[1]], repeat)).toEqual(expected);
  });

  it("a retry repeats a tried address only when no other is in rotation, and a transparent one does not", () => {
    const list = endpoints([["ok"], ["ejected"]]);
    expect(new Balancer("round_robin").pick(list, [list[0]], true)?.address).toBe("a:1");
    expect(new Balancer("round_robin").pick(list, [list[0]], false)?.address).toBe("b:1");
    expect(new Balancer("round_robin").pick(list, [list[0], list[1]], false)).toBeUndefined();
  });

  const stateArb = fc.constantFrom("ok", "ok", "ejected", "unhealthy", "removed");
  const listArb = fc.array(fc.tuple(stateArb, fc.nat(20)), { minLength: 1, maxLength: 8 });
  const policyArb = fc.constantFrom<BalancingPolicy>("round_robin", "least_request");

  it("property: while any address is in rotation, no pick is ejected, unhealthy or removed", () => {
    fc.assert(
      fc.property(listArb, policyArb, fc.nat(30), (states, policy, count) => {
        const list = endpoints(states);
        const balancer = new Balancer(policy);
        const inRotation = list.filter((endpoint) => endpoint.available);
        for (let i = 0; i < count; i++) {
          const picked = balancer.pick(list);
          if (inRotation.length > 0) expect(picked?.available).toBe(true);
          else if (list.some((endpoint) => !endpoint.removed)) expect(picked?.removed).toBe(false);
          else expect(picked).toBeUndefined();
        }
      }),
      fuzzRuns(300),
    );
  });

  it("property: round_robin spreads picks evenly over the addresses in rotation; least_request picks a least loaded one", () => {
    fc.assert(
      fc.property(listArb, policyArb, fc.integer({ min: 1, max: 5 }), (states, policy, rounds) => {
        const list = endpoints(states);
        const inRotation = list.filter((endpoint) => endpoint.available);
        fc.pre(inRotation.length > 0);
        const balancer = new Balancer(policy);
        const counts = new Map<string, number>();
        for (let i = 0; i < rounds * inRotation.length; i++) {
          const picked = balancer.pick(list) as Endpoint;
          if (policy === "least_request") expect(picked.active).toBe(Math.min(...inRotation.map((endpoint) => endpoint.active)));
          counts.set(picked.address, (counts.get(picked.address) ?? 0) + 1);
        }
        if (policy === "round_robin") for (const endpoint of inRotation) expect(counts.get(endpoint.address)).toBe(rounds);
      }),
      fuzzRuns(300),
    );
  });
});

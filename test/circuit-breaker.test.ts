import { describe, expect, it } from "vitest";
import { CircuitBreaker, type BreakerTicket } from "../src/circuit-breaker.js";

function breaker(threshold = 3, coolDownMs = 1000) {
  let now = 0;
  const events: string[] = [];
  const instance = new CircuitBreaker({
    failureThreshold: threshold,
    coolDownMs,
    now: () => now,
    onTrip: (cause) => events.push(`trip:${String(cause)}`),
    onRecover: (downForMs) => events.push(`recover:${downForMs}`),
  });
  /** A call the breaker must admit. */
  const admitted = (): BreakerTicket => {
    const ticket = instance.admit();
    if (ticket === undefined) throw new Error(`breaker refused a call (${instance.state})`);
    return ticket;
  };
  /** Admits a call and fails it at once. */
  const fail = (cause: string) => instance.failure(admitted(), cause);
  return { instance, events, admitted, fail, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("opens after the threshold of failures in a row, and says so once", () => {
    const { instance, events, fail } = breaker(3);
    fail("e1");
    fail("e2");
    expect(instance.admit()).not.toBeUndefined();
    fail("e3");
    expect(instance.state).toBe("open");
    expect(instance.admit()).toBeUndefined();
    expect(events).toEqual(["trip:e3"]);
  });

  it("a late success of a call let through before the breaker opened does not close it; the probe's does", () => {
    const { instance, events, advance, admitted, fail } = breaker(1, 1000);
    const early = admitted();
    fail("down");
    instance.success(early);
    expect(instance.state).toBe("open");
    expect(instance.admit()).toBeUndefined();
    advance(1000);
    const probe = admitted();
    instance.success(probe);
    expect(instance.state).toBe("closed");
    expect(events).toEqual(["trip:down", "recover:1000"]);
  });

  it("a late answer of a call let through before the breaker opened does not decide the probe's fate (half-open)", () => {
    const { instance, events, advance, admitted, fail } = breaker(1, 1000);
    const [early, earlier] = [admitted(), admitted()];
    fail("down");
    advance(1000);
    const probe = admitted();
    instance.failure(early, "late timeout");
    instance.success(earlier);
    expect(instance.state).toBe("half-open");
    instance.success(probe);
    expect(instance.state).toBe("closed");
    expect(events).toEqual(["trip:down", "recover:1000"]);
  });

  it("regression: a late failure of a call sent before the probe does not count against a Redis that has answered since", () => {
    const { instance, events, advance, admitted, fail } = breaker(2, 1000);
    const before = [admitted(), admitted(), admitted()];
    fail("down");
    fail("down");
    advance(1000);
    instance.success(admitted());
    expect(instance.state).toBe("closed");
    for (const ticket of before) instance.failure(ticket, "late");
    expect(instance.state).toBe("closed");
    // Fresh failures still count from zero.
    fail("again");
    expect(instance.state).toBe("closed");
    fail("again");
    expect(instance.state).toBe("open");
    expect(events).toEqual(["trip:down", "recover:1000", "trip:again"]);
  });

  it("a success resets the count of failures", () => {
    const { instance, admitted, fail } = breaker(2);
    fail("x");
    instance.success(admitted());
    fail("y");
    expect(instance.state).toBe("closed");
  });

  it("after the cool-down lets exactly one probe through; its failure re-opens without a second trip", () => {
    const { instance, events, advance, admitted, fail } = breaker(1, 1000);
    fail("down");
    advance(999);
    expect(instance.admit()).toBeUndefined();
    advance(1);
    const probe = admitted();
    expect(instance.state).toBe("half-open");
    expect(instance.admit()).toBeUndefined();
    instance.failure(probe, "still down");
    expect(instance.state).toBe("open");
    expect(instance.admit()).toBeUndefined();
    expect(events).toEqual(["trip:down"]);
  });

  it("a successful probe closes it and reports how long it was down", () => {
    const { instance, events, advance, admitted, fail } = breaker(1, 500);
    fail("down");
    advance(1200);
    instance.success(admitted());
    expect(instance.state).toBe("closed");
    expect(instance.admit()).not.toBeUndefined();
    expect(events).toEqual(["trip:down", "recover:1200"]);
  });

  it("probeNow (signs of life) lets the next call through as the probe without waiting out the cool-down", () => {
    const { instance, events, advance, admitted, fail } = breaker(1, 60_000);
    fail("down");
    advance(10);
    expect(instance.admit()).toBeUndefined();
    instance.probeNow();
    const probe = admitted();
    expect(instance.state).toBe("half-open");
    expect(instance.admit()).toBeUndefined();
    // The probe fails: open again for a whole cool-down; the earlier sign of life is used up.
    instance.failure(probe, "still down");
    expect(instance.admit()).toBeUndefined();
    advance(59_999);
    expect(instance.admit()).toBeUndefined();
    instance.probeNow();
    instance.success(admitted());
    expect(instance.state).toBe("closed");
    expect(events).toEqual(["trip:down", "recover:60009"]);
  });

  it("probeNow while closed or half-open changes nothing", () => {
    const { instance, advance, admitted, fail } = breaker(1, 1000);
    instance.probeNow();
    fail("down");
    expect(instance.admit()).toBeUndefined();
    advance(1000);
    admitted();
    instance.probeNow();
    expect(instance.admit()).toBeUndefined();
    expect(instance.state).toBe("half-open");
  });

  it("refuses a threshold below one", () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, coolDownMs: 1 })).toThrow(RangeError);
  });

  it("a probe released without a verdict lets the next call probe at once, rather than staying half-open for good", () => {
    const { instance, advance, admitted, fail } = breaker(1, 1000);
    fail("down");
    advance(1000);
    const probe = admitted();
    expect(instance.state).toBe("half-open");
    expect(instance.admit()).toBeUndefined();
    instance.release(probe);
    expect(instance.state).toBe("open");
    expect(instance.msUntilProbe()).toBe(0);
    const next = admitted();
    expect(instance.state).toBe("half-open");
    instance.success(next);
    expect(instance.state).toBe("closed");
  });

  it("release ignores tickets of other states, and of a closed breaker", () => {
    const { instance, admitted, fail } = breaker(2, 1000);
    const ticket = admitted();
    instance.release(ticket);
    expect(instance.state).toBe("closed");
    fail("one");
    fail("two");
    instance.release(ticket);
    expect(instance.state).toBe("open");
    expect(instance.admit()).toBeUndefined();
  });

  it.each([
    [0, 1000],
    [400, 600],
    [999, 1],
    [1000, 0],
    [5000, 0],
  ])("msUntilProbe %i ms after opening: %i", (elapsed, expected) => {
    const { instance, advance, fail } = breaker(1, 1000);
    expect(instance.msUntilProbe()).toBe(0);
    fail("down");
    advance(elapsed);
    expect(instance.msUntilProbe()).toBe(expected);
  });
});

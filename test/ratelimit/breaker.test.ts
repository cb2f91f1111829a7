import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../src/ratelimit/breaker.js";

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
  return { instance, events, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("opens after the threshold of failures in a row, and says so once", () => {
    const { instance, events } = breaker(3);
    instance.failure("e1");
    instance.failure("e2");
    expect(instance.allow()).toBe(true);
    instance.failure("e3");
    expect(instance.state).toBe("open");
    expect(instance.allow()).toBe(false);
    expect(events).toEqual(["trip:e3"]);
  });

  it("a late success of a call let through before the breaker opened does not close it; the probe's does", () => {
    const { instance, events, advance } = breaker(1, 1000);
    instance.failure("down");
    instance.success();
    expect(instance.state).toBe("open");
    expect(instance.allow()).toBe(false);
    advance(1000);
    expect(instance.allow()).toBe(true);
    instance.success();
    expect(instance.state).toBe("closed");
    expect(events).toEqual(["trip:down", "recover:1000"]);
  });

  it("a success resets the count of failures", () => {
    const { instance } = breaker(2);
    instance.failure("x");
    instance.success();
    instance.failure("y");
    expect(instance.state).toBe("closed");
  });

  it("after the cool-down lets exactly one probe through; its failure re-opens without a second trip", () => {
    const { instance, events, advance } = breaker(1, 1000);
    instance.failure("down");
    advance(999);
    expect(instance.allow()).toBe(false);
    advance(1);
    expect(instance.allow()).toBe(true);
    expect(instance.state).toBe("half-open");
    expect(instance.allow()).toBe(false);
    instance.failure("still down");
    expect(instance.state).toBe("open");
    expect(instance.allow()).toBe(false);
    expect(events).toEqual(["trip:down"]);
  });

  it("a successful probe closes it and reports how long it was down", () => {
    const { instance, events, advance } = breaker(1, 500);
    instance.failure("down");
    advance(1200);
    expect(instance.allow()).toBe(true);
    instance.success();
    expect(instance.state).toBe("closed");
    expect(instance.allow()).toBe(true);
    expect(events).toEqual(["trip:down", "recover:1200"]);
  });

  it("refuses a threshold below one", () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, coolDownMs: 1 })).toThrow(RangeError);
  });
});

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { gcraParams } from "../../src/ratelimit/gcra.js";
import { createMemoryStore } from "../../src/ratelimit/memory-store.js";

const SECOND = 1_000_000;

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** Heap in use after a full collection: what is really retained. */
function retainedHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

function clock(start = 1_000 * SECOND) {
  let now = start;
  return { nowUs: () => now, advance: (us: number) => (now += us) };
}

describe("createMemoryStore", () => {
  const perSecond = gcraParams(10, 1, 3);
  const perMinute = gcraParams(5, 60, 5);

  it("admits a request only when every limit admits it", () => {
    const time = clock();
    const store = createMemoryStore({ maxKeys: 100, nowUs: time.nowUs });
    const checks = [
      { key: "fast", params: perSecond },
      { key: "slow", params: perMinute },
    ];
    const verdicts = Array.from({ length: 4 }, () => store.consume(checks).allowed);
    expect(verdicts).toEqual([true, true, true, false]);
  });

  it("a rejected request consumes nothing from any bucket", () => {
    const time = clock();
    const store = createMemoryStore({ maxKeys: 100, nowUs: time.nowUs });
    // Exhaust "tight" (burst 1), then hammer it together with "loose".
    store.consume([{ key: "tight", params: gcraParams(1, 60, 1) }]);
    for (let i = 0; i < 50; i++) {
      const decision = store.consume([
        { key: "loose", params: perMinute },
        { key: "tight", params: gcraParams(1, 60, 1) },
      ]);
      expect(decision.allowed).toBe(false);
      expect(decision.states[0]).toMatchObject({ allowed: true, remaining: 5, resetUs: 0 });
      expect(decision.states[1]).toMatchObject({ allowed: false, remaining: 0 });
    }
    // "loose" is untouched: its whole burst is still there.
    const alone = Array.from({ length: 6 }, () => store.consume([{ key: "loose", params: perMinute }]).allowed);
    expect(alone).toEqual([true, true, true, true, true, false]);
  });

  it("refills on the injected clock", () => {
    const time = clock();
    const store = createMemoryStore({ maxKeys: 100, nowUs: time.nowUs });
    const check = [{ key: "k", params: perSecond }];
    for (let i = 0; i < 3; i++) expect(store.consume(check).allowed).toBe(true);
    expect(store.consume(check).allowed).toBe(false);
    time.advance(99_999);
    expect(store.consume(check).allowed).toBe(false);
    time.advance(1);
    expect(store.consume(check)).toMatchObject({ allowed: true, states: [{ remaining: 0 }] });
    time.advance(10 * SECOND);
    expect(store.consume(check).states[0].remaining).toBe(2);
  });

  it("stays under its bound when flooded with 1,000,000 distinct client IPs, keeping a bucket in use", { timeout: 60_000 }, () => {
    const time = clock();
    const maxKeys = 50_000;
    const store = createMemoryStore({ maxKeys, nowUs: time.nowUs });
    const params = gcraParams(100, 60, 100);
    const heapBefore = retainedHeap();
    let largest = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const ip = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
      store.consume([{ key: `per-ip||anonymous|ip:${ip}`, params }]);
      // One caller keeps coming back: the LRU bound must keep its bucket.
      if (i % 1000 === 0) store.consume([{ key: "per-ip||anonymous|ip:regular", params }]);
      time.advance(1);
      if (store.size > largest) largest = store.size;
    }
    expect(largest).toBeLessThanOrEqual(maxKeys);
    expect(largest).toBeGreaterThanOrEqual(maxKeys - 2);
    const heapGrowth = retainedHeap() - heapBefore;
    // 50,000 short keys and numbers are a few MB; a million would be ~100 MB.
    expect(heapGrowth).toBeLessThan(40 * 1024 * 1024);
    // The regular caller's bucket survived the flood (1,001 requests against a burst of 100).
    const regular = store.consume([{ key: "per-ip||anonymous|ip:regular", params }]);
    expect(regular.allowed).toBe(false);
    expect(store.evictedActive).toBeGreaterThan(0);
  });

  it("drops idle buckets without counting them as lost state, and counts live ones", () => {
    const time = clock();
    const store = createMemoryStore({ maxKeys: 4, nowUs: time.nowUs });
    const params = gcraParams(1, 1, 1);
    for (const key of ["a", "b", "c"]) store.consume([{ key, params }]);
    expect(store.size).toBe(3);
    time.advance(10 * SECOND);
    store.consume([{ key: "d", params }]); // a and b go; they were full again
    expect(store.size).toBe(2);
    expect(store.evictedActive).toBe(0);
    for (const key of ["e", "f"]) store.consume([{ key, params }]); // c (full again) and d (live) go
    expect(store.evictedActive).toBe(1);
  });

  it("keeps a bucket that is read, even by rejected requests, across generations", () => {
    const time = clock();
    const store = createMemoryStore({ maxKeys: 4, nowUs: time.nowUs });
    const tight = [{ key: "attacker", params: gcraParams(1, 3600, 1) }];
    expect(store.consume(tight).allowed).toBe(true);
    for (let i = 0; i < 20; i++) {
      store.consume([{ key: `other-${i}`, params: gcraParams(1, 1, 1) }]);
      expect(store.consume(tight).allowed).toBe(false);
    }
  });

  it("peek says what consume would decide, without consuming anything", () => {
    const time = clock();
    const store = createMemoryStore({ maxKeys: 100, nowUs: time.nowUs });
    const checks = [{ key: "k", params: perSecond }];
    expect(store.peek(checks)).toEqual({ allowed: true, states: [{ allowed: true, tat: 1_000 * SECOND, remaining: 3, resetUs: 0, retryAfterUs: 0 }] });
    expect(store.size).toBe(0);
    for (let i = 0; i < 3; i++) {
      expect(store.peek(checks).allowed).toBe(true);
      expect(store.consume(checks).allowed).toBe(true);
    }
    const blocked = store.peek(checks);
    expect(blocked.allowed).toBe(false);
    expect(blocked.states[0].retryAfterUs).toBe(SECOND / 10);
    expect(store.peek(checks)).toEqual(blocked);
    time.advance(SECOND / 10);
    expect(store.peek(checks).allowed).toBe(true);
    expect(store.consume(checks).allowed).toBe(true);
  });

  it("rejects a bound that cannot hold two generations", () => {
    expect(() => createMemoryStore({ maxKeys: 1 })).toThrow(RangeError);
  });
});

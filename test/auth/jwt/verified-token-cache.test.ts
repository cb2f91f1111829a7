import { describe, expect, it } from "vitest";
import { createVerifiedTokenCache } from "../../../src/auth/jwt/verified-token-cache.js";
import { createTestClock, START_MS } from "./jwt-test-kit.js";

describe("createVerifiedTokenCache", () => {
  it("returns an entry until its expiry by the injected clock", () => {
    const clock = createTestClock();
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10, now: clock.now });
    cache.set("token-a", "A", START_MS + 5000);
    expect(cache.get("token-a")).toBe("A");
    clock.advanceSeconds(4.999);
    expect(cache.get("token-a")).toBe("A");
    clock.advanceSeconds(0.001);
    expect(cache.get("token-a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("regression: an entry with a non-finite expiry (exp 1e400 read as Infinity) is never stored", () => {
    const clock = createTestClock();
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10, now: clock.now });
    cache.set("forever", "X", Number.POSITIVE_INFINITY);
    cache.set("nan", "Y", Number.NaN);
    expect(cache.get("forever")).toBeUndefined();
    expect(cache.get("nan")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("does not store an already expired entry", () => {
    const clock = createTestClock();
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10, now: clock.now });
    cache.set("old", "X", START_MS);
    expect(cache.get("old")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("evicts the least recently used entry beyond maxEntries", () => {
    const clock = createTestClock();
    const cache = createVerifiedTokenCache<string>({ maxEntries: 3, now: clock.now });
    const later = START_MS + 60_000;
    cache.set("a", "A", later);
    cache.set("b", "B", later);
    cache.set("c", "C", later);
    expect(cache.get("a")).toBe("A"); // a is now the most recent
    cache.set("d", "D", later);
    expect(cache.size).toBe(3);
    expect(cache.get("b")).toBeUndefined();
    expect([cache.get("a"), cache.get("c"), cache.get("d")]).toEqual(["A", "C", "D"]);
  });

  it("keeps a token used at least once every maxEntries / 2 insertions, however many others come", () => {
    const clock = createTestClock();
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10, now: clock.now });
    const later = START_MS + 60_000;
    cache.set("hot", "H", later);
    for (let i = 0; i < 1000; i += 1) {
      cache.set(`cold-${i}`, "C", later);
      if (i % 5 === 4) expect(cache.get("hot")).toBe("H");
      expect(cache.size).toBeLessThanOrEqual(10);
    }
    expect(cache.get("cold-991")).toBe("C"); // the hot token and the 9 newest
    expect(cache.get("cold-990")).toBeUndefined();
  });

  it("evicts a token that is not used within maxEntries insertions", () => {
    const clock = createTestClock();
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10, now: clock.now });
    const later = START_MS + 60_000;
    cache.set("hot", "H", later);
    for (let i = 0; i < 9; i += 1) cache.set(`cold-${i}`, "C", later);
    expect(cache.get("hot")).toBe("H"); // 9 insertions since: moved to the end again
    for (let i = 9; i < 18; i += 1) cache.set(`cold-${i}`, "C", later);
    expect(cache.get("hot")).toBe("H");
    for (let i = 18; i < 28; i += 1) cache.set(`cold-${i}`, "C", later);
    expect(cache.get("hot")).toBeUndefined();
  });

  it("stays bounded under many distinct tokens", () => {
    const clock = createTestClock();
    const cache = createVerifiedTokenCache<number>({ maxEntries: 100, now: clock.now });
    for (let i = 0; i < 10_000; i += 1) cache.set(`token-${i}`, i, START_MS + 60_000);
    expect(cache.size).toBe(100);
    expect(cache.get("token-9999")).toBe(9999);
    expect(cache.get("token-0")).toBeUndefined();
  });

  it("stores nothing when maxEntries is 0, and forgets everything on clear", () => {
    const clock = createTestClock();
    const off = createVerifiedTokenCache<string>({ maxEntries: 0, now: clock.now });
    off.set("a", "A", START_MS + 1000);
    expect(off.get("a")).toBeUndefined();
    const on = createVerifiedTokenCache<string>({ maxEntries: 2, now: clock.now });
    on.set("a", "A", START_MS + 1000);
    on.clear();
    expect(on.get("a")).toBeUndefined();
  });

  it("distinguishes tokens that differ in one character", () => {
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10, now: createTestClock().now });
    cache.set("abc.def.ghi", "1", START_MS + 1000);
    expect(cache.get("abc.def.ghj")).toBeUndefined();
  });
});

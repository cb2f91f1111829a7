import { beforeAll, describe, expect, it } from "vitest";
import { createJwksKeys, type JwksKeysOptions } from "../../../src/auth/jwt/jwks-keys.js";
import type { IssuerKeys } from "../../../src/auth/jwt/issuer-keys.js";
import { createFakeJwksFetch, createTestClock, createTestKey, expectRejected, settled, type FakeJwksFetch, type TestClock, type TestKey } from "./jwt-test-kit.js";

const COOLDOWN_MS = 30_000;
const RETRY_MS = 1_000;
const MAX_AGE_MS = 600_000;
const MAX_STALE_MS = 3_600_000;

let k1: TestKey;
let k2: TestKey;
beforeAll(async () => {
  k1 = await createTestKey("RS256", "k1");
  k2 = await createTestKey("RS256", "k2");
});

function setup(overrides: Partial<JwksKeysOptions> = {}): { keys: IssuerKeys; jwks: FakeJwksFetch; clock: TestClock; advanceMs(ms: number): void } {
  const clock = createTestClock();
  const jwks = createFakeJwksFetch([k1.jwk]);
  const keys = createJwksKeys({
    url: "https://idp.test/jwks",
    fetch: jwks.fetch,
    now: clock.now,
    timeoutMs: 60_000, // never reached: hanging fetches are released or failed by hand
    cooldownMs: COOLDOWN_MS,
    retryMs: RETRY_MS,
    maxAgeMs: MAX_AGE_MS,
    maxStaleMs: MAX_STALE_MS,
    ...overrides,
  });
  return { keys, jwks, clock, advanceMs: (ms) => clock.advanceSeconds(ms / 1000) };
}

const resolvesTo = async (keys: IssuerKeys, kid: string): Promise<number> => (await keys.resolve("RS256", kid)).keys.length;

describe("createJwksKeys: a failed fetch", () => {
  it("regression: one failed JWKS fetch does not lock out the issuer's tokens for the whole cool-down", async () => {
    const { keys, jwks, advanceMs } = setup();
    jwks.setMode("error");
    await expectRejected(keys.resolve("RS256", "k1"), "key set unavailable");
    expect(jwks.calls()).toBe(1);
    jwks.setMode("serve");
    // Before the retry delay: answered at once, no fetch.
    advanceMs(RETRY_MS - 1);
    await expectRejected(keys.resolve("RS256", "k1"), "key set unavailable");
    expect(jwks.calls()).toBe(1);
    // After it (a thirtieth of the cool-down): fetched again, and the token's key is there.
    advanceMs(1);
    expect(await resolvesTo(keys, "k1")).toBe(1);
    expect(jwks.calls()).toBe(2);
  });

  it("waits longer after each further failure (1, 2, 4 ... s, at most the cool-down), and a success resets it", async () => {
    const { keys, jwks, advanceMs } = setup();
    jwks.setMode("error");
    const gaps: number[] = [];
    let last = 0;
    let elapsed = 0;
    // A token every 100 ms for 3 minutes, the JWKS server down all along.
    for (let step = 0; step < 1800; step++) {
      await keys.resolve("RS256", "k1").catch(() => undefined);
      if (jwks.calls() > gaps.length + 1) {
        gaps.push(elapsed - last);
        last = elapsed;
      }
      advanceMs(100);
      elapsed += 100;
    }
    expect(gaps.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 16000, 30000]);
    expect(gaps.slice(6).every((gap) => gap === COOLDOWN_MS)).toBe(true);
    // 180 s of down time: 1 + 6 + (180 - 61) / 30 attempts, not one per request.
    expect(jwks.calls()).toBe(1 + 6 + Math.floor((180_000 - 61_000) / COOLDOWN_MS));

    jwks.setMode("serve");
    advanceMs(COOLDOWN_MS);
    expect(await resolvesTo(keys, "k1")).toBe(1);
    const after = jwks.calls();
    // Up again: an unknown kid may refetch only once per cool-down.
    await expectRejected(keys.resolve("RS256", "nope"), "unknown key id");
    expect(jwks.calls()).toBe(after);
    advanceMs(COOLDOWN_MS);
    await expectRejected(keys.resolve("RS256", "nope"), "unknown key id");
    expect(jwks.calls()).toBe(after + 1);
  });

  it("after a key rotation and a failed refetch, the new kid is retried soon while the old key keeps verifying", async () => {
    const { keys, jwks, advanceMs } = setup();
    expect(await resolvesTo(keys, "k1")).toBe(1);
    advanceMs(COOLDOWN_MS);
    jwks.setKeys([k1.jwk, k2.jwk]);
    jwks.setMode("error");
    await expectRejected(keys.resolve("RS256", "k2"), "key set unavailable");
    expect(jwks.calls()).toBe(2);
    // The last good set still verifies k1, without a fetch.
    expect(await resolvesTo(keys, "k1")).toBe(1);
    await expectRejected(keys.resolve("RS256", "k2"), "key set unavailable");
    expect(jwks.calls()).toBe(2);
    jwks.setMode("serve");
    advanceMs(RETRY_MS);
    expect(await resolvesTo(keys, "k2")).toBe(1);
    expect(jwks.calls()).toBe(3);
  });

  it("concurrent callers share one fetch", async () => {
    const { keys, jwks } = setup();
    jwks.setMode("hang");
    const waiting = Array.from({ length: 50 }, () => keys.resolve("RS256", "k1"));
    await settled();
    expect(jwks.calls()).toBe(1);
    jwks.releaseAll();
    expect((await Promise.all(waiting)).every((resolved) => resolved.keys.length === 1)).toBe(true);
    expect(jwks.calls()).toBe(1);
  });
});

describe("createJwksKeys: a stale set", () => {
  it("keeps verifying from the last good set while the refetch hangs: no request waits for it", async () => {
    const { keys, jwks, advanceMs } = setup();
    expect(await resolvesTo(keys, "k1")).toBe(1);
    jwks.setMode("hang");
    advanceMs(MAX_AGE_MS);
    // Resolved while the refetch is still pending.
    expect(await resolvesTo(keys, "k1")).toBe(1);
    expect(jwks.pending()).toBe(1);
    expect(await resolvesTo(keys, "k1")).toBe(1);
    expect(jwks.calls()).toBe(2);
    // An unknown kid joins the pending fetch (the key may be in the new set) ...
    const unknown = keys.resolve("RS256", "k2");
    await settled();
    expect(jwks.calls()).toBe(2);
    jwks.failAll();
    await expectRejected(unknown, "key set unavailable");
    // ... and after that failure, k1 still verifies; the next attempt comes after the retry delay.
    expect(await resolvesTo(keys, "k1")).toBe(1);
    expect(jwks.calls()).toBe(2);
    advanceMs(RETRY_MS);
    jwks.setMode("serve");
    jwks.setKeys([k2.jwk]);
    expect(await resolvesTo(keys, "k1")).toBe(1); // answered from the stale set, refetch started
    await settled();
    expect(jwks.calls()).toBe(3);
    // The refetched set is in use: k1 was removed, k2 published.
    await expectRejected(keys.resolve("RS256", "k1"), "unknown key id");
    expect(await resolvesTo(keys, "k2")).toBe(1);
  });

  it("is dropped maxStaleMs after its max age when it could not be refetched, and its generation changes", async () => {
    const { keys, jwks, advanceMs } = setup();
    expect(await resolvesTo(keys, "k1")).toBe(1);
    const generation = keys.generation();
    jwks.setMode("error");
    advanceMs(MAX_AGE_MS + MAX_STALE_MS - 1);
    expect(await resolvesTo(keys, "k1")).toBe(1);
    await settled();
    expect(keys.generation()).toBe(generation);
    advanceMs(1);
    await expectRejected(keys.resolve("RS256", "k1"), "key set unavailable");
    expect(keys.generation()).not.toBe(generation);
    // Back up: the set is fetched again on the next due attempt.
    jwks.setMode("serve");
    advanceMs(COOLDOWN_MS);
    expect(await resolvesTo(keys, "k1")).toBe(1);
  });

  it("with maxStaleMs 0 a set is never used past its max age", async () => {
    const { keys, jwks, advanceMs } = setup({ maxStaleMs: 0 });
    expect(await resolvesTo(keys, "k1")).toBe(1);
    jwks.setMode("error");
    advanceMs(MAX_AGE_MS);
    await expectRejected(keys.resolve("RS256", "k1"), "key set unavailable");
    expect(jwks.calls()).toBe(2);
  });

  it("generation(now) on the hot path starts the due refetch of a stale set, so a removed key is noticed", async () => {
    const { keys, jwks, clock, advanceMs } = setup();
    expect(await resolvesTo(keys, "k1")).toBe(1);
    const before = keys.generation(clock.now());
    jwks.setKeys([k2.jwk]);
    advanceMs(MAX_AGE_MS - 1);
    expect(keys.generation(clock.now())).toBe(before);
    await settled();
    expect(jwks.calls()).toBe(1);
    advanceMs(1);
    expect(keys.generation(clock.now())).toBe(before); // answered at once ...
    await settled();
    expect(jwks.calls()).toBe(2);
    expect(keys.generation(clock.now())).toBe(before + 1); // ... and the changed set is noticed after the fetch
  });
});

describe("createJwksKeys: close", () => {
  it("aborts a fetch in flight", async () => {
    const { keys, jwks } = setup();
    jwks.setMode("hang");
    const waiting = keys.resolve("RS256", "k1");
    await settled();
    expect(jwks.pending()).toBe(1);
    keys.close();
    await expectRejected(waiting, "key set unavailable");
    expect(jwks.pending()).toBe(0);
  });
});

describe("createJwksKeys: fetch outcomes (metrics)", () => {
  it("reports each download attempt's outcome, and only attempts (a cached set fetches nothing)", async () => {
    const outcomes: string[] = [];
    const { keys, jwks, advanceMs } = setup({ onFetch: (outcome) => outcomes.push(outcome) });
    jwks.setMode("error");
    await expectRejected(keys.resolve("RS256", "k1"), "key set unavailable");
    jwks.setMode("serve");
    advanceMs(RETRY_MS);
    expect(await resolvesTo(keys, "k1")).toBe(1);
    expect(await resolvesTo(keys, "k1")).toBe(1);
    expect(outcomes).toEqual(["failure", "success"]);
    expect(jwks.calls()).toBe(2);
  });
});

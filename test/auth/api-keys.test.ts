import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";

// Counts constant-time comparisons, delegating to the real implementation.
const compared = vi.hoisted(() => ({ calls: 0 }));
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.calls++;
      return real.timingSafeEqual(a, b);
    },
  };
});

import { createApiKeyStore, hashApiKey, type ApiKeyEntry } from "../../src/auth/api-keys.js";

const sha = (key: string) => createHash("sha256").update(key, "utf8").digest("hex");
const alice: ApiKeyEntry = { sha256: sha("alice-key-1"), consumer: "alice", tier: "gold", scopes: ["orders:read"] };
const bob: ApiKeyEntry = { sha256: sha("bob-key-1"), consumer: "bob", tier: "default", scopes: [] };
const carol: ApiKeyEntry = { sha256: sha("carol-key-ü"), consumer: "carol", tier: "silver", scopes: ["a", "b"] };

describe("hashApiKey", () => {
  it("is the hex SHA-256 of the UTF-8 key", () => {
    expect(hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("createApiKeyStore().find", () => {
  const store = createApiKeyStore([alice, bob, carol]);

  it.each([
    ["first entry", "alice-key-1", "alice"],
    ["middle entry", "bob-key-1", "bob"],
    ["last entry, non-ASCII key", "carol-key-ü", "carol"],
    ["wrong key", "alice-key-2", undefined],
    ["prefix of a key", "alice-key-", undefined],
    ["key with extra char", "alice-key-11", undefined],
    ["case differs", "ALICE-KEY-1", undefined],
    ["the stored hash itself", alice.sha256, undefined],
    ["empty", "", undefined],
    ["very long", "x".repeat(100_000), undefined],
  ])("%s", (_name, presented, consumer) => {
    expect(store.find(presented)?.consumer).toBe(consumer);
  });

  it.each([
    ["a match at the first entry", "alice-key-1"],
    ["a match at the last entry", "carol-key-ü"],
    ["no match", "nobody"],
  ])("compares with timingSafeEqual against every entry for %s", (_name, presented) => {
    compared.calls = 0;
    store.find(presented);
    expect(compared.calls).toBe(3);
  });

  it("returns the entry's tier and scopes", () => {
    expect(store.find("alice-key-1")).toEqual(alice);
  });

  it("no longer finds a revoked key (removed from the config)", () => {
    const revoked = createApiKeyStore([bob, carol]);
    expect(revoked.find("alice-key-1")).toBeUndefined();
    expect(revoked.find("bob-key-1")?.consumer).toBe("bob");
  });

  it("finds nothing in an empty store", () => {
    expect(createApiKeyStore([]).find("alice-key-1")).toBeUndefined();
  });

  it("returns frozen entries the caller cannot alter", () => {
    const entry = store.find("alice-key-1");
    expect(Object.isFrozen(entry)).toBe(true);
    expect(Object.isFrozen(entry?.scopes)).toBe(true);
  });

  it("finds exactly the key whose hash is stored (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 }), fc.string({ maxLength: 40 }), (keys, probe) => {
        const entries = keys.map((key, index) => ({ sha256: hashApiKey(key), consumer: `c${index}`, tier: "t", scopes: [] }));
        const keyStore = createApiKeyStore(entries);
        keys.forEach((key, index) => expect(keyStore.find(key)?.consumer).toBe(`c${index}`));
        const index = keys.indexOf(probe);
        expect(keyStore.find(probe)?.consumer).toBe(index < 0 ? undefined : `c${index}`);
      }),
    );
  });
});

describe("createApiKeyStore validation", () => {
  it.each([
    ["upper-case hex", { ...alice, sha256: alice.sha256.toUpperCase() }, /keys\[0\]\.sha256: expected 64 lower-case hex/],
    ["too short", { ...alice, sha256: "abc" }, /keys\[0\]\.sha256/],
    ["the raw key", { ...alice, sha256: "alice-key-1" }, /keys\[0\]\.sha256/],
  ])("rejects %s", (_name, entry, message) => {
    expect(() => createApiKeyStore([entry])).toThrow(message);
  });

  it("rejects the same hash twice", () => {
    expect(() => createApiKeyStore([alice, { ...alice, consumer: "mallory" }])).toThrow(/keys\[1\]\.sha256: the same key hash is configured twice/);
  });
});

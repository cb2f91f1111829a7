import { hash } from "node:crypto";

/** Verified tokens remembered until they expire, least recently used evicted first. */
export interface VerifiedTokenCache<V> {
  /**
   * The value stored for `token`, unless it expired (at `nowMs`, default the injected clock) or
   * was evicted.
   */
  get(token: string, nowMs?: number): V | undefined;
  /**
   * Remembers `value` for `token` until `expiresAtMs`; an already expired entry is not stored,
   * nor is one whose expiry is not a finite number (NaN, Infinity: never "until forever").
   */
  set(token: string, value: V, expiresAtMs: number): void;
  clear(): void;
  readonly size: number;
}

export interface VerifiedTokenCacheOptions {
  /** At most this many entries; 0 turns the cache off. */
  readonly maxEntries: number;
  /** Clock in ms. */
  readonly now: () => number;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAtMs: number;
  /** The value of `insertions` when the entry was last put at the end of the map. */
  stamp: number;
}

/**
 * A bounded LRU keyed by the SHA-256 of the token, so the cache holds no raw bearer credential
 * (the verifier's per-connection memo holds one per connection, for that connection's life).
 *
 * Recency is kept approximately, to spare a hot token two map writes per request: a hit moves
 * its entry to the end (most recent) only once it is in the older half, i.e. once at least half
 * of `maxEntries` insertions happened since it was last moved. An entry is evicted only after
 * `maxEntries` insertions since its last move, so a token used at least once every
 * `maxEntries / 2` insertions is never evicted, and the cache never holds more than `maxEntries`.
 *
 * Revocation: a cached token is accepted until its `exp` (or until it is evicted or its issuer's
 * key set changes) without being looked at again. The gateway does no per-token revocation
 * check, so a token revoked at the identity provider stays valid here until it expires; keep
 * access-token lifetimes short. Removing the signing key from the JWKS does invalidate cached
 * tokens once the gateway has refetched the set (see jwt-verifier.ts).
 */
export function createVerifiedTokenCache<V>(options: VerifiedTokenCacheOptions): VerifiedTokenCache<V> {
  const entries = new Map<string, Entry<V>>();
  const refreshAge = options.maxEntries / 2;
  /** Insertions at the end of the map so far (new entries and moves). */
  let insertions = 0;
  // One-shot crypto.hash (Node >= 20.12): no Hash object per request, about 40% cheaper on a hot token.
  const keyOf = (token: string): string => hash("sha256", token, "base64");
  return {
    get(token, nowMs) {
      if (options.maxEntries === 0 || entries.size === 0) return undefined;
      const key = keyOf(token);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAtMs <= (nowMs ?? options.now())) {
        entries.delete(key);
        return undefined;
      }
      if (insertions - entry.stamp >= refreshAge) {
        entries.delete(key);
        entry.stamp = ++insertions;
        entries.set(key, entry); // most recently used goes last
      }
      return entry.value;
    },
    set(token, value, expiresAtMs) {
      if (options.maxEntries === 0 || !Number.isFinite(expiresAtMs) || !(expiresAtMs > options.now())) return;
      const key = keyOf(token);
      entries.delete(key);
      entries.set(key, { value, expiresAtMs, stamp: ++insertions });
      while (entries.size > options.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

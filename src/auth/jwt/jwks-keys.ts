import { createLocalJWKSet, type LocalJWKSet } from "jose";
import { fetchJwks } from "./jwks-fetch.js";
import { jwtRejected } from "./jwt-errors.js";
import type { IssuerKeys, ResolvedKeys } from "./issuer-keys.js";
import { matchKeys } from "./key-match.js";

/** Where and how often to fetch one issuer's JWKS. */
export interface JwksKeysOptions {
  readonly url: string;
  readonly fetch: typeof fetch;
  /** Clock in ms (injected in tests). */
  readonly now: () => number;
  readonly timeoutMs: number;
  /** Minimum time between two fetch attempts, whatever triggers them. */
  readonly cooldownMs: number;
  /** A set older than this is refetched before use; a failed refetch keeps the old set. */
  readonly maxAgeMs: number;
}

interface CachedSet {
  readonly set: LocalJWKSet;
  readonly fetchedAt: number;
  readonly generation: number;
}

/**
 * An issuer's keys from a JWKS URL, fetched on first use and cached. Fetches happen when there is
 * no set yet, when the set is older than `maxAgeMs`, or when a token names a `kid` the set does
 * not have; but never more than once per `cooldownMs` (failed attempts count), and concurrent
 * callers share one in-flight fetch. So a flood of tokens with random `kid`s costs the JWKS
 * server at most one request per cool-down. While the server is down or slow, tokens whose key
 * is in the cached set keep verifying; others get "key set unavailable" within `timeoutMs`.
 */
export function createJwksKeys(options: JwksKeysOptions): IssuerKeys {
  let cached: CachedSet | undefined;
  let generation = 0;
  let lastKeys = "";
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastAttemptFailed = false;
  let inflight: Promise<void> | undefined;
  const closing = new AbortController();

  const mayFetch = (): boolean => inflight !== undefined || options.now() - lastAttemptAt >= options.cooldownMs;

  function refresh(): Promise<void> {
    if (inflight !== undefined) return inflight;
    lastAttemptAt = options.now();
    inflight = (async () => {
      try {
        const jwks = await fetchJwks(options.url, { fetch: options.fetch, timeoutMs: options.timeoutMs, signal: closing.signal });
        const keys = JSON.stringify(jwks.keys);
        if (keys !== lastKeys) {
          generation += 1;
          lastKeys = keys;
        }
        cached = { set: createLocalJWKSet(jwks), fetchedAt: options.now(), generation };
        lastAttemptFailed = false;
      } catch (error) {
        lastAttemptFailed = true;
        throw error;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  async function current(): Promise<CachedSet> {
    if (cached === undefined) {
      if (!mayFetch()) throw jwtRejected("key set unavailable");
      try {
        await refresh();
      } catch (error) {
        throw jwtRejected("key set unavailable", error);
      }
    } else if (options.now() - cached.fetchedAt >= options.maxAgeMs && mayFetch()) {
      // Stale: refetch, but keep verifying with the old set if the server does not answer.
      await refresh().catch(() => undefined);
    }
    if (cached === undefined) throw jwtRejected("key set unavailable");
    return cached;
  }

  return {
    async resolve(alg, kid): Promise<ResolvedKeys> {
      let entry = await current();
      let keys = await matchKeys(entry.set, alg, kid);
      if (keys.length > 0) return { keys, generation: entry.generation };
      // Within the cool-down: unknown, unless the last fetch failed and the key may well exist.
      if (!mayFetch()) throw jwtRejected(lastAttemptFailed ? "key set unavailable" : "unknown key id");
      try {
        await refresh();
      } catch (error) {
        throw jwtRejected("key set unavailable", error);
      }
      entry = cached ?? entry;
      keys = await matchKeys(entry.set, alg, kid);
      if (keys.length === 0) throw jwtRejected("unknown key id");
      return { keys, generation: entry.generation };
    },
    generation: () => generation,
    close() {
      closing.abort(new Error("JWT verifier closed"));
    },
  };
}

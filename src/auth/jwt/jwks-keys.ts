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
  /** Minimum time between two fetch attempts after a successful one, whatever triggers them. */
  readonly cooldownMs: number;
  /**
   * After a failed attempt the next one may come this soon; the wait doubles with each further
   * failure in a row, up to `cooldownMs`.
   */
  readonly retryMs: number;
  /** A set older than this is refetched in the background while it keeps verifying. */
  readonly maxAgeMs: number;
  /** How long past `maxAgeMs` a set that could not be refetched keeps verifying; then it is dropped. */
  readonly maxStaleMs: number;
  /** Hears the outcome of each download attempt (metrics). */
  readonly onFetch?: (outcome: JwksFetchOutcome) => void;
}

/** How a JWKS download attempt ended. */
export type JwksFetchOutcome = "success" | "failure";

interface CachedSet {
  readonly set: LocalJWKSet;
  readonly fetchedAt: number;
  readonly generation: number;
}

/**
 * An issuer's keys from a JWKS URL, fetched on first use and cached (the last good set).
 *
 * When it fetches: when there is no usable set, when a token names a `kid` the set does not
 * have, and when the set is older than `maxAgeMs` (then in the background: requests go on
 * verifying with the set they have and never wait for that refetch). Concurrent callers share
 * one in-flight fetch, and attempts are spaced: after a success the next needs `cooldownMs`;
 * after a failure it may come sooner, `retryMs`, doubling per further failure up to `cooldownMs`.
 * So a flood of tokens with random `kid`s costs the JWKS server at most one request per
 * cool-down while it is up, and a few more (1 + log2(cooldown / retry) per outage) while it is
 * down; one failed fetch no longer locks out that issuer's new keys for a whole cool-down.
 *
 * While the JWKS server is down, slow or hung: tokens whose key is in the last good set keep
 * verifying without waiting, until that set is `maxAgeMs + maxStaleMs` old; then it is dropped
 * (its generation changes, so cached verifications are redone) and the issuer's tokens get
 * "key set unavailable" until a fetch succeeds. A token naming a `kid` the set lacks waits for
 * at most one fetch (`timeoutMs`) or is answered at once when no attempt is due.
 */
export function createJwksKeys(options: JwksKeysOptions): IssuerKeys {
  const { now, cooldownMs, retryMs, maxAgeMs, maxStaleMs } = options;
  let cached: CachedSet | undefined;
  let generation = 0;
  let lastKeys = "";
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  /** Failed attempts in a row (0 after a success). */
  let failures = 0;
  let inflight: Promise<void> | undefined;
  const closing = new AbortController();

  const spacing = (): number => (failures === 0 ? cooldownMs : Math.min(cooldownMs, retryMs * 2 ** (failures - 1)));
  const mayFetch = (nowMs: number): boolean => inflight !== undefined || nowMs - lastAttemptAt >= spacing();

  function refresh(): Promise<void> {
    if (inflight !== undefined) return inflight;
    lastAttemptAt = now();
    inflight = (async () => {
      try {
        const jwks = await fetchJwks(options.url, { fetch: options.fetch, timeoutMs: options.timeoutMs, signal: closing.signal });
        const keys = JSON.stringify(jwks.keys);
        if (keys !== lastKeys) {
          generation += 1;
          lastKeys = keys;
        }
        cached = { set: createLocalJWKSet(jwks), fetchedAt: now(), generation };
        failures = 0;
        options.onFetch?.("success");
      } catch (error) {
        failures += 1;
        options.onFetch?.("failure");
        throw error;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  /**
   * The set to verify with at `nowMs`, or undefined. A stale set starts a background refetch
   * (when one is due) and is still returned; a set past `maxAgeMs + maxStaleMs` is dropped.
   */
  function usable(nowMs: number): CachedSet | undefined {
    if (cached === undefined) return undefined;
    const age = nowMs - cached.fetchedAt;
    if (age < maxAgeMs) return cached;
    if (age >= maxAgeMs + maxStaleMs) {
      cached = undefined;
      generation += 1; // cached verifications under the dropped set are redone (and fail until a fetch succeeds)
      lastKeys = "";
      return undefined;
    }
    if (inflight === undefined && mayFetch(nowMs)) void refresh().catch(() => undefined);
    return cached;
  }

  async function current(nowMs: number): Promise<CachedSet> {
    const entry = usable(nowMs);
    if (entry !== undefined) return entry;
    if (!mayFetch(nowMs)) throw jwtRejected("key set unavailable");
    try {
      await refresh();
    } catch (error) {
      throw jwtRejected("key set unavailable", error);
    }
    if (cached === undefined) throw jwtRejected("key set unavailable");
    return cached;
  }

  return {
    async resolve(alg, kid): Promise<ResolvedKeys> {
      let entry = await current(now());
      let keys = await matchKeys(entry.set, alg, kid);
      if (keys.length > 0) return { keys, generation: entry.generation };
      // No attempt due: unknown, unless the last attempt failed and the key may well exist.
      if (!mayFetch(now())) throw jwtRejected(failures > 0 ? "key set unavailable" : "unknown key id");
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
    generation(nowMs) {
      // Also on the hot path (a cached token): a stale set starts its refetch here too, so a key
      // removed from the JWKS is noticed even when every request carries a cached token.
      if (nowMs !== undefined) usable(nowMs);
      return generation;
    },
    close() {
      closing.abort(new Error("JWT verifier closed"));
    },
  };
}

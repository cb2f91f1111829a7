import { gcraEvaluate, unconsumed, type GcraVerdict } from "./gcra.js";
import { monotonicNowUs, type LimitCheck, type RateLimitStore, type StoreDecision } from "./store.js";

export interface MemoryStoreOptions {
  /** The most buckets kept; beyond it the least recently used bucket is dropped. */
  readonly maxKeys: number;
  /** Clock in microseconds (tests inject one). */
  readonly nowUs?: () => number;
}

/** A per-process store: exact, O(1) per check, memory bounded by `maxKeys`. */
export interface MemoryStore extends RateLimitStore {
  consume(checks: readonly LimitCheck[]): StoreDecision;
  /** Buckets held now (never more than `maxKeys`). */
  readonly size: number;
  /** Buckets dropped while not yet full again: those keys got a fresh bucket early. */
  readonly evictedActive: number;
}

/**
 * Buckets in one Map from key to TAT. A Map keeps insertion order, so re-inserting a bucket on
 * every use makes the first key the least recently used: that is the one evicted at the bound.
 * A bucket whose TAT has passed is full, the same as no bucket, so dropping it loses nothing;
 * only a flood of more than `maxKeys` distinct keys within one refill time drops live buckets
 * (counted in `evictedActive`).
 */
export function createMemoryStore(options: MemoryStoreOptions): MemoryStore {
  const { maxKeys } = options;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError("maxKeys must be a positive integer");
  const nowUs = options.nowUs ?? monotonicNowUs;
  const tats = new Map<string, number>();
  let evictedActive = 0;

  const consume = (checks: readonly LimitCheck[]): StoreDecision => {
    const now = nowUs();
    const verdicts: GcraVerdict[] = new Array<GcraVerdict>(checks.length);
    let allowed = true;
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i];
      const verdict = gcraEvaluate(tats.get(check.key), now, check.params);
      verdicts[i] = verdict;
      if (!verdict.allowed) allowed = false;
    }
    if (allowed) {
      for (let i = 0; i < checks.length; i++) {
        const key = checks[i].key;
        tats.delete(key);
        tats.set(key, verdicts[i].tat);
      }
      while (tats.size > maxKeys) {
        const oldest = tats.keys().next().value as string;
        if ((tats.get(oldest) ?? 0) > now) evictedActive++;
        tats.delete(oldest);
      }
    } else {
      for (let i = 0; i < checks.length; i++) verdicts[i] = unconsumed(verdicts[i], checks[i].params);
    }
    return { allowed, states: verdicts };
  };

  return {
    consume,
    get size() {
      return tats.size;
    },
    get evictedActive() {
      return evictedActive;
    },
    close: async () => tats.clear(),
  };
}

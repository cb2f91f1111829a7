import { gcraEvaluate, unconsumed, type GcraVerdict } from "./gcra.js";
import { monotonicNowUs, type LimitCheck, type RateLimitStore, type StoreDecision } from "./store.js";

export interface MemoryStoreOptions {
  /** The most buckets kept (>= 2); beyond it the buckets idle longest are dropped. */
  readonly maxKeys: number;
  /** Clock in microseconds (tests inject one). */
  readonly nowUs?: () => number;
}

/** A per-process store: exact, O(1) per check, memory bounded by `maxKeys`. */
export interface MemoryStore extends RateLimitStore {
  consume(checks: readonly LimitCheck[]): StoreDecision;
  /**
   * What `consume` would decide now, without consuming or moving anything: whether one more
   * request would be admitted, and each bucket's state as it stands.
   */
  peek(checks: readonly LimitCheck[]): StoreDecision;
  /** Buckets held now (never more than `maxKeys`). */
  readonly size: number;
  /** Buckets dropped while not yet full again: those keys got a fresh bucket early. */
  readonly evictedActive: number;
}

/**
 * Buckets in two generations of Maps from key to TAT: new and used buckets go to `current`; when
 * it holds half the bound, it becomes `previous` and the old `previous` is dropped whole. A bucket
 * used in either generation moves to `current`, so buckets in use survive; the dropped ones were
 * idle for a whole generation. Every step is O(1) (an LRU list evicting one key at a time from
 * the front of a Map was measured far slower: V8 scans the deleted slots at the front on each
 * eviction). A bucket whose TAT has passed is full, the same as no bucket, so dropping it loses
 * nothing; only a flood of distinct keys within one refill time drops live buckets (counted in
 * `evictedActive`).
 */
export function createMemoryStore(options: MemoryStoreOptions): MemoryStore {
  const { maxKeys } = options;
  if (!Number.isInteger(maxKeys) || maxKeys < 2) throw new RangeError("maxKeys must be an integer >= 2");
  const generationSize = Math.ceil(maxKeys / 2);
  const nowUs = options.nowUs ?? monotonicNowUs;
  let current = new Map<string, number>();
  let previous = new Map<string, number>();
  let evictedActive = 0;

  const put = (key: string, tat: number, now: number): void => {
    current.set(key, tat);
    if (current.size < generationSize) return;
    for (const oldTat of previous.values()) if (oldTat > now) evictedActive++;
    previous = current;
    current = new Map();
  };

  /** The bucket's TAT, moved into the current generation if it was in the previous one. */
  const lookup = (key: string, now: number): number | undefined => {
    const tat = current.get(key);
    if (tat !== undefined) return tat;
    const old = previous.get(key);
    if (old === undefined) return undefined;
    previous.delete(key);
    put(key, old, now);
    return old;
  };

  const consume = (checks: readonly LimitCheck[]): StoreDecision => {
    const now = nowUs();
    const verdicts: GcraVerdict[] = new Array<GcraVerdict>(checks.length);
    let allowed = true;
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i];
      const verdict = gcraEvaluate(lookup(check.key, now), now, check.params);
      verdicts[i] = verdict;
      if (!verdict.allowed) allowed = false;
    }
    if (allowed) {
      for (let i = 0; i < checks.length; i++) put(checks[i].key, verdicts[i].tat, now);
    } else {
      for (let i = 0; i < checks.length; i++) verdicts[i] = unconsumed(verdicts[i], checks[i].params);
    }
    return { allowed, states: verdicts };
  };

  const peek = (checks: readonly LimitCheck[]): StoreDecision => {
    const now = nowUs();
    const states: GcraVerdict[] = new Array<GcraVerdict>(checks.length);
    let allowed = true;
    for (let i = 0; i < checks.length; i++) {
      const { key, params } = checks[i];
      const verdict = gcraEvaluate(current.get(key) ?? previous.get(key), now, params);
      if (!verdict.allowed) allowed = false;
      states[i] = unconsumed(verdict, params);
    }
    return { allowed, states };
  };

  return {
    consume,
    peek,
    get size() {
      return current.size + previous.size;
    },
    get evictedActive() {
      return evictedActive;
    },
    close: async () => {
      current.clear();
      previous.clear();
    },
  };
}

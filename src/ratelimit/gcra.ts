/**
 * GCRA (the generic cell rate algorithm), the exact form of a token bucket that keeps one number
 * per key: the theoretical arrival time (TAT) of the next request at the steady rate. A request
 * at `now` is admitted when, after adding one emission interval, the TAT is no more than `burst`
 * intervals ahead of `now`. In any span of `t` microseconds at most `burst + floor(t / interval)`
 * requests are admitted.
 *
 * All times are whole microseconds so the arithmetic is exact in doubles (up to 2^53 us, about
 * 285 years). The Redis script (redis-script.ts) implements the same formulas; a shared test
 * table holds both to them.
 */

/** The shape of one limit: `requests` per `periodUs`, at most `burst` at once. */
export interface GcraParams {
  /** Microseconds between two requests at the steady rate (rounded up to a whole microsecond). */
  readonly intervalUs: number;
  /** How many requests a full bucket admits at once (>= 1). */
  readonly burst: number;
}

/** The verdict of one limit for one request. */
export interface GcraVerdict {
  readonly allowed: boolean;
  /** The TAT to store when the request is admitted (unchanged when rejected). */
  readonly tat: number;
  /** Requests a burst could still make right now (after this one, when admitted). */
  readonly remaining: number;
  /** Microseconds until the bucket is full again. */
  readonly resetUs: number;
  /** Rejected only: microseconds until one request would be admitted; 0 when admitted. */
  readonly retryAfterUs: number;
}

/** GCRA parameters for `requests` per `periodSeconds` with a burst of `burst`. */
export function gcraParams(requests: number, periodSeconds: number, burst: number): GcraParams {
  if (!(requests >= 1) || !(periodSeconds > 0) || !(burst >= 1)) throw new RangeError("a limit needs requests >= 1, periodSeconds > 0 and burst >= 1");
  // Rounding up makes the steady rate at most `requests` per period, never more.
  return { intervalUs: Math.ceil((periodSeconds * 1_000_000) / requests), burst: Math.floor(burst) };
}

/**
 * Evaluates one request against a stored TAT (undefined: a full bucket). Pure: the caller stores
 * `tat` only when every limit of the request admits it.
 */
export function gcraEvaluate(storedTat: number | undefined, nowUs: number, params: GcraParams): GcraVerdict {
  const { intervalUs, burst } = params;
  const toleranceUs = intervalUs * burst;
  const tat = storedTat === undefined || storedTat < nowUs ? nowUs : storedTat;
  const newTat = tat + intervalUs;
  if (newTat - nowUs > toleranceUs) {
    return {
      allowed: false,
      tat,
      // Rejection means less than one interval of tolerance is left: nothing remains.
      remaining: 0,
      resetUs: tat - nowUs,
      retryAfterUs: newTat - nowUs - toleranceUs,
    };
  }
  return {
    allowed: true,
    tat: newTat,
    remaining: Math.floor((toleranceUs - (newTat - nowUs)) / intervalUs),
    resetUs: newTat - nowUs,
    retryAfterUs: 0,
  };
}

/**
 * An admitting verdict as it stands when the request is rejected by another limit and so
 * consumes nothing here: one more remaining, the reset one interval sooner.
 */
export function unconsumed(verdict: GcraVerdict, params: GcraParams): GcraVerdict {
  if (!verdict.allowed) return verdict;
  return { allowed: true, tat: verdict.tat - params.intervalUs, remaining: verdict.remaining + 1, resetUs: verdict.resetUs - params.intervalUs, retryAfterUs: 0 };
}

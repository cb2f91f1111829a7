import type { Parameters } from "fast-check";

/**
 * fast-check settings for property tests of parsers and codecs. In `npm test` they run a fixed
 * seed and the given number of runs, so CI is repeatable; `npm run fuzz` sets `FUZZ_RUNS` (and
 * optionally `FUZZ_SEED`) for a long run with a fresh seed, printed by fast-check on failure.
 */
export function fuzzRuns<T = unknown>(numRuns: number): Parameters<T> {
  const longRuns = Number(process.env.FUZZ_RUNS);
  if (Number.isInteger(longRuns) && longRuns > 0) {
    const seed = Number(process.env.FUZZ_SEED);
    return { numRuns: Math.max(numRuns, longRuns), ...(Number.isInteger(seed) && { seed }) };
  }
  return { numRuns, seed: FIXED_SEED };
}

/** The seed of the normal suite: a failure in CI reproduces locally with the same runs. */
export const FIXED_SEED = 20261204;

// What bench/feature-cost.ts reports to bench/run.ts (a module of its own: feature-cost.ts runs when imported).

/** The line prefix of this process's JSON result. */
export const COST_RESULT_PREFIX = "FEATURE_COST ";

/** One gateway's added cost over the auth-off gateway. */
export interface FeatureCost {
  readonly variant: string;
  readonly description: string;
  /** Median over rounds of (this gateway's CPU per request - the auth-off gateway's, same round), µs. */
  readonly addedUsPerRequest: number;
  /** The same, as a share of the auth-off gateway's CPU per request (`baselineUsPerRequest`). */
  readonly shareOfRequest: number;
  /** Median over rounds of this gateway's CPU per request, µs. */
  readonly usPerRequest: number;
}

export interface FeatureCostResult {
  readonly rounds: number;
  readonly batch: number;
  readonly concurrency: number;
  readonly ratePerSecond: number;
  readonly route: string;
  /** Median over rounds of the auth-off gateway's CPU per request, µs. */
  readonly baselineUsPerRequest: number;
  readonly costs: readonly FeatureCost[];
}

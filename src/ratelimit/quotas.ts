import { selectorSpecificity } from "../config/selector.js";
import { gcraParams, type GcraParams } from "./gcra.js";
import type { LimitConfig, LimitKey, RateLimitConfig } from "./rate-limit-config.js";

/** One limit's quota for one method and caller tier, ready for the hot path. */
export interface ResolvedQuota {
  readonly limitName: string;
  /** Bucket keys start with this: limit, the override's selector, the tier; the caller's value follows. */
  readonly bucketPrefix: string;
  readonly requests: number;
  readonly periodSeconds: number;
  readonly params: GcraParams;
  /** The per-replica limit used when the shared store is down and the limit fails open. */
  readonly fallbackParams: GcraParams;
  /** This quota as an item of the RateLimit-Policy field. */
  readonly policyItem: string;
}

/** A limit as it applies to one method. */
export interface MethodLimit {
  readonly name: string;
  readonly key: LimitKey;
  readonly failOpen: boolean;
  /** The quota for a caller tier: the tier's own when the level lists it, else the level's. */
  quotaFor(tier: string): ResolvedQuota;
}

interface QuotaLevel {
  readonly selector: string;
  readonly requests: number;
  readonly periodSeconds: number;
  readonly burst?: number;
  readonly tiers: Readonly<Record<string, { requests: number; periodSeconds: number; burst?: number }>>;
}

/** The limits that apply to `service`.`method`, in config order, each at its most specific level. */
export function limitsForMethod(config: RateLimitConfig, service: string, method: string): MethodLimit[] {
  const limits: MethodLimit[] = [];
  for (const limit of config.limits) {
    if (!limit.methods.some((selector) => selectorSpecificity(selector, service, method) > 0)) continue;
    limits.push(methodLimit(limit, levelFor(limit, service, method), config.redis.localFallbackShare));
  }
  return limits;
}

function levelFor(limit: LimitConfig, service: string, method: string): QuotaLevel {
  let best: QuotaLevel = { ...limit, selector: "" };
  let bestSpecificity = 0;
  for (const override of limit.overrides) {
    const specificity = selectorSpecificity(override.selector, service, method);
    if (specificity > bestSpecificity) {
      best = override;
      bestSpecificity = specificity;
    }
  }
  return best;
}

function methodLimit(limit: LimitConfig, level: QuotaLevel, fallbackShare: number): MethodLimit {
  const resolve = (tier: string | undefined): ResolvedQuota => {
    const quota = tier === undefined ? level : level.tiers[tier];
    const burst = quota.burst ?? quota.requests;
    return {
      limitName: limit.name,
      bucketPrefix: `${limit.name}|${level.selector}|${tier ?? ""}|`,
      requests: quota.requests,
      periodSeconds: quota.periodSeconds,
      params: gcraParams(quota.requests, quota.periodSeconds, burst),
      fallbackParams: gcraParams(Math.max(1, quota.requests * fallbackShare), quota.periodSeconds, Math.max(1, Math.floor(burst * fallbackShare))),
      policyItem: `"${limit.name}";q=${quota.requests};w=${quota.periodSeconds}`,
    };
  };
  const base = resolve(undefined);
  const byTier = new Map(Object.keys(level.tiers).map((tier) => [tier, resolve(tier)]));
  return {
    name: limit.name,
    key: limit.key,
    failOpen: limit.onStoreFailure === "fail-open",
    quotaFor: (tier) => byTier.get(tier) ?? base,
  };
}

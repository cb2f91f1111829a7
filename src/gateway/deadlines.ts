import type { GatewayConfig } from "../config/schema.js";
import { selectorSpecificity } from "../config/selector.js";

/**
 * The value the most specific matching rule gives (`pkg.Svc.Method` beats `pkg.Svc.*` beats `*`),
 * skipping rules that do not set it; undefined when none does.
 */
function mostSpecific<Rule extends { selector: string }>(rules: readonly Rule[], service: string, method: string, valueOf: (rule: Rule) => number | undefined): number | undefined {
  let best: { specificity: number; value: number } | undefined;
  for (const rule of rules) {
    const value = valueOf(rule);
    if (value === undefined) continue;
    const specificity = selectorSpecificity(rule.selector, service, method);
    if (specificity > 0 && (!best || specificity > best.specificity)) best = { specificity, value };
  }
  return best?.value;
}

/** The default deadline of one unary RPC: the most specific matching rule, else `deadlines.defaultMs`. */
export function routeDeadlineMs(config: GatewayConfig["deadlines"], service: string, method: string): number {
  return mostSpecific(config.rules, service, method, (rule) => rule.ms) ?? config.defaultMs;
}

/** The time limits of one streaming RPC; undefined: none. */
export interface StreamTimeLimits {
  readonly deadlineMs: number | undefined;
  readonly idleTimeoutMs: number | undefined;
}

/**
 * The time limits of one streaming RPC from `deadlines.streams`: each from the most specific rule
 * that sets it, else the stream defaults; 0 means none.
 */
export function streamTimeLimits(config: GatewayConfig["deadlines"]["streams"], service: string, method: string): StreamTimeLimits {
  const deadlineMs = mostSpecific(config.rules, service, method, (rule) => rule.ms) ?? config.defaultMs;
  const idleTimeoutMs = mostSpecific(config.rules, service, method, (rule) => rule.idleTimeoutMs) ?? config.idleTimeoutMs;
  return { deadlineMs: deadlineMs === 0 ? undefined : deadlineMs, idleTimeoutMs: idleTimeoutMs === 0 ? undefined : idleTimeoutMs };
}

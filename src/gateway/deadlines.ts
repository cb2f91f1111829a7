import type { GatewayConfig } from "../config/schema.js";
import { selectorSpecificity } from "../config/selector.js";

/**
 * The default deadline of one RPC: the most specific matching rule (`pkg.Svc.Method` beats
 * `pkg.Svc.*` beats `*`), else `deadlines.defaultMs`.
 */
export function routeDeadlineMs(config: GatewayConfig["deadlines"], service: string, method: string): number {
  let best: { specificity: number; ms: number } | undefined;
  for (const rule of config.rules) {
    const specificity = selectorSpecificity(rule.selector, service, method);
    if (specificity > 0 && (!best || specificity > best.specificity)) best = { specificity, ms: rule.ms };
  }
  return best?.ms ?? config.defaultMs;
}

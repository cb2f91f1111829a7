import type { AnyBinding } from "../binding.js";

/**
 * The `upstreams` key whose address serves a binding: its own service when that is configured
 * (so `--upstream google.longrunning.Operations=HOST:PORT` sends every operation route there),
 * else the service it borrows the upstream of (`upstreamService`: the API whose methods return
 * the operations), else its own service (then unconfigured: the route answers 503).
 */
export function upstreamServiceOf(binding: Pick<AnyBinding, "service" | "upstreamService">, configured: (service: string) => boolean): string {
  if (configured(binding.service) || binding.upstreamService === undefined) return binding.service;
  return binding.upstreamService;
}

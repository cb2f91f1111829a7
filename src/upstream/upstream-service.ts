import type { AnyBinding } from "../binding.js";

/**
 * The `upstreams` key whose address serves a binding: its own service when that is configured
 * (so `--upstream google.longrunning.Operations=HOST:PORT` sends every operation route there),
 * else the first configured of the services it may borrow an upstream from (`upstreamServices`:
 * the API services whose methods return the operations). With none configured: the name to
 * configure (the first candidate, else its own service); the route then answers 503.
 */
export function upstreamServiceOf(binding: Pick<AnyBinding, "service" | "upstreamServices">, configured: (service: string) => boolean): string {
  const candidates = binding.upstreamServices ?? [];
  if (configured(binding.service) || candidates.length === 0) return binding.service;
  return candidates.find(configured) ?? candidates[0];
}

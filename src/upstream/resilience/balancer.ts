import type { Endpoint } from "./endpoint.js";
import type { BalancingPolicy } from "./resilience-options.js";

/** Which addresses a scan may take. */
const enum Eligible {
  /** In rotation and not among those to avoid (a retry's earlier addresses). */
  Fresh,
  /** In rotation. */
  InRotation,
  /** Listed and not to avoid, in rotation or not: when none is in rotation (panic routing, as Envoy's). */
  ListedFresh,
  /** Any address still listed. */
  Listed,
}

/**
 * Picks the address of each call among those in rotation (healthy, not ejected):
 * - `round_robin`: each in turn;
 * - `least_request`: the one with the fewest calls in flight, ties taken in turn. Every address is
 *   compared (not Envoy's two random choices): an upstream has a handful of addresses, so the
 *   exact answer costs a few comparisons.
 * A retry passes the addresses it tried, which are avoided while another is in rotation. When
 * no address is in rotation (all failing health checks), every listed one is eligible again
 * rather than failing every call (Envoy's panic routing, at a threshold of zero). Outlier
 * detection never ejects the last address in rotation, so only health checks get there.
 */
export class Balancer {
  /** Where the next scan starts. */
  private next = 0;

  constructor(private readonly policy: BalancingPolicy) {}

  /**
   * The address for a call: in rotation and not in `avoid` if there is one; else (`repeat`) one
   * of `avoid` in rotation; else, with none in rotation, any listed one (not in `avoid` first).
   * Undefined only for an empty list, or when `repeat` is false and every address is in `avoid`.
   */
  pick(endpoints: readonly Endpoint[], avoid?: readonly Endpoint[], repeat = true): Endpoint | undefined {
    if (endpoints.length === 0) return undefined;
    if (avoid === undefined) return this.scan(endpoints, Eligible.InRotation, undefined) ?? this.scan(endpoints, Eligible.Listed, undefined);
    return (
      this.scan(endpoints, Eligible.Fresh, avoid) ??
      (repeat ? this.scan(endpoints, Eligible.InRotation, undefined) : undefined) ??
      this.scan(endpoints, Eligible.ListedFresh, avoid) ??
      (repeat ? this.scan(endpoints, Eligible.Listed, undefined) : undefined)
    );
  }

  private scan(endpoints: readonly Endpoint[], eligible: Eligible, avoid: readonly Endpoint[] | undefined): Endpoint | undefined {
    const n = endpoints.length;
    const start = this.next % n;
    let best: Endpoint | undefined;
    let bestIndex = 0;
    for (let k = 0; k < n; k++) {
      const index = (start + k) % n;
      const endpoint = endpoints[index];
      if (!isEligible(endpoint, eligible, avoid)) continue;
      if (this.policy === "round_robin") {
        this.next = index + 1;
        return endpoint;
      }
      if (best === undefined || endpoint.active < best.active) {
        best = endpoint;
        bestIndex = index;
      }
    }
    // least_request: the next scan starts after the pick, so that ties are taken in turn.
    if (best !== undefined) this.next = bestIndex + 1;
    return best;
  }
}

function isEligible(endpoint: Endpoint, eligible: Eligible, avoid: readonly Endpoint[] | undefined): boolean {
  switch (eligible) {
    case Eligible.Fresh:
      return endpoint.available && !(avoid as readonly Endpoint[]).includes(endpoint);
    case Eligible.InRotation:
      return endpoint.available;
    case Eligible.ListedFresh:
      return !endpoint.removed && !(avoid as readonly Endpoint[]).includes(endpoint);
    case Eligible.Listed:
      return !endpoint.removed;
  }
}

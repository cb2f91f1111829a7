import type { Endpoint } from "./endpoint.js";
import type { OutlierDetectionOptions } from "./resilience-options.js";

/**
 * Outlier detection over one upstream's addresses (Envoy's consecutive gateway failures): an
 * address whose calls fail `consecutiveFailures` times in a row (a connection failure or an
 * UNAVAILABLE answer; see outcome.ts) is taken out of rotation for `baseEjectionMs` times the
 * number of its ejections so far, at most `maxEjectionMs`, then returns by itself. The multiplier
 * decays by one for every `baseEjectionMs` the address then behaves, so an address that failed
 * once long ago is not punished as a repeat offender.
 *
 * At most `maxEjectionPercent` of the addresses are ejected at once, rounded down, but one of
 * two or more always may be (Envoy: "will eject at least one host regardless of the value"), and
 * never the last one in rotation: with every address ejected the balancer would route to them
 * anyway, and the circuit breaker is the tool for a whole upstream that fails. A lone address is
 * never ejected for the same reason.
 *
 * Returns are lazy: the balanced upstream calls `refresh` before it picks while any address is
 * ejected, so no timer runs and a call pays one comparison when none is.
 */
export class OutlierDetector {
  /** Addresses ejected now. */
  ejected = 0;

  constructor(
    private readonly options: OutlierDetectionOptions,
    private readonly now: () => number,
    /** Told of each ejection (metrics, logs). */
    private readonly onEject: (endpoint: Endpoint, durationMs: number) => void,
  ) {}

  /** A call on `endpoint` was answered (the address works): its run of failures ends. */
  success(endpoint: Endpoint): void {
    endpoint.consecutiveFailures = 0;
  }

  /** A call on `endpoint` failed for the address's sake; ejects it when the run is long enough and the cap allows. */
  failure(endpoint: Endpoint, endpoints: readonly Endpoint[]): void {
    if (++endpoint.consecutiveFailures < this.options.consecutiveFailures || endpoint.ejectedUntil !== 0 || endpoint.removed) return;
    if (this.ejected >= maxEjected(endpoints, this.options.maxEjectionPercent)) return;
    if (!hasOtherInRotation(endpoint, endpoints)) return;
    const now = this.now();
    const base = this.options.baseEjectionMs;
    if (endpoint.returnedAt !== 0) endpoint.timesEjected = Math.max(0, endpoint.timesEjected - Math.floor((now - endpoint.returnedAt) / base));
    endpoint.timesEjected++;
    const durationMs = Math.min(base * endpoint.timesEjected, Math.max(base, this.options.maxEjectionMs));
    // Never 0: 0 means "not ejected".
    endpoint.ejectedUntil = Math.max(1, now + durationMs);
    endpoint.refresh();
    this.ejected++;
    this.onEject(endpoint, durationMs);
  }

  /** Returns the addresses whose ejection is over. */
  refresh(endpoints: readonly Endpoint[]): void {
    const now = this.now();
    for (const endpoint of endpoints) {
      if (endpoint.ejectedUntil === 0 || endpoint.ejectedUntil > now) continue;
      this.release(endpoint, now);
    }
  }

  /** `endpoint` leaves the list (DNS): it no longer counts against the cap. */
  forget(endpoint: Endpoint): void {
    if (endpoint.ejectedUntil !== 0) this.release(endpoint, this.now());
  }

  private release(endpoint: Endpoint, now: number): void {
    endpoint.ejectedUntil = 0;
    endpoint.returnedAt = now;
    endpoint.consecutiveFailures = 0;
    endpoint.refresh();
    this.ejected--;
  }
}

/** How many of these addresses may be ejected at once (see `OutlierDetector`). */
export function maxEjected(endpoints: readonly Endpoint[], maxEjectionPercent: number): number {
  let listed = 0;
  for (const endpoint of endpoints) if (!endpoint.removed) listed++;
  if (listed < 2) return 0;
  return Math.min(listed - 1, Math.max(1, Math.floor((listed * maxEjectionPercent) / 100)));
}

function hasOtherInRotation(endpoint: Endpoint, endpoints: readonly Endpoint[]): boolean {
  for (const other of endpoints) if (other !== endpoint && other.available) return true;
  return false;
}

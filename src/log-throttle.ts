/** Where throttled lines go (pino's warn, as Fastify's logger has it). */
export interface WarnLog {
  warn(details: object, message: string): void;
}

/**
 * Logs a kind of event at most once per `intervalMs` per key, so that a fault hit by every
 * request (a down upstream under load, a connection flood) costs one log line per interval, not
 * one per request: the first event of an interval is logged at once with its details, and the
 * next line says how many were held back since (`suppressed`).
 */
export function createLogThrottle(log: WarnLog, intervalMs = 10_000, now: () => number = Date.now): (key: string, details: object, message: string) => void {
  const state = new Map<string, { until: number; suppressed: number }>();
  return (key, details, message) => {
    const time = now();
    const entry = state.get(key);
    if (entry !== undefined && time < entry.until) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    // Keys are bounded (routes, reasons); dropping the expired ones keeps the map small anyway.
    if (state.size > 1_000) for (const [k, e] of state) if (time >= e.until) state.delete(k);
    state.set(key, { until: time + intervalMs, suppressed: 0 });
    log.warn(suppressed > 0 ? { ...details, suppressed } : details, message);
  };
}

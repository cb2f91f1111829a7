import type { LoadResult } from "./latency-recorder.js";
import type { TargetFamily } from "./targets.js";

/** One measured (target, route) pair. */
export interface Measurement extends LoadResult {
  readonly target: string;
  readonly family: TargetFamily;
  readonly route: string;
  readonly routeLabel: string;
}

/** A Protogate variant compared with a baseline on one route (> 1 means Protogate is higher). */
export interface Ratio {
  readonly variant: string;
  readonly baseline: string;
  readonly route: string;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** Every Protogate variant against the hand-written proxy and against direct calls, per route. */
export function computeRatios(measurements: readonly Measurement[]): Ratio[] {
  const ratios: Ratio[] = [];
  for (const variant of measurements.filter((m) => m.family === "protogate")) {
    for (const family of ["proxy", "direct"] as const) {
      const baseline = measurements.find((m) => m.family === family && m.route === variant.route);
      if (!baseline) continue;
      ratios.push({
        variant: variant.target,
        baseline: baseline.target,
        route: variant.route,
        requestsPerSecond: variant.requestsPerSecond / baseline.requestsPerSecond,
        p50: variant.p50Ms / baseline.p50Ms,
        p99: variant.p99Ms / baseline.p99Ms,
      });
    }
  }
  return ratios;
}

/** Whether a run had failures, which make its numbers meaningless. */
export function hasFailures(measurement: LoadResult): boolean {
  return measurement.errors > 0 || measurement.non2xx > 0;
}

/** The results table, one row per measurement. */
export function formatMeasurements(measurements: readonly Measurement[]): string {
  const rows = measurements.map((m) => [
    m.target,
    m.routeLabel,
    m.requestsPerSecond.toFixed(0),
    m.p50Ms.toFixed(2),
    m.p99Ms.toFixed(2),
    `${m.errors} / ${m.non2xx}${hasFailures(m) ? `  FAILED ${JSON.stringify(m.statusCodes)}` : ""}`,
  ]);
  return formatTable(["target", "route", "req/s", "p50 ms", "p99 ms", "errors / non-2xx"], rows);
}

/** The ratios table. */
export function formatRatios(ratios: readonly Ratio[], labels: ReadonlyMap<string, string>): string {
  const rows = ratios.map((r) => [`${r.variant} / ${r.baseline}`, labels.get(r.route) ?? r.route, `${r.requestsPerSecond.toFixed(2)}x`, `${r.p50.toFixed(2)}x`, `${r.p99.toFixed(2)}x`]);
  return formatTable(["ratio", "route", "req/s", "p50", "p99"], rows);
}

function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => (column >= 2 && column < 5 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join("  ").trimEnd();
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}

import type { LoadResult } from "./latency-recorder.js";
import type { FeatureCostResult } from "./feature-cost-result.js";
import type { TargetFamily } from "./targets.js";

/** One measured (target, route) pair in one round. */
export interface Measurement extends LoadResult {
  readonly target: string;
  readonly family: TargetFamily;
  readonly route: string;
  readonly routeLabel: string;
  /** 1-based. */
  readonly round: number;
}

/** A (target, route) pair over all its measured rounds. */
export interface PairSummary {
  readonly target: string;
  readonly family: TargetFamily;
  readonly route: string;
  readonly routeLabel: string;
  /** Rounds that produced a measurement. */
  readonly rounds: number;
  /** Medians across rounds. */
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly minRequestsPerSecond: number;
  readonly maxRequestsPerSecond: number;
  /** Median over rounds of the CPU time of the process under test per request (µs); NaN where unmeasured. */
  readonly cpuUsPerRequest: number;
  /** Summed over rounds. */
  readonly errors: number;
  readonly non2xx: number;
  readonly statusCodes: Readonly<Record<string, number>>;
}

/** A Protogate variant compared with a baseline on one route (> 1 means Protogate is higher). */
export interface Ratio {
  readonly variant: string;
  readonly baseline: string;
  readonly route: string;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /**
   * Baseline CPU per request / variant CPU per request: the throughput ratio a CPU-bound server
   * would show if it had its CPU to itself (> 1 means the variant is cheaper). Steadier than the
   * req/s ratio on a shared machine, where CPU stolen by neighbours lowers req/s but not this.
   */
  readonly cpuEfficiency: number;
}

/** The median (mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** One summary per (target, route) pair, in the order the pairs were first measured. */
export function summarize(measurements: readonly Measurement[]): PairSummary[] {
  const groups = new Map<string, Measurement[]>();
  for (const m of measurements) {
    const key = `${m.target}\u0000${m.route}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  return [...groups.values()].map((group) => {
    const rates = group.map((m) => m.requestsPerSecond);
    const statusCodes: Record<string, number> = {};
    for (const m of group) for (const [code, count] of Object.entries(m.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
    const { target, family, route, routeLabel } = group[0];
    return {
      target,
      family,
      route,
      routeLabel,
      rounds: group.length,
      requestsPerSecond: median(rates),
      p50Ms: median(group.map((m) => m.p50Ms)),
      p99Ms: median(group.map((m) => m.p99Ms)),
      minRequestsPerSecond: Math.min(...rates),
      maxRequestsPerSecond: Math.max(...rates),
      cpuUsPerRequest: median(group.flatMap((m) => (m.cpuUsPerRequest === undefined ? [] : [m.cpuUsPerRequest]))),
      errors: group.reduce((sum, m) => sum + m.errors, 0),
      non2xx: group.reduce((sum, m) => sum + m.non2xx, 0),
      statusCodes,
    };
  });
}

/** Every Protogate variant against the hand-written proxy and against direct calls, per route (from medians). */
export function computeRatios(summaries: readonly PairSummary[]): Ratio[] {
  const ratios: Ratio[] = [];
  for (const variant of summaries.filter((s) => s.family === "protogate")) {
    // Each variant against the baselines, and every other variant against plain `protogate` too
    // (e.g. the cost of authentication on a hot token).
    const baselines = [
      ...(variant.target === "protogate" ? [] : [summaries.find((s) => s.target === "protogate" && s.route === variant.route)]),
      summaries.find((s) => s.family === "proxy" && s.route === variant.route),
      summaries.find((s) => s.family === "direct" && s.route === variant.route),
    ];
    for (const baseline of baselines) {
      if (!baseline) continue;
      ratios.push({
        variant: variant.target,
        baseline: baseline.target,
        route: variant.route,
        requestsPerSecond: variant.requestsPerSecond / baseline.requestsPerSecond,
        p50: variant.p50Ms / baseline.p50Ms,
        p99: variant.p99Ms / baseline.p99Ms,
        cpuEfficiency: baseline.cpuUsPerRequest / variant.cpuUsPerRequest,
      });
    }
  }
  return ratios;
}

/** Whether a run (or a pair summed over rounds) had failures, which make its numbers meaningless. */
export function hasFailures(result: Pick<LoadResult, "errors" | "non2xx">): boolean {
  return result.errors > 0 || result.non2xx > 0;
}

/** The results table, one row per (target, route) pair. */
export function formatSummaries(summaries: readonly PairSummary[]): string {
  const rows = summaries.map((s) => [
    s.target,
    s.routeLabel,
    s.requestsPerSecond.toFixed(0),
    `${s.minRequestsPerSecond.toFixed(0)}-${s.maxRequestsPerSecond.toFixed(0)}`,
    `${((100 * (s.maxRequestsPerSecond - s.minRequestsPerSecond)) / s.requestsPerSecond).toFixed(1)}%`,
    s.p50Ms.toFixed(2),
    s.p99Ms.toFixed(2),
    Number.isNaN(s.cpuUsPerRequest) ? "-" : s.cpuUsPerRequest.toFixed(0),
    String(s.rounds),
    `${s.errors} / ${s.non2xx}${hasFailures(s) ? `  FAILED ${JSON.stringify(s.statusCodes)}` : ""}`,
  ]);
  return formatTable(["target", "route", "req/s", "min-max req/s", "spread", "p50 ms", "p99 ms", "CPU µs/req", "rounds", "errors / non-2xx"], rows, [2, 3, 4, 5, 6, 7, 8]);
}

/** The ratios table. */
export function formatRatios(ratios: readonly Ratio[], labels: ReadonlyMap<string, string>): string {
  const rows = ratios.map((r) => [
    `${r.variant} / ${r.baseline}`,
    labels.get(r.route) ?? r.route,
    `${r.requestsPerSecond.toFixed(2)}x`,
    Number.isNaN(r.cpuEfficiency) ? "-" : `${r.cpuEfficiency.toFixed(2)}x`,
    `${r.p50.toFixed(2)}x`,
    `${r.p99.toFixed(2)}x`,
  ]);
  return formatTable(["ratio", "route", "req/s", "CPU/req (inv.)", "p50", "p99"], rows, [2, 3, 4, 5]);
}

/** The feature-cost table: µs of CPU per request each feature adds, and its share of a request. */
export function formatFeatureCost(result: FeatureCostResult): string {
  const rows = result.costs.map((cost) => [
    `${cost.variant} - protogate`,
    cost.description,
    cost.addedUsPerRequest.toFixed(1),
    `${(100 * cost.shareOfRequest).toFixed(1)}%`,
  ]);
  return [
    `feature cost (${result.route}, ${result.rounds} rounds x ${result.batch} requests per gateway at ${result.ratePerSecond} req/s; medians of per-round differences;` +
      ` share of the ${result.baselineUsPerRequest.toFixed(0)} µs of CPU the auth-off gateway spends per request)`,
    formatTable(["difference", "feature", "+CPU µs/req", "share"], rows, [2, 3]),
  ].join("\n");
}

function formatTable(header: readonly string[], rows: readonly (readonly string[])[], numericColumns: readonly number[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => (numericColumns.includes(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join("  ").trimEnd();
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}

/** Issue 12's targets against the floor (a bare Fastify server replaying the same bytes). */
export const FLOOR_TARGETS = { maxCpuRatio: 3, minRequestsRatio: 0.3 } as const;

/** A Protogate variant against the floor on one route. */
export interface FloorVerdict {
  readonly variant: string;
  readonly route: string;
  readonly routeLabel: string;
  readonly cpuUsPerRequest: number;
  readonly floorCpuUsPerRequest: number;
  /** Variant CPU per request / floor's (NaN where either is unmeasured); the target is at most FLOOR_TARGETS.maxCpuRatio. */
  readonly cpuRatio: number;
  readonly requestsPerSecond: number;
  readonly floorRequestsPerSecond: number;
  /** Variant req/s / floor's; the target is at least FLOOR_TARGETS.minRequestsRatio. */
  readonly requestsRatio: number;
  /** undefined when the CPU was not measured. */
  readonly cpuMet: boolean | undefined;
  /** undefined under a fixed `--rate`, where every server answers the same req/s and the ratio says nothing. */
  readonly requestsMet: boolean | undefined;
}

/**
 * Every Protogate variant against the floor on the same route (from medians; pairs with failures
 * are left out). Under a fixed request rate only the CPU ratio is judged.
 */
export function judgeFloor(summaries: readonly PairSummary[], fixedRate = false): FloorVerdict[] {
  const usable = summaries.filter((s) => !hasFailures(s));
  const verdicts: FloorVerdict[] = [];
  for (const variant of usable.filter((s) => s.family === "protogate")) {
    const floor = usable.find((s) => s.family === "floor" && s.route === variant.route);
    if (!floor) continue;
    const cpuRatio = variant.cpuUsPerRequest / floor.cpuUsPerRequest;
    const requestsRatio = variant.requestsPerSecond / floor.requestsPerSecond;
    verdicts.push({
      variant: variant.target,
      route: variant.route,
      routeLabel: variant.routeLabel,
      cpuUsPerRequest: variant.cpuUsPerRequest,
      floorCpuUsPerRequest: floor.cpuUsPerRequest,
      cpuRatio,
      requestsPerSecond: variant.requestsPerSecond,
      floorRequestsPerSecond: floor.requestsPerSecond,
      requestsRatio,
      cpuMet: Number.isFinite(cpuRatio) ? cpuRatio <= FLOOR_TARGETS.maxCpuRatio : undefined,
      requestsMet: fixedRate ? undefined : requestsRatio >= FLOOR_TARGETS.minRequestsRatio,
    });
  }
  return verdicts;
}

/** One ok/MISSED line per variant, route and target, as the codegen bench prints its verdicts. */
export function formatFloor(verdicts: readonly FloorVerdict[]): string {
  const mark = (met: boolean | undefined, open: string) => (met === undefined ? open : met ? "ok" : "MISSED");
  const lines = ["against the floor (bare Fastify replaying the same bytes, same CPU; medians over rounds)"];
  for (const v of verdicts) {
    const cpu = Number.isFinite(v.cpuRatio) ? `${v.cpuUsPerRequest.toFixed(0)} / ${v.floorCpuUsPerRequest.toFixed(0)} µs = ${v.cpuRatio.toFixed(2)}x` : "n/a";
    lines.push(`  ${v.variant} ${v.routeLabel} CPU per request / floor's: ${cpu} (target <= ${FLOOR_TARGETS.maxCpuRatio}x) ${mark(v.cpuMet, "NOT MEASURED")}`);
    lines.push(
      `  ${v.variant} ${v.routeLabel} req/s / floor's: ${v.requestsPerSecond.toFixed(0)} / ${v.floorRequestsPerSecond.toFixed(0)} = ${v.requestsRatio.toFixed(2)}x (target >= ${FLOOR_TARGETS.minRequestsRatio}x) ${mark(v.requestsMet, "NOT JUDGED (fixed --rate)")}`,
    );
  }
  return lines.join("\n");
}

/**
 * CPU per request of a feature variant against the plain gateway's, at most: issue 12's (auth on
 * with a hot token, the memory rate limit), issue 13's (tracing at sampling 1.0) and issue 14's
 * upstream resilience (no figure in the issue: 5 %, since it adds a few field updates and one
 * async frame to the upstream call of ~25 µs).
 */
export const VARIANT_TARGETS: Readonly<Record<string, number>> = { "protogate-jwt": 1.1, "protogate-limit-memory": 1.1, "protogate-tracing": 1.1, "protogate-resilience": 1.05 };

/** Issue 13's: metrics and the access log (every request) together cost at most 5 % (their extra CPU added up). */
export const OBSERVED_TARGET = { variants: ["protogate-metrics", "protogate-accesslog"], maxCpuRatio: 1.05 } as const;

export interface VariantVerdict {
  readonly variant: string;
  readonly route: string;
  readonly routeLabel: string;
  /**
   * Variant CPU per request / the plain gateway's (for a sum of variants: 1 + their extra CPU
   * added up): the median over rounds of each round's ratio where the rounds are known (see
   * pairedCpuRatio), else the ratio of the medians.
   */
  readonly cpuRatio: number;
  /** The ratio of the two medians over rounds, for comparison. */
  readonly ratioOfMedians: number;
  readonly maxCpuRatio: number;
  readonly met: boolean | undefined;
}

/**
 * The median over rounds of `variant`'s CPU per request divided by the plain gateway's in the
 * same round. Within a round the two are measured minutes apart at most, while the machine's
 * speed drifts across a run (the plain GET read 48, 57, then 72 µs over three rounds of one run):
 * pairing by round cancels that drift, which a ratio of medians taken from different rounds does
 * not. NaN when no round measured both.
 */
export function pairedCpuRatio(measurements: readonly Measurement[], variant: string, route: string): number {
  const cpuOf = (target: string) => new Map(measurements.filter((m) => m.target === target && m.route === route && m.cpuUsPerRequest !== undefined && m.errors === 0 && m.non2xx === 0).map((m) => [m.round, m.cpuUsPerRequest as number]));
  const plain = cpuOf("protogate");
  const ratios = [...cpuOf(variant)].flatMap(([round, cpu]) => {
    const base = plain.get(round);
    return base === undefined ? [] : [cpu / base];
  });
  return median(ratios);
}

/**
 * The feature variants against the plain gateway on the same route (pairs with failures left
 * out): per-round ratios when `measurements` are given (pairedCpuRatio), else ratios of medians.
 */
export function judgeVariants(summaries: readonly PairSummary[], measurements: readonly Measurement[] = []): VariantVerdict[] {
  const usable = summaries.filter((s) => !hasFailures(s));
  const ratioOf = (variant: PairSummary, plain: PairSummary): { cpuRatio: number; ratioOfMedians: number } => {
    const ratioOfMedians = variant.cpuUsPerRequest / plain.cpuUsPerRequest;
    const paired = pairedCpuRatio(measurements, variant.target, plain.route);
    return { cpuRatio: Number.isNaN(paired) ? ratioOfMedians : paired, ratioOfMedians };
  };
  const verdict = (variant: string, plain: PairSummary, ratios: { cpuRatio: number; ratioOfMedians: number }, maxCpuRatio: number): VariantVerdict => ({
    variant,
    route: plain.route,
    routeLabel: plain.routeLabel,
    ...ratios,
    maxCpuRatio,
    met: Number.isFinite(ratios.cpuRatio) ? ratios.cpuRatio <= maxCpuRatio : undefined,
  });
  const verdicts: VariantVerdict[] = [];
  for (const variant of usable.filter((s) => VARIANT_TARGETS[s.target] !== undefined)) {
    const plain = usable.find((s) => s.target === "protogate" && s.route === variant.route);
    if (plain) verdicts.push(verdict(variant.target, plain, ratioOf(variant, plain), VARIANT_TARGETS[variant.target]));
  }
  for (const plain of usable.filter((s) => s.target === "protogate")) {
    const parts = OBSERVED_TARGET.variants.map((name) => usable.find((s) => s.target === name && s.route === plain.route));
    if (parts.some((part) => part === undefined)) continue;
    const ratios = parts.map((part) => ratioOf(part as PairSummary, plain));
    const sumOfExtra = (pick: (r: { cpuRatio: number; ratioOfMedians: number }) => number) => 1 + ratios.reduce((sum, r) => sum + pick(r) - 1, 0);
    verdicts.push(verdict(OBSERVED_TARGET.variants.join(" + "), plain, { cpuRatio: sumOfExtra((r) => r.cpuRatio), ratioOfMedians: sumOfExtra((r) => r.ratioOfMedians) }, OBSERVED_TARGET.maxCpuRatio));
  }
  return verdicts;
}

/** Issue 14's comparison (reported, no target): --workers 2 against --workers 1, req/s and CPU per request, per route. */
export const WORKERS_PAIR = { baseline: "protogate-workers-1", workers: "protogate-workers-2" } as const;

export function formatWorkers(summaries: readonly PairSummary[]): string | undefined {
  const usable = summaries.filter((s) => !hasFailures(s));
  const lines: string[] = [];
  for (const one of usable.filter((s) => s.target === WORKERS_PAIR.baseline)) {
    const two = usable.find((s) => s.target === WORKERS_PAIR.workers && s.route === one.route);
    if (two === undefined) continue;
    lines.push(`  ${one.routeLabel}: req/s ${(two.requestsPerSecond / one.requestsPerSecond).toFixed(2)}x, CPU per request ${(two.cpuUsPerRequest / one.cpuUsPerRequest).toFixed(2)}x`);
  }
  return lines.length === 0 ? undefined : ["--workers 2 / --workers 1 (every CPU, the load generator's too; medians over rounds)", ...lines].join("\n");
}

export function formatVariants(verdicts: readonly VariantVerdict[]): string {
  const lines = ["features on against the plain gateway (CPU per request: median of the per-round ratios; the ratio of the medians in brackets)"];
  for (const v of verdicts) {
    const verdict = v.met === undefined ? "NOT MEASURED" : v.met ? "ok" : "MISSED";
    lines.push(`  ${v.variant} / protogate ${v.routeLabel}: ${Number.isFinite(v.cpuRatio) ? `${v.cpuRatio.toFixed(3)}x [${v.ratioOfMedians.toFixed(3)}x]` : "n/a"} (target <= ${v.maxCpuRatio}x) ${verdict}`);
  }
  return lines.join("\n");
}

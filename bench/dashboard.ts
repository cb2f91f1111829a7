import { DASHBOARD_AGGREGATE } from "../src/demo/dashboard-aggregate.js";
import { DASHBOARD_PATHS, type DashboardMode } from "./dashboard-paths.js";
import type { LoadResult } from "./latency-recorder.js";
import { hasFailures, median } from "./report.js";
import { protogateTarget, runLoadProcess, type BenchContext } from "./targets.js";

/** One round: the aggregate route and the three REST calls, each loaded for the same time. */
export interface DashboardRound {
  readonly aggregate: LoadResult;
  readonly rest: LoadResult;
}

/** The dashboard measurement (issue 15): medians over the rounds; a "request" is one whole dashboard. */
export interface DashboardResult {
  readonly rounds: readonly DashboardRound[];
  readonly aggregate: DashboardSummary;
  readonly rest: DashboardSummary;
  /** aggregate / REST dashboards per second. */
  readonly throughputRatio: number;
  /** aggregate / REST p50 latency of a dashboard. */
  readonly p50Ratio: number;
  /** aggregate / REST gateway CPU per dashboard (undefined where unmeasured). */
  readonly cpuRatio: number | undefined;
  readonly failed: boolean;
}

export interface DashboardSummary {
  readonly dashboardsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerDashboard: number | undefined;
}

/**
 * The demo's mobileDashboard aggregate against a client making its three REST calls itself
 * (GetUser and ListOrders in parallel, then ListRecommendations), through one plain Protogate
 * (auth off, the aggregate configured) on the server CPUs, against the bench's backend, with the
 * same keep-alive load client (bench/dashboard-load.ts) on the load CPUs; modes alternate within
 * each round so machine drift hits both alike.
 */
export async function measureDashboard(context: BenchContext, rounds: number, warmupSeconds: number): Promise<DashboardResult> {
  const gateway = await protogateTarget({ name: "protogate-dashboard", description: "Protogate serve, auth off, the demo's mobileDashboard aggregate", config: { aggregates: [DASHBOARD_AGGREGATE] } }).start(context);
  try {
    const base = gateway.base;
    if (base === undefined) throw new Error("the dashboard gateway has no base URL");
    await checkAnswers(base);
    const measured: DashboardRound[] = [];
    const load = (mode: DashboardMode, round: number) =>
      runLoadProcess(`dashboard ${mode}`, "bench/dashboard-load.ts", ["--url", base, "--mode", mode, "--server-pid", String(gateway.pid)], context.settings, round === 1 ? warmupSeconds : Math.min(warmupSeconds, 1), context.loadAffinity);
    for (let round = 1; round <= rounds; round++) {
      const aggregate = await load("aggregate", round);
      const rest = await load("rest", round);
      measured.push({ aggregate, rest });
    }
    return summarizeDashboard(measured);
  } finally {
    await gateway.stop();
  }
}

/** Both ways answer what they should before anything is measured (the aggregate's three keys; REST: the user, orders, recommendations). */
async function checkAnswers(base: string): Promise<void> {
  const getJson = async (path: string) => {
    const response = await fetch(base + path);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`dashboard: GET ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const aggregate = await getJson(DASHBOARD_PATHS.aggregate);
  if (!["user", "orders", "recommendations"].every((key) => key in aggregate) || "errors" in aggregate) throw new Error(`dashboard: the aggregate answered ${JSON.stringify(aggregate).slice(0, 300)}`);
  const user = await getJson(DASHBOARD_PATHS.user);
  await getJson(DASHBOARD_PATHS.orders);
  await getJson(DASHBOARD_PATHS.recommendations(String(user.region ?? "")));
}

export function summarizeDashboard(rounds: readonly DashboardRound[]): DashboardResult {
  const summary = (runs: readonly LoadResult[]): DashboardSummary => {
    const cpu = runs.map((run) => run.cpuUsPerRequest).filter((value): value is number => value !== undefined);
    return {
      dashboardsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
      p50Ms: median(runs.map((run) => run.p50Ms)),
      p99Ms: median(runs.map((run) => run.p99Ms)),
      cpuUsPerDashboard: cpu.length === runs.length && cpu.length > 0 ? median(cpu) : undefined,
    };
  };
  const aggregate = summary(rounds.map((round) => round.aggregate));
  const rest = summary(rounds.map((round) => round.rest));
  return {
    rounds,
    aggregate,
    rest,
    throughputRatio: aggregate.dashboardsPerSecond / rest.dashboardsPerSecond,
    p50Ratio: aggregate.p50Ms / rest.p50Ms,
    cpuRatio: aggregate.cpuUsPerDashboard !== undefined && rest.cpuUsPerDashboard !== undefined ? aggregate.cpuUsPerDashboard / rest.cpuUsPerDashboard : undefined,
    failed: rounds.some((round) => hasFailures(round.aggregate) || hasFailures(round.rest)),
  };
}

export function formatDashboard(result: DashboardResult): string {
  const line = (name: string, s: DashboardSummary) =>
    `  ${name.padEnd(34)} ${s.dashboardsPerSecond.toFixed(0).padStart(7)} dashboards/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms${s.cpuUsPerDashboard === undefined ? "" : `  gateway CPU ${s.cpuUsPerDashboard.toFixed(0)} µs/dashboard`}`;
  return [
    `dashboard aggregate (issue 15), medians over ${result.rounds.length} round(s)${result.failed ? " (WITH FAILURES)" : ""}:`,
    line("GET /api/mobile/dashboard/u-1", result.aggregate),
    line("3 REST calls by the client", result.rest),
    `  aggregate / REST: ${result.throughputRatio.toFixed(2)}x dashboards/s, ${result.p50Ratio.toFixed(2)}x p50 latency${result.cpuRatio === undefined ? "" : `, ${result.cpuRatio.toFixed(2)}x gateway CPU per dashboard`}`,
  ].join("\n");
}

import { describe, expect, it } from "vitest";
import { formatDashboard, summarizeDashboard, type DashboardRound } from "../../bench/dashboard.js";
import type { LoadResult } from "../../bench/latency-recorder.js";
import { parseBenchOptions } from "../../bench/options.js";

function run(dashboardsPerSecond: number, p50Ms: number, cpuUsPerRequest?: number, extra: Partial<LoadResult> = {}): LoadResult {
  return { requests: dashboardsPerSecond * 10, durationSeconds: 10, requestsPerSecond: dashboardsPerSecond, p50Ms, p99Ms: p50Ms * 3, errors: 0, non2xx: 0, statusCodes: {}, ...(cpuUsPerRequest !== undefined && { cpuUsPerRequest }), ...extra };
}

describe("the dashboard bench report", () => {
  it("medians over rounds, aggregate / REST ratios of dashboards/s, p50 and gateway CPU", () => {
    const rounds: DashboardRound[] = [
      { aggregate: run(900, 2, 300), rest: run(400, 5, 600) },
      { aggregate: run(1000, 1, 200), rest: run(500, 4, 500) },
      { aggregate: run(1100, 3, 250), rest: run(600, 6, 400) },
    ];
    const result = summarizeDashboard(rounds);
    expect(result.aggregate).toEqual({ dashboardsPerSecond: 1000, p50Ms: 2, p99Ms: 6, cpuUsPerDashboard: 250 });
    expect(result.rest).toEqual({ dashboardsPerSecond: 500, p50Ms: 5, p99Ms: 15, cpuUsPerDashboard: 500 });
    expect(result.throughputRatio).toBe(2);
    expect(result.p50Ratio).toBe(0.4);
    expect(result.cpuRatio).toBe(0.5);
    expect(result.failed).toBe(false);
    const text = formatDashboard(result);
    expect(text).toContain("aggregate / REST: 2.00x dashboards/s, 0.40x p50 latency, 0.50x gateway CPU per dashboard");
    expect(text).toMatch(/GET \/api\/mobile\/dashboard\/u-1 +1000 dashboards\/s/);
  });

  it("a round with failed dashboards fails the measurement; CPU unmeasured in a round leaves its ratio out", () => {
    const result = summarizeDashboard([{ aggregate: run(900, 2, undefined, { non2xx: 3 }), rest: run(400, 5, 600) }]);
    expect(result.failed).toBe(true);
    expect(result.cpuRatio).toBeUndefined();
    expect(formatDashboard(result)).toContain("(WITH FAILURES)");
    expect(formatDashboard(result)).not.toContain("gateway CPU per dashboard");
  });

  it("--dashboard-rounds: 3 by default, 0 skips it, and it is checked like the other counts", () => {
    expect(parseBenchOptions([]).dashboardRounds).toBe(3);
    expect(parseBenchOptions(["--dashboard-rounds", "0"]).dashboardRounds).toBe(0);
    expect(() => parseBenchOptions(["--dashboard-rounds=-1"])).toThrow(/--dashboard-rounds must be a number from 0/);
  });
});

import { describe, expect, it } from "vitest";
import { computeRatios, formatFeatureCost, median, summarize, type PairSummary } from "../../bench/report.js";

type Measurement = Parameters<typeof summarize>[0][number];

function measurement(target: string, family: PairSummary["family"], requestsPerSecond: number, extra: Partial<Measurement> = {}): Measurement {
  return {
    target,
    family,
    route: "get-user",
    routeLabel: "GET /v1/users/u-1",
    requests: requestsPerSecond * 10,
    durationSeconds: 10,
    requestsPerSecond,
    p50Ms: 1000 / requestsPerSecond,
    p99Ms: 4000 / requestsPerSecond,
    errors: 0,
    non2xx: 0,
    statusCodes: { "200": requestsPerSecond * 10 },
    ...extra,
  } as Measurement;
}

describe("bench report", () => {
  it.each([
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
    [[], Number.NaN],
  ])("median(%j) = %d", (values, expected) => {
    expect(median(values)).toEqual(expected);
  });

  it("summarises rounds with medians, the spread, and summed failures", () => {
    const [summary] = summarize([
      measurement("protogate", "protogate", 4000),
      measurement("protogate", "protogate", 6000, { non2xx: 2 }),
      measurement("protogate", "protogate", 5000),
    ]);
    expect(summary).toMatchObject({ rounds: 3, requestsPerSecond: 5000, minRequestsPerSecond: 4000, maxRequestsPerSecond: 6000, non2xx: 2 });
    expect(summary.statusCodes["200"]).toBe(150_000);
  });

  it("compares every variant with the baselines, and other variants with plain protogate", () => {
    const summaries = summarize([
      measurement("protogate", "protogate", 5000),
      measurement("protogate-jwt", "protogate", 4500),
      measurement("proxy", "proxy", 4000),
      measurement("direct", "direct", 10000),
    ]);
    const ratios = computeRatios(summaries).map((r) => [r.variant, r.baseline, Number(r.requestsPerSecond.toFixed(3))]);
    expect(ratios).toEqual([
      ["protogate", "proxy", 1.25],
      ["protogate", "direct", 0.5],
      ["protogate-jwt", "protogate", 0.9],
      ["protogate-jwt", "proxy", 1.125],
      ["protogate-jwt", "direct", 0.45],
    ]);
  });

  it("takes the median CPU per request over rounds and gives the inverse CPU ratio (NaN where unmeasured)", () => {
    const summaries = summarize([
      measurement("protogate", "protogate", 5000, { cpuUsPerRequest: 200 }),
      measurement("protogate", "protogate", 4000, { cpuUsPerRequest: 260 }),
      measurement("protogate", "protogate", 4500, { cpuUsPerRequest: 210 }),
      measurement("protogate-limit-memory", "protogate", 4400, { cpuUsPerRequest: 220 }),
      measurement("proxy", "proxy", 4000),
    ]);
    expect(summaries[0].cpuUsPerRequest).toBe(210);
    const [againstProtogate, againstProxy] = computeRatios(summaries).filter((r) => r.variant === "protogate-limit-memory");
    expect(againstProtogate.baseline).toBe("protogate");
    expect(againstProtogate.cpuEfficiency).toBeCloseTo(210 / 220, 10);
    expect(againstProxy.cpuEfficiency).toBeNaN();
  });

  it("prints each feature's added CPU per request and its share of the auth-off gateway's", () => {
    const text = formatFeatureCost({
      rounds: 15,
      batch: 2000,
      concurrency: 16,
      ratePerSecond: 2000,
      route: "GET /v1/users/u-1",
      baselineUsPerRequest: 250,
      costs: [{ variant: "protogate-limit-memory", description: "one limit, memory store", addedUsPerRequest: 5, shareOfRequest: 0.02, usPerRequest: 255 }],
    });
    expect(text).toContain("250 µs");
    expect(text).toMatch(/protogate-limit-memory - protogate\s+one limit, memory store\s+5\.0\s+2\.0%/);
  });
});

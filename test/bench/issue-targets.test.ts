import { describe, expect, it } from "vitest";
import { formatLatency, judgeLatency, latencyRate } from "../../bench/latency-target.js";
import { formatVariants, judgeVariants, summarize, type Measurement, type PairSummary } from "../../bench/report.js";
import { formatRss, formatRssMinutes, judgeRss, type RssSample } from "../../bench/rss-target.js";

describe("the latency target (p99 at half the saturated rate, at most 1 ms above direct grpc-js)", () => {
  it.each([
    // protogate p99, direct p99 -> difference, met
    [2.0, 1.0, 1.0, true],
    [2.01, 1.0, 1.01, false],
    [0.8, 1.2, -0.4, true],
    [47, 16, 31, false],
  ])("%d ms against %d ms", (protogate, direct, difference, met) => {
    const verdict = judgeLatency("get-user", "GET /v1/users/u-1", 5000, protogate, direct);
    expect(verdict.differenceMs).toBeCloseTo(difference, 10);
    expect(verdict.met).toBe(met);
    expect(formatLatency([verdict])).toContain(met ? " ok" : " MISSED");
  });

  it.each([
    [10_487.6, 5243],
    [1, 1],
    [0.4, 1],
  ])("loads at half of %d req/s: %d", (saturated, rate) => {
    expect(latencyRate(saturated)).toBe(rate);
  });
});

const MB = 1024 * 1024;
/** One sample every 5 s from -60 s (warm-up) to `seconds`, RSS from `rssAt`. */
function samples(seconds: number, rssAt: (at: number) => number): RssSample[] {
  const out: RssSample[] = [];
  for (let at = -60; at <= seconds; at += 5) out.push({ atSeconds: at, rssBytes: rssAt(at) });
  return out;
}

describe("the RSS target (peak within 10 % of the first 30 s of the measured window)", () => {
  it("is met by a flat run, whatever the warm-up did", () => {
    const verdict = judgeRss(
      samples(300, (at) => (at < 0 ? 400 * MB : 100 * MB + (at % 10) * 1000)),
      300,
    );
    expect(verdict.baselineBytes - 100 * MB).toBeGreaterThanOrEqual(0);
    expect(verdict.baselineBytes - 100 * MB).toBeLessThanOrEqual(5000);
    expect(verdict.peakGrowth).toBeLessThan(0.001);
    expect(verdict.met).toBe(true);
    expect(formatRss(verdict, 9000)).toMatch(/ok$/);
  });

  it("is missed by a steady leak of 15 % over the window", () => {
    const verdict = judgeRss(
      samples(300, (at) => 100 * MB * (1 + 0.15 * Math.max(0, at) / 300)),
      300,
    );
    expect(verdict.finalBytes).toBeGreaterThan(113 * MB);
    expect(verdict.peakGrowth).toBeGreaterThan(0.1);
    expect(verdict.met).toBe(false);
    expect(formatRss(verdict, 9000)).toMatch(/MISSED$/);
  });

  it("is missed by one spike above 10 % even when the end is back down", () => {
    const verdict = judgeRss(samples(300, (at) => (at === 150 ? 111 * MB : 100 * MB)), 300);
    expect(verdict.finalBytes).toBe(100 * MB);
    expect(verdict.met).toBe(false);
  });

  it("refuses to judge without samples at both ends of the window", () => {
    expect(() => judgeRss(samples(300, () => 100 * MB).filter((s) => s.atSeconds < 200), 300)).toThrow(/too few RSS samples/);
  });
});

function measurement(target: string, route: string, cpuUsPerRequest: number, extra: Partial<Measurement> = {}): Measurement {
  return {
    target,
    family: "protogate" satisfies PairSummary["family"],
    route,
    routeLabel: route,
    round: 1,
    requests: 1000,
    durationSeconds: 1,
    requestsPerSecond: 1000,
    p50Ms: 1,
    p99Ms: 2,
    errors: 0,
    non2xx: 0,
    statusCodes: { "200": 1000 },
    cpuUsPerRequest,
    ...extra,
  };
}

describe("the feature-variant targets (auth on, the memory limit, tracing within 10 % of the plain gateway's CPU; metrics and the access log together within 5 %)", () => {
  it("judges the jwt and memory-limit variants per route against the plain gateway, and nothing else", () => {
    const verdicts = judgeVariants(
      summarize([
        measurement("protogate", "get", 100),
        measurement("protogate", "post", 200),
        measurement("protogate-jwt", "get", 110),
        measurement("protogate-jwt", "post", 221),
        measurement("protogate-limit-memory", "get", 104),
        measurement("protogate-limit-redis", "get", 150),
        measurement("protogate-grpcjs", "get", 160),
        measurement("protogate-limit-memory", "post", 200, { non2xx: 3 }),
      ]),
    );
    expect(verdicts.map((v) => [v.variant, v.route, Number(v.cpuRatio.toFixed(3)), v.met])).toEqual([
      ["protogate-jwt", "get", 1.1, true],
      ["protogate-jwt", "post", 1.105, false],
      ["protogate-limit-memory", "get", 1.04, true],
    ]);
    expect(formatVariants(verdicts).split("\n").slice(1).map((line) => line.split(" ").at(-1))).toEqual(["ok", "MISSED", "ok"]);
  });

  it("pairs rounds when the machine drifts: the median of per-round ratios, not the ratio of medians taken from different rounds", () => {
    // The machine slows down over the run (the plain GET: 50, 60, 75 µs); the variant costs 4 % in every round.
    const rounds = [50, 60, 75];
    const measurements = rounds.flatMap((plain, i) => [measurement("protogate", "get", plain, { round: i + 1 }), measurement("protogate-jwt", "get", plain * 1.04, { round: i + 1 })]);
    // Medians of different rounds: the variant's middle round against the plain one's, still fine here...
    const [aligned] = judgeVariants(summarize(measurements), measurements);
    expect(aligned.cpuRatio).toBeCloseTo(1.04, 6);
    // ...but with the variant's slow round replaced by a slower one, its median moves to another round's value.
    const skewed = measurements.map((m) => (m.target === "protogate-jwt" && m.round === 1 ? { ...m, cpuUsPerRequest: 80 } : m));
    const [paired] = judgeVariants(summarize(skewed), skewed);
    expect(paired.ratioOfMedians).toBeCloseTo(75 * 1.04 / 60, 6); // 1.3: MISSED by the drift alone
    expect(paired.cpuRatio).toBeCloseTo(1.04, 6); // rounds 2 and 3 at 1.04, round 1 at 1.6: the median is 1.04
    expect(paired.met).toBe(true);
    // A round the plain gateway did not measure (or measured with failures) is left out of the pairing.
    const unpaired = skewed.filter((m) => !(m.target === "protogate" && m.round === 3));
    expect(judgeVariants(summarize(unpaired), unpaired)[0].cpuRatio).toBeCloseTo((1.6 + 1.04) / 2, 6);
  });

  it("falls back to the ratio of medians without the rounds' measurements", () => {
    const [verdict] = judgeVariants(summarize([measurement("protogate", "get", 100), measurement("protogate-jwt", "get", 108)]));
    expect(verdict.cpuRatio).toBeCloseTo(1.08, 6);
    expect(verdict.ratioOfMedians).toBeCloseTo(1.08, 6);
  });

  it("judges the resilience variant (retries, outlier detection, breaker on) against the plain gateway, at 5 %", () => {
    const verdicts = judgeVariants(summarize([measurement("protogate", "get", 100), measurement("protogate-resilience", "get", 104), measurement("protogate", "post", 200), measurement("protogate-resilience", "post", 212)]));
    expect(verdicts.map((v) => [v.variant, v.route, Number(v.cpuRatio.toFixed(3)), v.maxCpuRatio, v.met])).toEqual([
      ["protogate-resilience", "get", 1.04, 1.05, true],
      ["protogate-resilience", "post", 1.06, 1.05, false],
    ]);
  });

  it("judges tracing on its own and metrics + access log by their extra CPU added up, per route", () => {
    const verdicts = judgeVariants(
      summarize([
        measurement("protogate", "get", 100),
        measurement("protogate", "post", 200),
        measurement("protogate-tracing", "get", 111),
        measurement("protogate-metrics", "get", 102),
        measurement("protogate-accesslog", "get", 103),
        measurement("protogate-metrics", "post", 204),
        measurement("protogate-accesslog", "post", 204),
      ]),
    );
    expect(verdicts.map((v) => [v.variant, v.route, Number(v.cpuRatio.toFixed(3)), v.maxCpuRatio, v.met])).toEqual([
      ["protogate-tracing", "get", 1.11, 1.1, false],
      ["protogate-metrics + protogate-accesslog", "get", 1.05, 1.05, true],
      ["protogate-metrics + protogate-accesslog", "post", 1.04, 1.05, true],
    ]);
  });
});

describe("the RSS per-minute summary", () => {
  it("gives each minute of the measured window its lowest, median and highest RSS, leaving the warm-up out", () => {
    const line = formatRssMinutes(samples(120, (at) => (at < 0 ? 999 * MB : at < 60 ? (at % 10 === 0 ? 100 : 120) * MB : 150 * MB)));
    expect(line).toBe("  RSS per minute, lowest/median/highest MB: min 1: 100/120/120, min 2: 150/150/150, min 3: 150/150/150");
  });
});

import { describe, expect, it } from "vitest";
import { FLOOR_TARGETS, formatFloor, judgeFloor, summarize, type Measurement, type PairSummary } from "../../bench/report.js";

function measurement(target: string, family: PairSummary["family"], route: string, requestsPerSecond: number, cpuUsPerRequest: number | undefined, extra: Partial<Measurement> = {}): Measurement {
  return {
    target,
    family,
    route,
    routeLabel: route === "get-user" ? "GET /v1/users/u-1" : "POST /v1/users:search (1015 B)",
    round: 1,
    requests: requestsPerSecond * 10,
    durationSeconds: 10,
    requestsPerSecond,
    p50Ms: 1,
    p99Ms: 4,
    errors: 0,
    non2xx: 0,
    statusCodes: { "200": requestsPerSecond * 10 },
    ...(cpuUsPerRequest !== undefined && { cpuUsPerRequest }),
    ...extra,
  };
}

describe("the floor verdicts", () => {
  it.each([
    // variant CPU, floor CPU, variant req/s, floor req/s -> CPU ratio, CPU met, req/s ratio, req/s met
    [300, 100, 3000, 10000, 3, true, 0.3, true],
    [301, 100, 2999, 10000, 3.01, false, 0.2999, false],
    [150, 60, 6000, 12000, 2.5, true, 0.5, true],
    [379, 63, 2482, 9000, 379 / 63, false, 2482 / 9000, false],
  ])("%d µs against %d µs, %d req/s against %d req/s", (cpu, floorCpu, rate, floorRate, cpuRatio, cpuMet, requestsRatio, requestsMet) => {
    const [verdict] = judgeFloor(summarize([measurement("protogate", "protogate", "get-user", rate, cpu), measurement("floor", "floor", "get-user", floorRate, floorCpu)]));
    expect(verdict.cpuRatio).toBeCloseTo(cpuRatio, 10);
    expect(verdict.requestsRatio).toBeCloseTo(requestsRatio, 10);
    expect(verdict.cpuMet).toBe(cpuMet);
    expect(verdict.requestsMet).toBe(requestsMet);
  });

  it("pairs every Protogate variant with the floor of its own route, and leaves out baselines, failed pairs and routes without a floor", () => {
    const verdicts = judgeFloor(
      summarize([
        measurement("protogate", "protogate", "get-user", 3000, 300),
        measurement("protogate", "protogate", "search-users", 2000, 400),
        measurement("protogate-jwt", "protogate", "get-user", 2800, 320, { non2xx: 1 }),
        measurement("proxy", "proxy", "get-user", 4000, 200),
        measurement("floor", "floor", "get-user", 10000, 100),
      ]),
    );
    expect(verdicts.map((v) => [v.variant, v.route, v.cpuRatio])).toEqual([["protogate", "get-user", 3]]);
  });

  it("leaves the CPU verdict open where the CPU was not measured", () => {
    const [verdict] = judgeFloor(summarize([measurement("protogate", "protogate", "get-user", 3000, undefined), measurement("floor", "floor", "get-user", 10000, 100)]));
    expect(verdict.cpuRatio).toBeNaN();
    expect(verdict.cpuMet).toBeUndefined();
  });

  it("does not judge req/s under a fixed request rate, where every server answers the same", () => {
    const summaries = summarize([measurement("protogate", "protogate", "get-user", 1500, 250), measurement("floor", "floor", "get-user", 1500, 25)]);
    const [verdict] = judgeFloor(summaries, true);
    expect(verdict.requestsMet).toBeUndefined();
    expect(verdict.cpuMet).toBe(false);
    expect(formatFloor([verdict])).toContain("req/s / floor's: 1500 / 1500 = 1.00x (target >= 0.3x) NOT JUDGED (fixed --rate)");
  });

  it("prints an ok or MISSED line per target, with both figures and the target", () => {
    const text = formatFloor(
      judgeFloor(
        summarize([
          measurement("protogate", "protogate", "get-user", 2400, 380),
          measurement("floor", "floor", "get-user", 12000, 60),
          measurement("protogate", "protogate", "search-users", 4000, 150),
          measurement("floor", "floor", "search-users", 10000, 60),
          measurement("protogate-jwt", "protogate", "search-users", 3900, undefined),
        ]),
      ),
    );
    const lines = text.split("\n");
    expect(lines).toContain(`  protogate GET /v1/users/u-1 CPU per request / floor's: 380 / 60 µs = 6.33x (target <= ${FLOOR_TARGETS.maxCpuRatio}x) MISSED`);
    expect(lines).toContain(`  protogate GET /v1/users/u-1 req/s / floor's: 2400 / 12000 = 0.20x (target >= ${FLOOR_TARGETS.minRequestsRatio}x) MISSED`);
    expect(lines).toContain(`  protogate POST /v1/users:search (1015 B) CPU per request / floor's: 150 / 60 µs = 2.50x (target <= 3x) ok`);
    expect(lines).toContain(`  protogate POST /v1/users:search (1015 B) req/s / floor's: 4000 / 10000 = 0.40x (target >= 0.3x) ok`);
    expect(lines).toContain(`  protogate-jwt POST /v1/users:search (1015 B) CPU per request / floor's: n/a (target <= 3x) NOT MEASURED`);
  });
});

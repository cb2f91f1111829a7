import { describe, expect, it } from "vitest";
import { formatGraphql, summarizeGraphql, type GraphqlRound } from "../../bench/graphql.js";
import { JOIN_QUERY, joinRestUsersPath } from "../../bench/graphql-requests.js";
import type { LoadResult } from "../../bench/latency-recorder.js";
import { parseBenchOptions } from "../../bench/options.js";

function run(perSecond: number, p50Ms: number, cpuUsPerRequest?: number, extra: Partial<LoadResult> = {}): LoadResult {
  return { requests: perSecond * 10, durationSeconds: 10, requestsPerSecond: perSecond, p50Ms, p99Ms: p50Ms * 4, errors: 0, non2xx: 0, statusCodes: {}, ...(cpuUsPerRequest !== undefined && { cpuUsPerRequest }), ...extra };
}

function round(getQl: LoadResult, getRest: LoadResult, joinQl: LoadResult, joinRest: LoadResult): GraphqlRound {
  return { "graphql-get": getQl, "rest-get": getRest, "graphql-join": joinQl, "rest-join": joinRest };
}

describe("the GraphQL bench report", () => {
  it("medians over rounds, GraphQL / REST ratios for the GET and the join, each on its own", () => {
    const result = summarizeGraphql([
      round(run(600, 2, 150), run(1000, 1, 100), run(300, 8, 500), run(200, 10, 900)),
      round(run(800, 3, 170), run(1000, 2, 110), run(400, 6, 450), run(250, 12, 1000)),
      round(run(700, 4, 160), run(1400, 2, 120), run(500, 4, 400), run(300, 8, 800)),
    ]);
    expect(result.get.graphql).toEqual({ perSecond: 700, p50Ms: 3, p99Ms: 12, cpuUsPerAnswer: 160 });
    expect(result.get.rest).toEqual({ perSecond: 1000, p50Ms: 2, p99Ms: 8, cpuUsPerAnswer: 110 });
    expect(result.get.throughputRatio).toBe(0.7);
    expect(result.get.p50Ratio).toBe(1.5);
    expect(result.join.throughputRatio).toBe(1.6);
    expect(result.join.p50Ratio).toBe(0.6);
    expect(result.join.cpuRatio).toBe(0.5);
    expect(result.failed).toBe(false);
    const text = formatGraphql(result);
    expect(text).toContain("GraphQL / REST: 0.70x answers/s, 1.50x p50, 1.50x p99, 1.45x gateway CPU per answer");
    expect(text).toContain("GraphQL / REST: 1.60x answers/s, 0.60x p50, 0.60x p99, 0.50x gateway CPU per answer");
  });

  it("a failed request in any mode fails the measurement; CPU unmeasured leaves its ratio out", () => {
    const result = summarizeGraphql([round(run(600, 2), run(1000, 1), run(300, 8, 600), run(200, 10, 900, { errors: 1 }))]);
    expect(result.failed).toBe(true);
    expect(result.get.cpuRatio).toBeUndefined();
    expect(result.join.cpuRatio).toBe(600 / 900);
    expect(formatGraphql(result)).toContain("(WITH FAILURES)");
  });

  it("asks for the same data both ways: the join query joins each order's user; the REST client's batch path repeats userIds", () => {
    expect(JOIN_QUERY).toMatch(/u0: listOrders\(parent: "users\/u-1"\) \{ orders \{ .* user \{ userId /);
    expect(joinRestUsersPath(["u-1", "u 2"])).toBe("/v1/users:batchGet?userIds=u-1&userIds=u%202");
  });

  it("--graphql-rounds: 3 by default, 0 skips it, and it is checked like the other counts", () => {
    expect(parseBenchOptions([]).graphqlRounds).toBe(3);
    expect(parseBenchOptions(["--graphql-rounds", "0"]).graphqlRounds).toBe(0);
    expect(() => parseBenchOptions(["--graphql-rounds=-1"])).toThrow(/--graphql-rounds must be a number from 0/);
  });
});

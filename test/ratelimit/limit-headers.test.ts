import { describe, expect, it } from "vitest";
import { ceilSeconds, durationJson, rateLimitHeaders } from "../../src/ratelimit/limit-headers.js";
import type { ResolvedQuota } from "../../src/ratelimit/quotas.js";
import { gcraParams } from "../../src/ratelimit/gcra.js";

function quota(limitName: string, requests: number, periodSeconds: number): ResolvedQuota {
  const params = gcraParams(requests, periodSeconds, requests);
  return { limitName, bucketPrefix: `${limitName}|||`, requests, periodSeconds, params, fallbackParams: params, policyItem: `"${limitName}";q=${requests};w=${periodSeconds}` };
}

describe("rateLimitHeaders", () => {
  it("gives the X-RateLimit fields of the tightest limit and lists every limit in RateLimit-Policy and RateLimit", () => {
    const headers = rateLimitHeaders(
      [quota("per-caller", 100, 60), quota("global", 1000, 1)],
      [
        { allowed: true, remaining: 99, resetUs: 600_000, retryAfterUs: 0 },
        { allowed: true, remaining: 7, resetUs: 993_000, retryAfterUs: 0 },
      ],
    );
    expect(headers).toEqual({
      "x-ratelimit-limit": "1000",
      "x-ratelimit-remaining": "7",
      "x-ratelimit-reset": "1",
      "ratelimit-policy": '"per-caller";q=100;w=60, "global";q=1000;w=1',
      ratelimit: '"per-caller";r=99;t=1, "global";r=7;t=1',
    });
  });

  it("breaks a tie on remaining by the later reset", () => {
    const headers = rateLimitHeaders(
      [quota("a", 10, 1), quota("b", 10, 3600)],
      [
        { allowed: false, remaining: 0, resetUs: 1_000_000, retryAfterUs: 100_000 },
        { allowed: false, remaining: 0, resetUs: 3_600_000_000, retryAfterUs: 360_000_000 },
      ],
    );
    expect(headers["x-ratelimit-limit"]).toBe("10");
    expect(headers["x-ratelimit-reset"]).toBe("3600");
  });
});

describe("ceilSeconds and durationJson", () => {
  it.each([
    [0, 0, "0s"],
    [1, 1, "0.000001s"],
    [1_500_000, 2, "1.500s"],
    [2_000_000, 2, "2s"],
    [8_571_429, 9, "8.571429s"],
  ])("%i us -> ceil %i s, Duration %s", (us, seconds, json) => {
    expect(ceilSeconds(us)).toBe(seconds);
    expect(durationJson(us)).toBe(json);
  });
});

import { describe, expect, it, vi } from "vitest";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { authConfigSchema } from "../../src/auth/auth-config.js";
import { permissionDenied, unauthenticated } from "../../src/auth/auth-errors.js";
import { createEdgeAuth } from "../../src/auth/edge-auth.js";
import { clientKey, createFailedAttemptLimiter } from "../../src/auth/failed-attempts.js";
import { jwtRejected } from "../../src/auth/jwt/jwt-errors.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";

const SECOND_US = 1_000_000;

function clock() {
  let now = 1_000 * SECOND_US;
  return { nowUs: () => now, advanceSeconds: (seconds: number) => (now += seconds * SECOND_US) };
}

/** The 429 `check` threw, or "allowed". */
function checked(limiter: { check(ip: string): void }, ip: string): GatewayError | "allowed" {
  try {
    limiter.check(ip);
    return "allowed";
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
}

const badToken = () => unauthenticated("invalid_token", "signature verification failed");

describe("createFailedAttemptLimiter", () => {
  it("lets `burst` failures through, then answers 429 with Retry-After until a failure is allowed again", () => {
    const time = clock();
    const limiter = createFailedAttemptLimiter({ requests: 6, periodSeconds: 60, burst: 3 }, { nowUs: time.nowUs });
    for (let i = 0; i < 3; i++) {
      expect(checked(limiter, "198.51.100.7")).toBe("allowed");
      limiter.record("198.51.100.7", badToken());
    }
    const error = checked(limiter, "198.51.100.7");
    expect(error).not.toBe("allowed");
    const rejection = error as GatewayError;
    expect({ code: rejection.code, reason: rejection.reason, message: rejection.message, headers: rejection.headers, details: rejection.details }).toEqual({
      code: GrpcCode.RESOURCE_EXHAUSTED,
      reason: "PG_ERR_RATE_LIMITED",
      message: "too many failed authentication attempts from this client; retry after 10s",
      headers: { "retry-after": "10" },
      details: [
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "10s" },
        { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ subject: "limit:auth.failedAttempts", description: "at most 6 failed authentications per 60 s per client IP" }] },
      ],
    });
    // Other clients are not affected.
    expect(checked(limiter, "198.51.100.8")).toBe("allowed");
    // Checking does not consume: still blocked for the same time, then one more try.
    time.advanceSeconds(9);
    expect((checked(limiter, "198.51.100.7") as GatewayError).headers["retry-after"]).toBe("1");
    time.advanceSeconds(1);
    expect(checked(limiter, "198.51.100.7")).toBe("allowed");
    limiter.record("198.51.100.7", badToken());
    expect(checked(limiter, "198.51.100.7")).not.toBe("allowed");
  });

  it.each([
    ["a 401 for presented credentials (invalid_token)", badToken(), true],
    ["a 401 for malformed credentials (invalid_request)", unauthenticated("invalid_request", "multiple Authorization headers"), true],
    ["a 401 from the verifier, before the challenge is added", jwtRejected("token expired"), true],
    ["key set unavailable (the JWKS server is down: not the client's fault)", unauthenticated("invalid_token", "key set unavailable", jwtRejected("key set unavailable")), false],
    ["a 403", permissionDenied(["orders:write"]), false],
    ["a bug (not a GatewayError)", new TypeError("boom"), false],
    ["another gateway error", new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error"), false],
  ])("counts %s: %s", (_name, error, counts) => {
    const limiter = createFailedAttemptLimiter({ requests: 1, periodSeconds: 60 }, { nowUs: clock().nowUs });
    limiter.record("203.0.113.1", error);
    expect(checked(limiter, "203.0.113.1") === "allowed").toBe(!counts);
  });

  it.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2:aaaa::1", "2001:db8:1:2::/64"],
    ["2001:db8:0001:0002::", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::", "0:0:0:0::/64"],
  ])("keys %s as %s", (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it("one IPv6 /64 shares a bucket: rotating addresses within it buys nothing", () => {
    const limiter = createFailedAttemptLimiter({ requests: 2, periodSeconds: 60 }, { nowUs: clock().nowUs });
    limiter.record("2001:db8:1:2::a", badToken());
    limiter.record("2001:db8:1:2::b", badToken());
    expect(checked(limiter, "2001:db8:1:2::c")).not.toBe("allowed");
    expect(checked(limiter, "2001:db8:1:3::a")).toBe("allowed");
  });
});

describe("createEdgeAuth with auth.failedAttempts", () => {
  const GOOD_KEY = "pgk_good_key_1234567890";
  const rule = { public: false, scopes: [], forwardAuthorization: false, origin: "default" };
  async function edge(failedAttempts: unknown, fetchSpy?: typeof fetch) {
    const config = authConfigSchema.parse({
      mode: "on",
      failedAttempts,
      apiKeys: { keys: [{ sha256: hashApiKey(GOOD_KEY), consumer: "partner", scopes: [] }] },
      jwt: { issuers: [{ issuer: "https://idp.test", audiences: ["a"], algorithms: ["RS256"], jwksUrl: "http://127.0.0.1:9/jwks" }] },
    });
    const time = clock();
    return { auth: await createEdgeAuth(config, { fetch: fetchSpy, failedAttempts: { nowUs: time.nowUs } }), time };
  }
  /** admit's answer, a value (synchronous admission) or a promise. */
  const outcome = (admitted: unknown) =>
    Promise.resolve(admitted).then(
      (caller) => (caller === undefined ? "anonymous" : "caller"),
      (error: GatewayError) => `${error.code} ${error.message}`,
    );

  it("is off by default", async () => {
    expect(authConfigSchema.parse({}).failedAttempts).toBeUndefined();
    const { auth } = await edge(undefined);
    for (let i = 0; i < 50; i++) expect(await outcome(auth.admit(rule, ["x-api-key", "wrong"], "192.0.2.1"))).toBe("16 invalid API key");
  });

  it("a blocked IP gets 429 before its credentials are verified: even a valid key, and no JWKS fetch", async () => {
    const fetchSpy = vi.fn<typeof fetch>(async () => new Response("{}", { status: 500 }));
    const { auth, time } = await edge({ requests: 2, periodSeconds: 60 }, fetchSpy);
    expect(await outcome(auth.admit(rule, ["x-api-key", "wrong-1"], "192.0.2.1"))).toBe("16 invalid API key");
    expect(await outcome(auth.admit(rule, ["x-api-key", "wrong-2"], "192.0.2.1"))).toBe("16 invalid API key");
    expect(await outcome(auth.admit(rule, ["x-api-key", GOOD_KEY], "192.0.2.1"))).toBe("8 too many failed authentication attempts from this client; retry after 30s");
    expect(await outcome(auth.admit(rule, ["authorization", "Bearer a.b.c"], "192.0.2.1"))).toMatch(/^8 too many failed/);
    expect(fetchSpy).not.toHaveBeenCalled();
    // Another client, and the same one after the retry delay.
    expect(await outcome(auth.admit(rule, ["x-api-key", GOOD_KEY], "192.0.2.2"))).toBe("caller");
    time.advanceSeconds(30);
    expect(await outcome(auth.admit(rule, ["x-api-key", GOOD_KEY], "192.0.2.1"))).toBe("caller");
  });

  it("admits a valid API key synchronously, and answers every failure as a rejected promise, never a throw", async () => {
    const { auth } = await edge({ requests: 1, periodSeconds: 60 });
    const admitted = auth.admit(rule, ["x-api-key", GOOD_KEY], "192.0.2.4");
    expect(admitted).not.toBeInstanceOf(Promise);
    expect(admitted).toMatchObject({ kind: "api-key", subject: "partner" });
    const refusals = [auth.admit(rule, ["x-api-key", "wrong"], "192.0.2.4"), auth.admit(rule, ["x-api-key", GOOD_KEY], "192.0.2.4"), auth.admit(rule, [], "192.0.2.5")];
    for (const refused of refusals) expect(refused).toBeInstanceOf(Promise);
    expect(await Promise.all(refusals.map(outcome))).toEqual(["16 invalid API key", "8 too many failed authentication attempts from this client; retry after 60s", "16 authentication required"]);
  });

  it("successes and missing credentials are not counted", async () => {
    const { auth } = await edge({ requests: 1, periodSeconds: 60 });
    for (let i = 0; i < 10; i++) {
      expect(await outcome(auth.admit(rule, ["x-api-key", GOOD_KEY], "192.0.2.3"))).toBe("caller");
      expect(await outcome(auth.admit(rule, [], "192.0.2.3"))).toBe("16 authentication required");
    }
  });

  it("without a client IP (a caller that passes none) nothing is limited", async () => {
    const { auth } = await edge({ requests: 1, periodSeconds: 60 });
    for (let i = 0; i < 3; i++) expect(await outcome(auth.admit(rule, ["x-api-key", "wrong"]))).toBe("16 invalid API key");
  });

  it.each([
    [{ requests: 0, periodSeconds: 60 }, "requests"],
    [{ requests: 5, periodSeconds: 0 }, "periodSeconds"],
    [{ requests: 5, window: 3 }, "window"],
  ])("rejects the config %j", (failedAttempts, key) => {
    expect(() => authConfigSchema.parse({ failedAttempts })).toThrow(key);
  });
});

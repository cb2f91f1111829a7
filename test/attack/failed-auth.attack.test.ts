import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { signToken, startJwksServer, type JwksServer, type TestKey } from "../auth/jwt/jwt-test-kit.js";
import { liveClaims, unsecuredToken } from "../e2e/support/attack-tokens.js";
import { send, startTestGateway } from "../e2e/support/gateway-harness.js";
import { AUDIENCE, bearer, edgeProbe, expectStatus, GOOD_KEY, RSA_ISSUER, securityConfig, startSecuredGateway, WRONG_KEY, type SecuredGateway } from "../e2e/support/security-fixture.js";

/*
 * The standing attack suite, credential guessing: with auth.failedAttempts set, a client IP that
 * keeps failing authentication is answered 429 before anything is verified. The client IP comes
 * from X-Forwarded-For here (the loopback peer is a trusted proxy), so one test can play several
 * clients; the limiter's clock is injected.
 */

const SECOND_US = 1_000_000;
const ATTEMPTS = 3;
const PERIOD_SECONDS = 60;

describe("failed authentication attempts per client IP (through the gateway)", () => {
  let secured: SecuredGateway | undefined;
  let backend: SecuredGateway["backend"];
  let jwks: JwksServer;
  let gateway: RunningGateway;
  let rsa: TestKey;
  let nowUs = 1_000 * SECOND_US;
  const probe = edgeProbe(
    () => gateway,
    () => backend,
  );

  beforeAll(async () => {
    secured = await startSecuredGateway(
      { auth: { failedAttempts: { requests: ATTEMPTS, periodSeconds: PERIOD_SECONDS } }, extra: { server: { trustProxy: ["loopback"] } } },
      { auth: { failedAttempts: { nowUs: () => nowUs } } },
    );
    ({ backend, jwks, gateway, rsa } = secured);
  });
  afterAll(() => secured?.close());

  const from = (ip: string, headers: Record<string, string> = {}) => ({ "x-forwarded-for": ip, ...headers });
  const deleteFrom = (ip: string, headers: Record<string, string>) => send(gateway.url, "DELETE", "/v1/users/u-1", { headers: from(ip, headers) });
  const tooMany = (retryAfterSeconds: number) => ({
    status: 429,
    code: 8,
    message: `too many failed authentication attempts from this client; retry after ${retryAfterSeconds}s`,
    reason: "PG_ERR_RATE_LIMITED",
    moreDetails: [
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryAfterSeconds}s` },
      { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ subject: "limit:auth.failedAttempts", description: `at most ${ATTEMPTS} failed authentications per ${PERIOD_SECONDS} s per client IP` }] },
    ],
  });

  it("regression: failed authentication is rate-limited per client IP: 429 with Retry-After before any credential is verified", async () => {
    const attacker = "198.51.100.10";
    for (let i = 0; i < ATTEMPTS; i++) {
      await probe.rejected(() => deleteFrom(attacker, { "x-api-key": `${WRONG_KEY}-${i}` }), { status: 401, message: "invalid API key", error: "invalid_token" }, [WRONG_KEY]);
    }
    const calls = backend.calls.length;
    const fetches = jwks.requests();
    // Over the limit: even a valid key, a token (never verified: no JWKS fetch) and an anonymous call.
    for (const headers of [{ "x-api-key": GOOD_KEY }, bearer(unsecuredToken(liveClaims(RSA_ISSUER, AUDIENCE))), {}]) {
      const response = await deleteFrom(attacker, headers);
      expectStatus(response, tooMany(20));
      expect(response.headers.get("retry-after")).toBe("20");
      expect(response.headers.get("www-authenticate")).toBeNull();
    }
    expect(backend.calls.length).toBe(calls);
    expect(jwks.requests()).toBe(fetches);

    // Another client is not affected.
    expect((await deleteFrom("198.51.100.11", { "x-api-key": GOOD_KEY })).status).toBe(204);
    // The attacker after the Retry-After: one more try, then blocked again.
    nowUs += 19 * SECOND_US;
    expectStatus(await deleteFrom(attacker, { "x-api-key": GOOD_KEY }), tooMany(1));
    nowUs += 1 * SECOND_US;
    expect((await deleteFrom(attacker, { "x-api-key": GOOD_KEY })).status).toBe(204);
    await probe.rejected(() => deleteFrom(attacker, { "x-api-key": WRONG_KEY }), { status: 401, message: "invalid API key", error: "invalid_token" }, [WRONG_KEY]);
    expectStatus(await deleteFrom(attacker, { "x-api-key": GOOD_KEY }), tooMany(20));
    await probe.stillServes();
  });

  it("successes, missing credentials and 403s are not failed attempts", async () => {
    const client = "198.51.100.20";
    for (let i = 0; i < ATTEMPTS * 3; i++) {
      expect((await deleteFrom(client, { "x-api-key": GOOD_KEY })).status).toBe(204);
      expect((await deleteFrom(client, {})).status).toBe(401);
      const token = await signToken({ privateKey: rsa.privateKey, alg: "RS256", kid: "k1" }, liveClaims(RSA_ISSUER, AUDIENCE, { scope: "users:read" }));
      expect((await deleteFrom(client, bearer(token))).status).toBe(403);
    }
    expect((await deleteFrom(client, { "x-api-key": GOOD_KEY })).status).toBe(204);
  });

  it("the JWKS server being down is not the client's fault: key set unavailable does not count", async () => {
    const downJwks = await startJwksServer([rsa.jwk]);
    downJwks.setMode("error");
    const downGateway = await startTestGateway(
      { "demo.v1.UserService": backend.address },
      securityConfig({ jwksUrl: downJwks.url, cooldownMs: 0, jwks: { retryMs: 0 }, auth: { failedAttempts: { requests: 1, periodSeconds: 60 } }, extra: { server: { trustProxy: ["loopback"] } } }),
    );
    try {
      const token = await signToken({ privateKey: rsa.privateKey, alg: "RS256", kid: "k1" }, liveClaims(RSA_ISSUER, AUDIENCE, { scope: "users:write" }));
      for (let i = 0; i < 5; i++) {
        const response = await send(downGateway.url, "DELETE", "/v1/users/u-1", { headers: from("198.51.100.30", bearer(token)) });
        expect({ status: response.status, message: (response.json as { message?: string }).message }).toEqual({ status: 401, message: "key set unavailable" });
      }
      expect((await send(downGateway.url, "DELETE", "/v1/users/u-1", { headers: from("198.51.100.30", { "x-api-key": GOOD_KEY }) })).status).toBe(204);
    } finally {
      await downGateway.close();
      await downJwks.close();
    }
  });
});

import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { createTestClock, createTestKey, signToken, startJwksServer, type JwksServer, type TestClock, type TestKey } from "../auth/jwt/jwt-test-kit.js";
import { liveClaims, nowSeconds, randomKid } from "../e2e/support/attack-tokens.js";
import { startTestGateway, startUserBackend } from "../e2e/support/gateway-harness.js";
import { AUDIENCE, HANDLERS, RSA_ISSUER, securityConfig } from "../e2e/support/security-fixture.js";

/*
 * Fault injection, the key server: the issuer's JWKS server down (503), hung (accepts and never
 * answers), slow (answers late) and recovering, under concurrent requests through the gateway.
 * Outcomes are counted; every request must be answered (a request still open after
 * REQUEST_GUARD_MS counts as "hung" and fails the test), and no JWKS request may be left open.
 * Cool-downs, retry delays and key set ages run on the gateway's injected clock; the only real
 * waits are the JWKS fetch timeout and the slow server's delay (real I/O).
 */

const COOLDOWN_MS = 30_000;
const RETRY_MS = 1_000;
const MAX_AGE_MS = 600_000;
const MAX_STALE_MS = 3_600_000;
const FETCH_TIMEOUT_MS = 300;
const REQUEST_GUARD_MS = 15_000;
const CONCURRENT = 20;

interface Scenario {
  readonly gateway: RunningGateway;
  readonly jwks: JwksServer;
  readonly clock: TestClock;
  readonly calls: () => number;
}

let running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running) await stop();
  running = [];
});

let key: TestKey | undefined;
async function signingKey(): Promise<TestKey> {
  return (key ??= await createTestKey("RS256", "k1"));
}

async function scenario(jwksSettings: Record<string, number> = {}): Promise<Scenario> {
  const rsa = await signingKey();
  const jwks = await startJwksServer([rsa.jwk]);
  const backend = await startUserBackend(HANDLERS);
  const clock = createTestClock(Date.now());
  const gateway = await startTestGateway(
    { "demo.v1.UserService": backend.address },
    securityConfig({ jwksUrl: jwks.url, cooldownMs: COOLDOWN_MS, jwks: { timeoutMs: FETCH_TIMEOUT_MS, retryMs: RETRY_MS, maxAgeMs: MAX_AGE_MS, maxStaleMs: MAX_STALE_MS, ...jwksSettings } }),
    { auth: { now: clock.now } },
  );
  running.push(async () => {
    await gateway.close();
    await backend.close();
    await jwks.close();
  });
  return { gateway, jwks, clock, calls: () => backend.calls.length };
}

/**
 * A valid token of the RSA issuer, fresh (so never in the verified-token cache), optionally under
 * another kid; valid for a day, since the scenarios move the gateway's clock by hours.
 */
async function freshToken(kid = "k1"): Promise<string> {
  const rsa = await signingKey();
  return signToken({ privateKey: rsa.privateKey, alg: "RS256", kid }, liveClaims(RSA_ISSUER, AUDIENCE, { sub: `u-${randomKid()}`, scope: "users:write", exp: nowSeconds() + 86_400 }));
}

/** Sends `tokens` at once; counts the answers by status and message ("hung" if one was not answered in time). */
async function counted(gateway: RunningGateway, tokens: readonly string[]): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  await Promise.all(
    tokens.map(async (token) => {
      let label: string;
      try {
        const response = await fetch(`${gateway.url}/v1/users/f-1`, { method: "DELETE", headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(REQUEST_GUARD_MS) });
        // DeleteUser answers 204 without a body ((protogate.v1.success)); refusals are Status JSON.
        label = response.status === 204 ? "204" : `${response.status} ${((await response.json()) as { message?: string }).message}`;
      } catch (error) {
        label = (error as Error).name === "TimeoutError" ? "hung" : `transport error ${(error as Error).message}`;
      }
      outcomes[label] = (outcomes[label] ?? 0) + 1;
    }),
  );
  return outcomes;
}

const tokens = (count: number, kid?: string): Promise<string[]> => Promise.all(Array.from({ length: count }, () => freshToken(kid)));

/** No JWKS request is left open on the key server (the gateway abandoned or finished each one). */
async function noJwksRequestOpen(jwks: JwksServer): Promise<void> {
  await jwks.openAt(0);
}

describe("JWKS server faults (through the gateway, injected clock)", () => {
  it("down (503) from the start: one merged fetch, every request a prompt 401, a retry after retryMs, then recovery", async () => {
    const { gateway, jwks, clock, calls } = await scenario();
    jwks.setMode("error");
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "401 key set unavailable": CONCURRENT });
    expect(jwks.requests()).toBe(1);
    // Within the retry delay: answered at once, no fetch.
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "401 key set unavailable": CONCURRENT });
    expect(jwks.requests()).toBe(1);
    // The retry delay (not the 30 s cool-down) later, with the server back: served.
    jwks.setMode("serve");
    clock.advanceSeconds(RETRY_MS / 1000);
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "204": CONCURRENT });
    expect(jwks.requests()).toBe(2);
    expect(calls()).toBe(CONCURRENT);
    await noJwksRequestOpen(jwks);
  });

  it("hung from the start: the fetch is abandoned after its timeout, every request a 401, nothing left open", async () => {
    const { gateway, jwks, clock } = await scenario();
    jwks.setMode("hang");
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "401 key set unavailable": CONCURRENT });
    expect(jwks.requests()).toBe(1);
    await noJwksRequestOpen(jwks);
    jwks.setMode("serve");
    clock.advanceSeconds(RETRY_MS / 1000);
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "204": CONCURRENT });
    expect(jwks.requests()).toBe(2);
  });

  it("slow but within the timeout: the requests wait for one merged fetch and all succeed", async () => {
    const { gateway, jwks } = await scenario();
    jwks.setDelayMs(FETCH_TIMEOUT_MS / 2);
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "204": CONCURRENT });
    expect(jwks.requests()).toBe(1);
    await noJwksRequestOpen(jwks);
  });

  it("slower than the timeout: 401s, then served once the server is fast again", async () => {
    const { gateway, jwks, clock } = await scenario();
    jwks.setDelayMs(FETCH_TIMEOUT_MS * 3);
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "401 key set unavailable": CONCURRENT });
    expect(jwks.requests()).toBe(1);
    jwks.setDelayMs(0);
    clock.advanceSeconds(RETRY_MS / 1000);
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "204": CONCURRENT });
    expect(jwks.requests()).toBe(2);
    await noJwksRequestOpen(jwks);
  });

  it("hung while the key set is stale: requests are served from the last good set without waiting for the refetch", async () => {
    // A long fetch timeout: the refetch stays pending for the whole test, so the requests below
    // can only have succeeded without waiting for it.
    const { gateway, jwks, clock } = await scenario({ timeoutMs: 60_000 });
    expect(await counted(gateway, await tokens(1))).toEqual({ "204": 1 });
    jwks.setMode("hang");
    clock.advanceSeconds(MAX_AGE_MS / 1000);
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "204": CONCURRENT });
    // The background refetch arrives, and stays pending.
    await jwks.requested(2);
    expect(jwks.requests()).toBe(2);
    expect(jwks.open()).toBe(1);
    // Closing the gateway aborts it.
    await gateway.close();
    await noJwksRequestOpen(jwks);
  });

  it("down for longer than maxAgeMs + maxStaleMs: the last good set is dropped, and taken up again on recovery", async () => {
    const { gateway, jwks, clock } = await scenario();
    const hot = (await tokens(1))[0];
    expect(await counted(gateway, [hot])).toEqual({ "204": 1 });
    jwks.setMode("error");
    clock.advanceSeconds((MAX_AGE_MS + MAX_STALE_MS) / 1000 - 1);
    expect(await counted(gateway, [hot, ...(await tokens(CONCURRENT))])).toEqual({ "204": CONCURRENT + 1 });
    clock.advanceSeconds(1);
    // The cached token too: its key set is gone.
    expect(await counted(gateway, [hot, ...(await tokens(CONCURRENT))])).toEqual({ "401 key set unavailable": CONCURRENT + 1 });
    jwks.setMode("serve");
    clock.advanceSeconds(COOLDOWN_MS / 1000);
    expect(await counted(gateway, [hot, ...(await tokens(CONCURRENT))])).toEqual({ "204": CONCURRENT + 1 });
    await noJwksRequestOpen(jwks);
  });

  it("a kid flood while the server is down: fetches follow the retry back-off (1, 2, 4 ... s, then one per cool-down), never one per request", async () => {
    const { gateway, jwks, clock } = await scenario();
    expect(await counted(gateway, await tokens(1))).toEqual({ "204": 1 });
    jwks.setMode("error");
    clock.advanceSeconds(COOLDOWN_MS / 1000);
    const fetchesAt: number[] = [];
    // Ten random kids every second of the gateway's clock for two minutes.
    for (let second = 0; second < 120; second++) {
      const before = jwks.requests();
      const outcome = await counted(gateway, await tokens(10, randomKid()));
      expect(outcome).toEqual({ "401 key set unavailable": 10 });
      if (jwks.requests() > before) fetchesAt.push(second);
      expect(jwks.requests() - before).toBeLessThanOrEqual(1);
      clock.advanceSeconds(1);
    }
    // Attempts at 0, then 1, 2, 4, 8, 16 s apart, then every 30 s.
    expect(fetchesAt).toEqual([0, 1, 3, 7, 15, 31, 61, 91]);
    // The published key still verifies meanwhile (from the last good set, no fetch).
    const before = jwks.requests();
    expect(await counted(gateway, await tokens(CONCURRENT))).toEqual({ "204": CONCURRENT });
    expect(jwks.requests()).toBe(before);
    await noJwksRequestOpen(jwks);
  }, 120_000);
});

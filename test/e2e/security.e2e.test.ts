import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { createTestKey, signToken, startJwksServer, type JwksServer, type TestKey } from "../auth/jwt/jwt-test-kit.js";
import { hmacToken, liveClaims, nowSeconds, randomKid } from "./support/attack-tokens.js";
import { expectRejection, parseChallenge } from "./support/auth-expectations.js";
import { send, startTestGateway, startUserBackend } from "./support/gateway-harness.js";
import {
  API_KEYS,
  AUDIENCE,
  bearer,
  edgeProbe,
  GOOD_KEY,
  HANDLERS,
  HMAC_ISSUER,
  HMAC_SECRET,
  jwtIdentity,
  READER_KEY,
  REVOKED_KEY,
  RSA_ISSUER,
  securityConfig,
  startSecuredGateway,
  type SecuredGateway,
  WRONG_KEY,
} from "./support/security-fixture.js";

/*
 * Authentication and authorisation end to end, as a client that plays by the rules sees them: a
 * real gateway on a loopback port, a real JWKS HTTP server, a recording gRPC backend. Accepted
 * requests reach the backend with the gateway's identity metadata; rejected ones never reach it.
 * The attacks (forged tokens, malformed credentials, spoofed identity, kid floods, JWKS faults)
 * are in the standing attack suite, test/attack/.
 */

describe("authentication and authorisation (end to end)", () => {
  let secured: SecuredGateway | undefined;
  let backend: SecuredGateway["backend"];
  let jwks: JwksServer;
  let gateway: RunningGateway;
  let rsa: TestKey;
  const sign = (claims: Parameters<typeof signToken>[1], key: TestKey = rsa, kid: string | null = key.kid) => signToken({ privateKey: key.privateKey, alg: "RS256", kid }, claims);
  const rsaClaims = (overrides = {}) => liveClaims(RSA_ISSUER, AUDIENCE, { scope: "users:read users:write", ...overrides });

  const { rejected, accepted } = edgeProbe(
    () => gateway,
    () => backend,
  );

  beforeAll(async () => {
    // Cool-down 0: every unknown kid may refetch at once (the kid-flood attack tests run their
    // own gateways with a real cool-down).
    secured = await startSecuredGateway({ cooldownMs: 0 });
    ({ backend, jwks, gateway, rsa } = secured);
  });
  afterAll(() => secured?.close());

  describe("valid credentials", () => {
    it("an RS256 token from the JWKS issuer reaches the backend as the token's sub and scopes, without the Authorization header", async () => {
      const token = await sign(rsaClaims({ sub: "alice" }));
      const identity = await accepted(() => send(gateway.url, "DELETE", "/v1/users/u-1", { headers: bearer(token) }), "deleteUser");
      expect(identity).toEqual(jwtIdentity("alice", "users:read users:write"));
    });

    it("an HS256 token from the HMAC issuer is accepted in the same gateway", async () => {
      const token = await hmacToken(HMAC_SECRET, liveClaims(HMAC_ISSUER, AUDIENCE, { sub: "hmac-bob", scope: "users:write" }));
      const identity = await accepted(() => send(gateway.url, "DELETE", "/v1/users/u-2", { headers: bearer(token) }), "deleteUser");
      expect(identity).toEqual(jwtIdentity("hmac-bob", "users:write", HMAC_ISSUER));
    });

    it("a route that opts in (forwardAuthorization) receives the verified Authorization header, not a forged metadata copy", async () => {
      const token = await sign(rsaClaims({ sub: "carol" }));
      const identity = await accepted(
        () =>
          send(gateway.url, "PATCH", "/v1/users/u-3", {
            headers: { ...bearer(token), "content-type": "application/json", "grpc-metadata-authorization": "Bearer forged" },
            body: JSON.stringify({ displayName: "Carol" }),
          }),
        "updateUser",
      );
      expect(identity).toEqual(jwtIdentity("carol", "users:read users:write", RSA_ISSUER, [`Bearer ${token}`]));
    });

    it("exp in the past but within the leeway, and nbf in the future within the leeway, are accepted", async () => {
      const now = nowSeconds();
      const token = await sign(rsaClaims({ sub: "leeway", iat: now - 600, exp: now - 5, nbf: now + 5 }));
      const identity = await accepted(() => send(gateway.url, "DELETE", "/v1/users/u-4", { headers: bearer(token) }), "deleteUser");
      expect(identity["x-user-id"]).toEqual(["leeway"]);
    });
  });

  describe("API keys", () => {
    it("the right key: the backend sees the consumer, its tier and scopes, and never the key", async () => {
      const identity = await accepted(() => send(gateway.url, "DELETE", "/v1/users/u-6", { headers: { "x-api-key": GOOD_KEY, "x-consumer-id": "spoofed" } }), "deleteUser");
      expect(identity).toEqual({
        "x-user-id": ["partner-a"],
        "x-consumer-id": ["partner-a"],
        "x-auth-scopes": ["users:write"],
        "x-auth-issuer": [],
        "x-auth-tier": ["gold"],
        authorization: [],
        "x-api-key": [],
      });
    });

    it("a wrong key: 401 invalid_token, not echoed", async () => {
      await rejected(() => send(gateway.url, "DELETE", "/v1/users/u-6", { headers: { "x-api-key": WRONG_KEY } }), { status: 401, message: "invalid API key", error: "invalid_token" }, [WRONG_KEY]);
    });

    it("a wrong key on a public route is also a 401", async () => {
      await rejected(() => send(gateway.url, "GET", "/v1/users/u-6", { headers: { "x-api-key": WRONG_KEY } }), { status: 401, message: "invalid API key", error: "invalid_token" }, [WRONG_KEY]);
    });

    it("a revoked key (its hash removed from the config) is rejected by a gateway started without it", async () => {
      await accepted(() => send(gateway.url, "DELETE", "/v1/users/u-7", { headers: { "x-api-key": REVOKED_KEY } }), "deleteUser");
      const revokedGateway = await startTestGateway(
        { "demo.v1.UserService": backend.address },
        securityConfig({ jwksUrl: jwks.url, cooldownMs: 0, apiKeys: API_KEYS.filter((key) => key.consumer !== "partner-old") }),
      );
      try {
        await rejected(
          () => send(revokedGateway.url, "DELETE", "/v1/users/u-7", { headers: { "x-api-key": REVOKED_KEY } }),
          { status: 401, message: "invalid API key", error: "invalid_token" },
          [REVOKED_KEY],
        );
        // The other keys still work there.
        await accepted(() => send(revokedGateway.url, "DELETE", "/v1/users/u-7", { headers: { "x-api-key": GOOD_KEY } }), "deleteUser");
      } finally {
        await revokedGateway.close();
      }
    });
  });

  describe("authorisation", () => {
    it("a token without the method's scope: 403 naming the scope, backend not called", async () => {
      const token = await sign(rsaClaims({ scope: "users:read" }));
      await rejected(
        () => send(gateway.url, "DELETE", "/v1/users/u-8", { headers: bearer(token) }),
        { status: 403, message: "missing scope users:write", error: "insufficient_scope", scope: "users:write" },
        [token],
      );
    });

    it("a token with no scope claim at all on a scoped route: 403", async () => {
      const token = await sign(rsaClaims({ scope: undefined }));
      await rejected(
        () => send(gateway.url, "POST", "/v1/users", { headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify({ displayName: "x" }) }),
        { status: 403, message: "missing scope users:write", error: "insufficient_scope", scope: "users:write" },
        [token],
      );
    });

    it("an API key without the method's scope: 403", async () => {
      await rejected(
        () => send(gateway.url, "DELETE", "/v1/users/u-8", { headers: { "x-api-key": READER_KEY } }),
        { status: 403, message: "missing scope users:write", error: "insufficient_scope", scope: "users:write" },
        [READER_KEY],
      );
    });

    it("a public route without a token: 200", async () => {
      const before = backend.calls.length;
      const response = await send(gateway.url, "GET", "/v1/users/u-9");
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ userId: "u-9" });
      expect(response.headers.get("www-authenticate")).toBeNull();
      expect(backend.calls.length).toBe(before + 1);
      expect(backend.calls.at(-1)?.metadata.get("x-user-id")).toEqual([]);
    });

    it("an authenticated-only route (SearchUsers, no rule) without a token: 401 with a challenge without error", async () => {
      const response = await rejected(
        () => send(gateway.url, "POST", "/v1/users:search", { headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "a" }) }),
        { status: 401, message: "authentication required", error: "none" },
        [],
      );
      expect(parseChallenge(response.headers.get("www-authenticate"))?.params.error).toBeUndefined();
    });

    it("the same route with a valid token without scopes: 200", async () => {
      const token = await sign(rsaClaims({ sub: "erin", scope: undefined }));
      const identity = await accepted(
        () => send(gateway.url, "POST", "/v1/users:search", { headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify({ query: "a" }) }),
        "searchUsers",
      );
      expect(identity).toEqual(jwtIdentity("erin", ""));
    });
  });
});

describe("JWKS key rotation (end to end)", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let jwks: JwksServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backend = await startUserBackend(HANDLERS);
    jwks = await startJwksServer([]);
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
    await jwks?.close();
  });

  // DeleteUser answers 204 ((protogate.v1.success)).
  const call = (token: string) => send(gateway.url, "DELETE", "/v1/users/r-1", { headers: bearer(token) });
  const claims = (sub: string) => liveClaims(RSA_ISSUER, AUDIENCE, { sub, scope: "users:write" });

  it("a newly published key is accepted without restart; a removed key is rejected after the next refresh", async () => {
    const oldKey = await createTestKey("RS256", "old");
    const newKey = await createTestKey("RS256", "new");
    jwks.setKeys([oldKey.jwk]);
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address }, securityConfig({ jwksUrl: jwks.url, cooldownMs: 0 }));
    const signWith = (key: TestKey, sub: string) => signToken({ privateKey: key.privateKey, alg: "RS256", kid: key.kid }, claims(sub));

    const oldToken = await signWith(oldKey, "old-user");
    expect((await call(oldToken)).status).toBe(204);
    expect(backend.calls.at(-1)?.metadata.get("x-user-id")).toEqual(["old-user"]);
    expect(jwks.requests()).toBe(1);

    // Before publication the new key is unknown.
    const newToken = await signWith(newKey, "new-user");
    let before = backend.calls.length;
    expectRejection(await call(newToken), { status: 401, message: "unknown key id", error: "invalid_token" }, [newToken]);
    expect(backend.calls.length).toBe(before);

    // Publish it: the unknown kid triggers one refetch and the token is accepted, no restart.
    jwks.setKeys([oldKey.jwk, newKey.jwk]);
    let fetches = jwks.requests();
    expect((await call(newToken)).status).toBe(204);
    expect(backend.calls.at(-1)?.metadata.get("x-user-id")).toEqual(["new-user"]);
    expect(jwks.requests()).toBe(fetches + 1);
    expect((await call(oldToken)).status).toBe(204);

    // Remove the old key. Until the gateway refreshes its set, the cached set still holds it.
    jwks.setKeys([newKey.jwk]);
    expect((await call(oldToken)).status).toBe(204);
    // A refresh happens (here: triggered by an unknown kid; in production also by maxAgeMs).
    fetches = jwks.requests();
    const probe = await signToken({ privateKey: newKey.privateKey, alg: "RS256", kid: randomKid() }, claims("probe"));
    expectRejection(await call(probe), { status: 401, message: "unknown key id", error: "invalid_token" }, [probe]);
    expect(jwks.requests()).toBe(fetches + 1);

    // Now the old key's tokens are rejected: the cached verification is dropped with the key set,
    // and a fresh token signed with the old key fails too.
    before = backend.calls.length;
    expectRejection(await call(oldToken), { status: 401, message: "unknown key id", error: "invalid_token" }, [oldToken]);
    const freshOld = await signWith(oldKey, "old-user-2");
    expectRejection(await call(freshOld), { status: 401, message: "unknown key id", error: "invalid_token" }, [freshOld]);
    expect(backend.calls.length).toBe(before);
    // The new key keeps working.
    expect((await call(newToken)).status).toBe(204);
    expect(backend.calls.at(-1)?.metadata.get("x-user-id")).toEqual(["new-user"]);
  });
});

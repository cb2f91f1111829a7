import { readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:http2";
import { fileURLToPath } from "node:url";
import { exportJWK, exportSPKI } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { createTestClock, createTestKey, signToken, startJwksServer, type JwksServer, type TestClock, type TestKey } from "../auth/jwt/jwt-test-kit.js";
import { hmacToken, liveClaims, nowSeconds, padding, randomKid, rs256WithHeader, tamperPayload, unsecuredToken } from "../e2e/support/attack-tokens.js";
import { assertNoSecrets, type RejectionExpectation } from "../e2e/support/auth-expectations.js";
import { send, startTestGateway, startUserBackend } from "../e2e/support/gateway-harness.js";
import { sendRaw, type RawHeader } from "../e2e/support/raw-http.js";
import { AUDIENCE, bearer, edgeProbe, GOOD_KEY, identityOf, HANDLERS, HMAC_ISSUER, READER_KEY, RSA_ISSUER, securityConfig, startSecuredGateway, type SecuredGateway } from "../e2e/support/security-fixture.js";

/*
 * The standing attack suite, tokens: every forged, confused or malformed JWT the attack run and
 * this review tried, sent through a real gateway with a real JWKS server and a recording backend.
 * Each case asserts the exact status, the google.rpc.Status body and challenge, that nothing
 * reached the backend, that no credential is echoed, and that the gateway still serves.
 */

const X5C_CERT = readFileSync(new URL("../fixtures/tls/server.pem", import.meta.url), "utf8")
  .replace(/-----[A-Z ]+-----/g, "")
  .replace(/\s+/g, "");

describe("JWT attacks (through the gateway)", () => {
  let secured: SecuredGateway | undefined;
  let backend: SecuredGateway["backend"];
  let jwks: JwksServer;
  /** The attacker's own key server: any request to it means the gateway followed a token's URL. */
  let attackerJwks: JwksServer;
  let gateway: RunningGateway;
  let rsa: TestKey;
  let attacker: TestKey;
  let ec: TestKey;
  const probe = edgeProbe(
    () => gateway,
    () => backend,
  );
  const sign = (claims: Parameters<typeof signToken>[1], key: TestKey = rsa, kid: string | null = key.kid) => signToken({ privateKey: key.privateKey, alg: key.alg, kid }, claims);
  const rsaClaims = (overrides = {}) => liveClaims(RSA_ISSUER, AUDIENCE, { scope: "users:read users:write", ...overrides });
  const claimsJson = (extra: string) => `{"iss":"${RSA_ISSUER}","aud":"${AUDIENCE}","sub":"mallory","scope":"users:write",${extra}}`;

  beforeAll(async () => {
    attacker = await createTestKey("RS256", "k1");
    ec = await createTestKey("ES256", "ec-1");
    attackerJwks = await startJwksServer([attacker.jwk]);
    // Cool-down 0: each unknown kid refetches, so the fetch counts below are exact.
    secured = await startSecuredGateway({ cooldownMs: 0 });
    ({ backend, jwks, gateway, rsa } = secured);
  });
  afterAll(async () => {
    expect(attackerJwks.requests(), "the gateway fetched a URL named by a token").toBe(0);
    await secured?.close();
    await attackerJwks?.close();
  });

  const deleteWith = (token: string) => () => send(gateway.url, "DELETE", "/v1/users/u-1", { headers: bearer(token) });
  /** A DELETE through `agent` (node:http, so the connection it used is known); the body is drained. */
  const deleteOn = (agent: Agent, token: string) =>
    new Promise<{ status: number; reusedSocket: boolean }>((resolve, reject) => {
      const request = httpRequest(`${gateway.url}/v1/users/u-1`, { method: "DELETE", agent, headers: bearer(token) }, (response) => {
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode ?? 0, reusedSocket: request.reusedSocket }));
      });
      request.on("error", reject);
      request.end();
    });
  const invalid = (message: string): RejectionExpectation => ({ status: 401, message, error: "invalid_token" });

  describe("alg none, in every casing", () => {
    it.each(["none", "None", "NONE", "nOnE", "NoNe", "noNE"])("alg %j: 401 algorithm not allowed", async (alg) => {
      const token = unsecuredToken(rsaClaims(), alg);
      await probe.rejected(deleteWith(token), invalid("algorithm not allowed"), [token]);
    });

    it("alg none with a signature attached: 401 algorithm not allowed", async () => {
      const token = `${unsecuredToken(rsaClaims())}${Buffer.from("sig").toString("base64url")}`;
      await probe.rejected(deleteWith(token), invalid("algorithm not allowed"), [token]);
    });

    it.each([
      ["an empty alg", { alg: "" }],
      ["no alg at all", { typ: "JWT" }],
      ["a numeric alg", { alg: 256 }],
    ])("%s: 401 malformed token", async (_name, header) => {
      const token = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(rsaClaims())).toString("base64url")}.`;
      await probe.rejected(deleteWith(token), invalid("malformed token"), [token]);
    });

    it("RS256 with the signature removed: 401 signature verification failed", async () => {
      const token = (await sign(rsaClaims())).replace(/[^.]+$/, "");
      await probe.rejected(deleteWith(token), invalid("signature verification failed"), [token]);
    });
  });

  describe("HS/RS key confusion", () => {
    const cases: ReadonlyArray<{ name: string; token: () => Promise<string> }> = [
      { name: "HS256 MAC'ed with the RSA public key (PEM text)", token: async () => hmacToken(await exportSPKI(rsa.publicKey), rsaClaims(), { kid: rsa.kid }) },
      { name: "HS384 MAC'ed with the RSA public key (PEM text)", token: async () => hmacToken(await exportSPKI(rsa.publicKey), rsaClaims(), { alg: "HS384", kid: rsa.kid }) },
      { name: "HS512 MAC'ed with the RSA public key (PEM text)", token: async () => hmacToken(await exportSPKI(rsa.publicKey), rsaClaims(), { alg: "HS512", kid: rsa.kid }) },
      { name: "HS256 MAC'ed with the public JWK's JSON", token: () => hmacToken(JSON.stringify(rsa.jwk), rsaClaims(), { kid: rsa.kid }) },
      {
        name: "HS256 MAC'ed with the public key's DER bytes",
        token: async () => hmacToken(new Uint8Array(Buffer.from((await exportSPKI(rsa.publicKey)).replace(/-----[A-Z ]+-----|\s/g, ""), "base64")), rsaClaims(), { kid: rsa.kid }),
      },
      { name: "HS256 MAC'ed with the modulus n", token: async () => hmacToken(new Uint8Array(Buffer.from(String((await exportJWK(rsa.publicKey)).n), "base64url")), rsaClaims(), { kid: rsa.kid }) },
      { name: "an RS256 token claiming the HMAC issuer", token: () => sign(liveClaims(HMAC_ISSUER, AUDIENCE, { scope: "users:write" })) },
      { name: "an ES256 token for the RS256-only issuer", token: () => sign(rsaClaims(), ec) },
      { name: "a PS256 token under the published kid (the issuer allows RS256 only)", token: () => rs256WithHeader(rsa.privateKey, { alg: "PS256", kid: rsa.kid }, rsaClaims()) },
    ];
    it.each(cases)("$name: 401 algorithm not allowed", async ({ token: make }) => {
      const token = await make();
      const fetches = jwks.requests();
      await probe.rejected(deleteWith(token), invalid("algorithm not allowed"), [token]);
      // Refused on the algorithm alone: no key was even looked up.
      expect(jwks.requests()).toBe(fetches);
    });

    it("HS256 with a wrong secret for the HMAC issuer: 401 signature verification failed", async () => {
      const token = await hmacToken("not-the-secret-0123456789abcdefghijkl", liveClaims(HMAC_ISSUER, AUDIENCE, { scope: "users:write" }));
      await probe.rejected(deleteWith(token), invalid("signature verification failed"), [token]);
    });
  });

  describe("keys named by the token itself are never fetched or used (jku, x5u, jwk, x5c)", () => {
    const embedded = (): Array<[string, Record<string, unknown>]> => [
      ["jku", { jku: attackerJwks.url }],
      ["x5u", { x5u: `${attackerJwks.url}.pem` }],
      ["jwk", { jwk: attacker.jwk }],
      ["x5c", { x5c: [X5C_CERT] }],
      ["all four", { jku: attackerJwks.url, x5u: attackerJwks.url, jwk: attacker.jwk, x5c: [X5C_CERT] }],
    ];
    it.each(["jku", "x5u", "jwk", "x5c", "all four"])("%s, signed by the attacker's key under the published kid: 401 signature verification failed, nothing fetched", async (name) => {
      const header = { alg: "RS256", kid: "k1", ...embedded().find(([label]) => label === name)?.[1] };
      const token = await rs256WithHeader(attacker.privateKey, header, rsaClaims({ sub: "admin" }));
      await probe.rejected(deleteWith(token), invalid("signature verification failed"), [token]);
      expect(attackerJwks.requests()).toBe(0);
    });

    it.each(["jku", "x5u", "jwk", "x5c"])("%s without a kid: tried against the published keys only", async (name) => {
      const { kid: _kid, ...rest } = { kid: "", alg: "RS256", ...embedded().find(([label]) => label === name)?.[1] };
      const token = await rs256WithHeader(attacker.privateKey, rest, rsaClaims({ sub: "admin" }));
      await probe.rejected(deleteWith(token), invalid("signature verification failed"), [token]);
      expect(attackerJwks.requests()).toBe(0);
    });

    it("jku with a kid the issuer never published: the issuer's own JWKS is refetched once, not the jku", async () => {
      const token = await rs256WithHeader(attacker.privateKey, { alg: "RS256", kid: randomKid(), jku: attackerJwks.url }, rsaClaims());
      await send(gateway.url, "GET", "/v1/users/warm", { headers: bearer(await sign(rsaClaims())) });
      const fetches = jwks.requests();
      await probe.rejected(deleteWith(token), invalid("unknown key id"), [token]);
      expect(jwks.requests()).toBe(fetches + 1);
      expect(attackerJwks.requests()).toBe(0);
    });
  });

  describe("crit", () => {
    it.each<[string, Record<string, unknown>]>([
      ["an unknown extension", { alg: "RS256", kid: "k1", crit: ["urn:attacker:ignore-exp"], "urn:attacker:ignore-exp": true }],
      ["a listed extension that is absent", { alg: "RS256", kid: "k1", crit: ["urn:attacker:x"] }],
      ["an empty crit list", { alg: "RS256", kid: "k1", crit: [] }],
      ["crit that is not a list", { alg: "RS256", kid: "k1", crit: "exp" }],
      ["a registered header name in crit", { alg: "RS256", kid: "k1", crit: ["kid"] }],
      ["b64: false (an unencoded payload)", { alg: "RS256", kid: "k1", crit: ["b64"], b64: false }],
    ])("%s, validly signed with the published key: 401 malformed token", async (_name, header) => {
      const token = await rs256WithHeader(rsa.privateKey, header, rsaClaims());
      await probe.rejected(deleteWith(token), invalid("malformed token"), [token]);
    });
  });

  describe("forged and invalid tokens", () => {
    const cases: ReadonlyArray<{ name: string; token: () => Promise<string> | string; message: string }> = [
      { name: "an attacker's RSA key reusing the published kid", token: () => sign(rsaClaims(), attacker), message: "signature verification failed" },
      { name: "expired (exp an hour ago, beyond the leeway)", token: () => sign(rsaClaims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })), message: "token expired" },
      { name: "nbf an hour in the future, beyond the leeway", token: () => sign(rsaClaims({ nbf: nowSeconds() + 3600 })), message: "token not yet valid" },
      { name: "iat an hour in the future, beyond the leeway", token: () => sign(rsaClaims({ iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 })), message: "token issued in the future" },
      { name: "no exp", token: () => sign(rsaClaims({ exp: undefined })), message: "token missing exp" },
      { name: "no sub", token: () => sign(rsaClaims({ sub: undefined })), message: "token missing sub" },
      { name: "wrong iss", token: () => sign(rsaClaims({ iss: "https://evil.test" })), message: "issuer not accepted" },
      { name: "wrong aud", token: () => sign(rsaClaims({ aud: "someone-else" })), message: "audience not accepted" },
      { name: "tampered payload (sub and scope raised, signature kept)", token: async () => tamperPayload(await sign(rsaClaims({ scope: "users:read" })), { sub: "admin", scope: "users:write admin" }), message: "signature verification failed" },
      { name: "truncated signature", token: async () => (await sign(rsaClaims())).slice(0, -12), message: "signature verification failed" },
      { name: "truncated to header.payload", token: async () => (await sign(rsaClaims())).split(".").slice(0, 2).join("."), message: "malformed token" },
      { name: "truncated inside the payload", token: async () => (await sign(rsaClaims())).replace(/\.[^.]*\.[^.]*$/, (rest) => rest.slice(0, 20)), message: "malformed token" },
      { name: "not a JWT at all", token: () => "abcdefghijklmnop", message: "malformed token" },
      { name: "10 KB token (over maxTokenBytes, under Node's header limit)", token: () => sign(rsaClaims(padding(10 * 1024))), message: "token too large" },
      { name: "an unknown kid (one refetch of the issuer's JWKS, then rejected)", token: () => sign(rsaClaims(), { ...attacker, kid: randomKid() }), message: "unknown key id" },
    ];
    it.each(cases)("$name: 401 $message", async ({ token: make, message }) => {
      const token = await make();
      await probe.rejected(deleteWith(token), invalid(message), [token]);
    });

    it("a 64 KB token is refused before it reaches the gateway's code (Node's header limit), without echoing it", async () => {
      const token = await sign(rsaClaims(padding(64 * 1024)));
      expect(token.length).toBeGreaterThanOrEqual(64 * 1024);
      const before = backend.calls.length;
      const response = await sendRaw(gateway.url, "DELETE", "/v1/users/u-1", [["authorization", `Bearer ${token}`]]);
      // Node's HTTP parser stops at its 16 KiB header limit; the gateway answers 431 with a
      // google.rpc.Status body from its parser-error handler.
      expect({ status: response.status, body: response.json }).toEqual({
        status: 431,
        body: {
          code: 8,
          message: "request headers are larger than the server accepts",
          details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "PG_ERR_HEADERS_TOO_LARGE", domain: "protogate" }],
        },
      });
      expect(backend.calls.length).toBe(before);
      assertNoSecrets(response, [token]);
      await probe.stillServes();
    });

    it("one keep-alive connection carrying several callers' tokens (a proxy's): each request is its own token's caller, a forged one is a 401", async () => {
      // The verifier remembers the last hot token of each connection (a string compared in full);
      // this pins that the memo never answers for a different token on the same connection.
      const alice = await sign(rsaClaims({ sub: "alice" }));
      const bob = await sign(rsaClaims({ sub: "bob" }));
      const forged = `${alice.slice(0, -2)}${alice.endsWith("AA") ? "BB" : "AA"}`;
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const sequence = [alice, alice, bob, alice, forged, alice, bob];
        const seen: string[] = [];
        let reused = 0;
        for (const token of sequence) {
          const before = backend.calls.length;
          const { status, reusedSocket } = await deleteOn(agent, token);
          if (reusedSocket) reused++;
          seen.push(status === 204 ? String(identityOf(backend.calls.at(-1)?.metadata)["x-user-id"]) : `${status} (${backend.calls.length - before} calls)`);
        }
        expect(seen).toEqual(["alice", "alice", "bob", "alice", "401 (0 calls)", "alice", "bob"]);
        // All on one connection (a 401 keeps it open): the memo was in play for every request.
        expect(reused).toBe(sequence.length - 1);
      } finally {
        agent.destroy();
      }
    });

    it("a bad token on a PUBLIC route is still a 401: presented credentials are always verified", async () => {
      const token = unsecuredToken(rsaClaims());
      await probe.rejected(() => send(gateway.url, "GET", "/v1/users/u-1", { headers: bearer(token) }), invalid("algorithm not allowed"), [token]);
      const expired = await sign(rsaClaims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }));
      await probe.rejected(() => send(gateway.url, "GET", "/v1/users", { headers: bearer(expired) }), invalid("token expired"), [expired]);
    });
  });

  describe("the defects of the attack run", () => {
    it("regression: scopes split only on U+0020 (a scope claim orders:read<NBSP>users:write grants neither)", async () => {
      const token = await sign(rsaClaims({ scope: "users:read\u00a0users:write" }));
      await probe.rejected(deleteWith(token), { status: 403, message: "missing scope users:write", error: "insufficient_scope", scope: "users:write" }, [token]);
      // The same token on a route without scopes: accepted, and the backend sees no scope at all.
      const identity = await probe.accepted(
        () => send(gateway.url, "POST", "/v1/users:search", { headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify({ query: "a" }) }),
        "searchUsers",
      );
      expect(identity["x-auth-scopes"]).toEqual([]);
    });

    it.each([
      ["exp", '"exp":1e400', "token exp is not a valid time"],
      ["exp", '"exp":-1e400', "token exp is not a valid time"],
      ["exp", '"exp":253402300800', "token exp is not a valid time"],
      ["nbf", `"exp":${nowSeconds() + 3600},"nbf":-1e400`, "token nbf is not a valid time"],
      ["iat", `"exp":${nowSeconds() + 3600},"iat":1e400`, "token iat is not a valid time"],
    ])("regression: a non-finite or absurd %s (%s) is a 401, never a token cached as never expiring", async (_claim, claims, message) => {
      const token = await rs256WithHeader(rsa.privateKey, { alg: "RS256", kid: "k1" }, claimsJson(claims));
      await probe.rejected(deleteWith(token), invalid(message), [token]);
      // And again: nothing was cached.
      await probe.rejected(deleteWith(token), invalid(message), [token]);
    });
  });

  describe("malformed credentials on the wire", () => {
    it.each<{ name: string; headers: (token: string) => RawHeader[]; expected: RejectionExpectation }>([
      { name: "Authorization: Token <jwt> (another scheme)", headers: (token) => [["authorization", `Token ${token}`]], expected: { status: 401, message: "missing Bearer: the Authorization scheme must be Bearer", error: "none" } },
      { name: "Authorization: Token abc", headers: () => [["authorization", "Token abc"]], expected: { status: 401, message: "missing Bearer: the Authorization scheme must be Bearer", error: "none" } },
      { name: "a bare token without the Bearer scheme", headers: (token) => [["authorization", token]], expected: { status: 401, message: "missing Bearer scheme in Authorization header", error: "invalid_request" } },
      { name: "Bearer with no token", headers: () => [["authorization", "Bearer"]], expected: { status: 401, message: "empty bearer token in Authorization header", error: "invalid_request" } },
      {
        name: "Bearer with two tokens",
        headers: (token) => [["authorization", `Bearer ${token} ${token}`]],
        expected: { status: 401, message: "Authorization header must be Bearer followed by exactly one token", error: "invalid_request" },
      },
      {
        name: "two Authorization headers, both valid",
        headers: (token) => [
          ["authorization", `Bearer ${token}`],
          ["authorization", `Bearer ${token}`],
        ],
        expected: { status: 401, message: "multiple Authorization headers", error: "invalid_request" },
      },
      {
        name: "two Authorization headers, a valid one and a forged one",
        headers: (token) => [
          ["Authorization", `Bearer ${token}`],
          ["AUTHORIZATION", `Bearer ${unsecuredToken(rsaClaims({ sub: "admin" }))}`],
        ],
        expected: { status: 401, message: "multiple Authorization headers", error: "invalid_request" },
      },
      {
        name: "a valid token and a valid API key together",
        headers: (token) => [
          ["authorization", `Bearer ${token}`],
          ["x-api-key", GOOD_KEY],
        ],
        expected: { status: 401, message: "send one credential: a bearer token or an API key, not both", error: "invalid_request" },
      },
      {
        name: "two x-api-key headers",
        headers: () => [
          ["x-api-key", GOOD_KEY],
          ["x-api-key", READER_KEY],
        ],
        expected: { status: 401, message: "multiple x-api-key headers", error: "invalid_request" },
      },
    ])("$name", async ({ headers, expected }) => {
      const token = await sign(rsaClaims());
      const wire = headers(token);
      await probe.rejected(() => sendRaw(gateway.url, "DELETE", "/v1/users/u-1", wire), expected, [token, GOOD_KEY, READER_KEY]);
    });
  });
});

describe("several callers' tokens on one HTTP/2 session (TLS)", () => {
  const TLS = fileURLToPath(new URL("../fixtures/tls/", import.meta.url));
  let secured: SecuredGateway | undefined;
  let backend: SecuredGateway["backend"];
  let gateway: RunningGateway;
  let rsa: TestKey;

  beforeAll(async () => {
    secured = await startSecuredGateway({ extra: { server: { tls: { certFile: `${TLS}server.pem`, keyFile: `${TLS}server.key` } } } });
    ({ backend, gateway, rsa } = secured);
  });
  afterAll(() => secured?.close());

  it("each stream is its own token's caller, sequential or interleaved; a forged token is a 401", async () => {
    // The per-connection token memo is keyed by the HTTP/2 session: one memo for all its streams.
    const sign = (sub: string) => signToken(rsa, liveClaims(RSA_ISSUER, AUDIENCE, { sub, scope: "users:write" }));
    const alice = await sign("alice");
    const bob = await sign("bob");
    const forged = `${alice.slice(0, -2)}${alice.endsWith("AA") ? "BB" : "AA"}`;
    const session = connect(gateway.url, { ca: readFileSync(`${TLS}ca.pem`) });
    const callOn = (token: string, userId: string) =>
      new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":method": "DELETE", ":path": `/v1/users/${userId}`, ...bearer(token) });
        let status = 0;
        stream.on("response", (headers) => (status = Number(headers[":status"])));
        stream.on("end", () => resolve(status));
        stream.on("error", reject);
        stream.resume();
        stream.end();
      });
    const subjectOf = (userId: string) => {
      const call = backend.calls.find((seen) => (seen.request as { userId?: string }).userId === userId);
      return call === undefined ? "no call" : String(identityOf(call.metadata)["x-user-id"]);
    };
    try {
      const sequential: Array<[string, string]> = [[alice, "s1"], [alice, "s2"], [bob, "s3"], [forged, "s4"], [alice, "s5"]];
      const statuses: number[] = [];
      for (const [token, userId] of sequential) statuses.push(await callOn(token, userId));
      expect(statuses).toEqual([204, 204, 204, 401, 204]);
      expect(["s1", "s2", "s3", "s4", "s5"].map(subjectOf)).toEqual(["alice", "alice", "bob", "no call", "alice"]);
      // Interleaved: streams of both callers (and the forged token) in flight together.
      const tokens = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? alice : i % 3 === 1 ? bob : forged));
      const parallel = await Promise.all(tokens.map((token, i) => callOn(token, `p${i}`)));
      expect(parallel).toEqual(tokens.map((token) => (token === forged ? 401 : 204)));
      expect(tokens.map((_, i) => subjectOf(`p${i}`))).toEqual(tokens.map((token) => (token === alice ? "alice" : token === bob ? "bob" : "no call")));
    } finally {
      session.close();
    }
  });
});

describe("a kid flood (through the gateway, injected clock)", () => {
  const COOLDOWN_MS = 30_000;
  const BURST = 1_000;
  const CONCURRENCY = 50;
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let jwks: JwksServer;
  let gateway: RunningGateway;
  let key: TestKey;
  let clock: TestClock;
  const probe = edgeProbe(
    () => gateway,
    () => backend,
  );

  beforeAll(async () => {
    key = await createTestKey("RS256", "flood-key");
    backend = await startUserBackend(HANDLERS);
    jwks = await startJwksServer([key.jwk]);
    // The gateway's clock stands still unless the test moves it: the whole burst happens within
    // one cool-down however long it takes on this machine.
    clock = createTestClock(Date.now());
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address }, securityConfig({ jwksUrl: jwks.url, cooldownMs: COOLDOWN_MS }), { auth: { now: clock.now } });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
    await jwks?.close();
  });

  /** Sends `BURST` properly signed tokens naming random unpublished kids; returns the answers by status and message. */
  async function burst(): Promise<Record<string, number>> {
    const tokens = await Promise.all(Array.from({ length: BURST }, () => signToken({ privateKey: key.privateKey, alg: "RS256", kid: randomKid() }, liveClaims(RSA_ISSUER, AUDIENCE, { scope: "users:write" }))));
    const outcomes: Record<string, number> = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < tokens.length) {
          const response = await send(gateway.url, "DELETE", "/v1/users/b-1", { headers: bearer(tokens[next++]) });
          const label = `${response.status} ${(response.json as { message?: string } | undefined)?.message ?? response.text}`;
          outcomes[label] = (outcomes[label] ?? 0) + 1;
        }
      }),
    );
    return outcomes;
  }

  it("costs the JWKS server at most one fetch per cool-down, every request is a 401, and the published key keeps working", async () => {
    const good = await signToken({ privateKey: key.privateKey, alg: "RS256", kid: key.kid }, liveClaims(RSA_ISSUER, AUDIENCE, { sub: "before-flood", scope: "users:write" }));
    expect((await send(gateway.url, "DELETE", "/v1/users/b-0", { headers: bearer(good) })).status).toBe(204);
    expect(jwks.requests()).toBe(1);

    // Within the cool-down of that first fetch: no fetch at all.
    expect(await burst()).toEqual({ "401 unknown key id": BURST });
    expect(jwks.requests()).toBe(1);
    // One cool-down later: exactly one fetch for the whole burst.
    clock.advanceSeconds(COOLDOWN_MS / 1000);
    expect(await burst()).toEqual({ "401 unknown key id": BURST });
    expect(jwks.requests()).toBe(2);
    clock.advanceSeconds(COOLDOWN_MS / 1000 - 1);
    expect(await burst()).toEqual({ "401 unknown key id": BURST });
    expect(jwks.requests()).toBe(2);
    expect(backend.calls.length).toBe(1);

    // The published key still verifies from the cached set, without another fetch.
    const after = await signToken({ privateKey: key.privateKey, alg: "RS256", kid: key.kid }, liveClaims(RSA_ISSUER, AUDIENCE, { sub: "after-flood", scope: "users:write" }));
    const identity = await probe.accepted(() => send(gateway.url, "DELETE", "/v1/users/b-2", { headers: bearer(after) }), "deleteUser");
    expect(identity["x-user-id"]).toEqual(["after-flood"]);
    expect(jwks.requests()).toBe(2);
    await probe.stillServes();
  }, 120_000);
});

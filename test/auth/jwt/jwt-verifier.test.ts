import { exportSPKI, SignJWT, UnsecuredJWT } from "jose";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { jwtConfigSchema } from "../../../src/auth/jwt/jwt-config.js";
import { createJwtVerifier, type JwtVerifier, type JwtVerifierOptions } from "../../../src/auth/jwt/jwt-verifier.js";
import {
  createTestClock,
  createTestKey,
  expectRejected,
  signRawPayload,
  signToken,
  START_S,
  startJwksServer,
  unsignedToken,
  validClaims,
  type JwksServer,
  type TestClock,
  type TestKey,
} from "./jwt-test-kit.js";

const ISSUER = "https://idp.test";
const COOLDOWN_S = 30;
const MAX_AGE_S = 600;

let rsa: TestKey;
let ec: TestKey;
let jwks: JwksServer;
let clock: TestClock;
let verifier: JwtVerifier | undefined;

beforeAll(async () => {
  rsa = await createTestKey("RS256", "rsa-1");
  ec = await createTestKey("ES256", "ec-1");
  jwks = await startJwksServer([rsa.jwk, ec.jwk]);
});

afterAll(async () => {
  await jwks.close();
});

let requestsBefore = 0;
beforeEach(() => {
  clock = createTestClock();
  jwks.setKeys([rsa.jwk, ec.jwk]);
  jwks.setMode("serve");
  requestsBefore = jwks.requests();
});

afterEach(() => {
  verifier?.close();
  verifier = undefined;
  vi.restoreAllMocks();
});

/** JWKS requests since the test started. */
const fetches = (): number => jwks.requests() - requestsBefore;

async function jwksVerifier(overrides: Record<string, unknown> = {}, options: JwtVerifierOptions = {}): Promise<JwtVerifier> {
  const config = jwtConfigSchema.parse({
    issuers: [{ issuer: ISSUER, audiences: ["protogate", "other-api"], algorithms: ["RS256", "ES256"], jwksUrl: jwks.url }],
    jwks: { timeoutMs: 300, cooldownMs: COOLDOWN_S * 1000, maxAgeMs: MAX_AGE_S * 1000 },
    ...overrides,
  });
  verifier = await createJwtVerifier(config, { now: clock.now, ...options });
  return verifier;
}

describe("JWT verifier with a JWKS issuer", () => {
  it.each([
    ["RS256", () => rsa],
    ["ES256", () => ec],
  ])("accepts a valid %s token and describes the caller", async (_alg, key) => {
    const v = await jwksVerifier();
    const token = await signToken(key(), validClaims({ scope: "orders:read  orders:write", tenant: "acme" }));
    const jwt = await v.verify(token);
    expect(jwt).toEqual({
      subject: "user-42",
      issuer: ISSUER,
      audience: ["protogate"],
      scopes: ["orders:read", "orders:write"],
      expiresAt: START_S + 3600,
      claims: expect.objectContaining({ tenant: "acme", sub: "user-42" }),
    });
    expect(Object.isFrozen(jwt.claims)).toBe(true);
    expect(fetches()).toBe(1);
  });

  it("reads scopes from an scp array and accepts any configured audience", async () => {
    const v = await jwksVerifier();
    const jwt = await v.verify(await signToken(rsa, validClaims({ aud: ["unrelated", "other-api"], scp: ["a", "b", 7] })));
    expect(jwt.scopes).toEqual(["a", "b"]);
    expect(jwt.audience).toEqual(["unrelated", "other-api"]);
  });

  it("rejects alg none without fetching keys", async () => {
    const v = await jwksVerifier();
    const token = new UnsecuredJWT(validClaims()).encode();
    await expectRejected(v.verify(token), "algorithm not allowed", token);
    expect(fetches()).toBe(0);
  });

  it("rejects HS256 signed with the RSA public key (PEM text) as the secret", async () => {
    const v = await jwksVerifier();
    const pem = await exportSPKI(rsa.publicKey);
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: "HS256", kid: rsa.kid }).sign(new TextEncoder().encode(pem));
    await expectRejected(v.verify(token), "algorithm not allowed", token);
    expect(fetches()).toBe(0);
  });

  it("rejects an algorithm of the right family that the issuer does not allow", async () => {
    const v = await jwksVerifier();
    const token = unsignedToken({ alg: "PS256", kid: rsa.kid }, validClaims());
    await expectRejected(v.verify(token), "algorithm not allowed", token);
    expect(fetches()).toBe(0);
  });

  it("refetches once for an unknown kid, then rejects", async () => {
    const v = await jwksVerifier();
    await v.verify(await signToken(rsa, validClaims()));
    expect(fetches()).toBe(1);
    clock.advanceSeconds(COOLDOWN_S + 1);
    const stranger = await createTestKey("RS256", "not-published");
    const token = await signToken(stranger, validClaims());
    await expectRejected(v.verify(token), "unknown key id", token);
    expect(fetches()).toBe(2);
    await expectRejected(v.verify(token), "unknown key id", token);
    expect(fetches()).toBe(2);
  });

  it("a burst of 1,000 random kids costs at most one JWKS fetch per cool-down", async () => {
    const v = await jwksVerifier();
    const burst = (): Promise<PromiseSettledResult<unknown>[]> =>
      Promise.allSettled(Array.from({ length: 1000 }, () => v.verify(unsignedToken({ alg: "RS256", kid: randomUUID() }, validClaims()))));

    const cold = await burst();
    expect(fetches()).toBe(1);
    expect(cold.every((result) => result.status === "rejected" && (result.reason as Error).message === "unknown key id")).toBe(true);

    clock.advanceSeconds(COOLDOWN_S - 1);
    await burst();
    expect(fetches()).toBe(1);

    clock.advanceSeconds(2);
    await burst();
    expect(fetches()).toBe(2);
    await burst();
    expect(fetches()).toBe(2);
  });

  it("follows key rotation: a new key is accepted after the refetch, a removed key rejected", async () => {
    const v = await jwksVerifier();
    const oldToken = await signToken(rsa, validClaims());
    await v.verify(oldToken);

    const rotated = await createTestKey("RS256", "rsa-2");
    jwks.setKeys([rotated.jwk]);
    clock.advanceSeconds(COOLDOWN_S + 1);
    const newToken = await signToken(rotated, validClaims());
    expect((await v.verify(newToken)).subject).toBe("user-42");
    expect(fetches()).toBe(2);

    // A fresh token signed with the removed key, and the one cached before the rotation.
    const another = await signToken(rsa, validClaims({ sub: "user-43" }));
    await expectRejected(v.verify(another), "unknown key id", another);
    await expectRejected(v.verify(oldToken), "unknown key id", oldToken);
    expect(fetches()).toBe(2);
  });

  it("refetches a set older than maxAge in the background", async () => {
    const v = await jwksVerifier();
    await v.verify(await signToken(rsa, validClaims()));
    clock.advanceSeconds(MAX_AGE_S + 1);
    expect((await v.verify(await signToken(rsa, validClaims({ sub: "other" })))).subject).toBe("other");
    await jwks.requested(requestsBefore + 2);
    expect(fetches()).toBe(2);
  });

  it("keeps verifying known kids while the JWKS server hangs, and rejects others within the timeout", async () => {
    const v = await jwksVerifier();
    await v.verify(await signToken(rsa, validClaims()));
    jwks.setMode("hang");
    clock.advanceSeconds(MAX_AGE_S + 1);
    // Stale set: the cached key verifies at once; the refetch runs in the background.
    expect((await v.verify(await signToken(ec, validClaims({ sub: "still-ok" })))).subject).toBe("still-ok");
    await jwks.requested(requestsBefore + 2);
    expect(fetches()).toBe(2);

    // An unknown kid waits for that fetch, which times out (timeoutMs 300): key set unavailable.
    const unknown = unsignedToken({ alg: "RS256", kid: "new-kid" }, validClaims());
    await expectRejected(v.verify(unknown), "key set unavailable");
    expect(fetches()).toBe(2);
    // Within the retry delay after that failure: answered at once, no new fetch.
    await expectRejected(v.verify(unknown), "key set unavailable");
    expect(fetches()).toBe(2);
    clock.advanceSeconds(1);
    await expectRejected(v.verify(unknown), "key set unavailable");
    expect(fetches()).toBe(3);
    // Back up: the next attempt (2 s after the second failure) learns the kid is really unknown.
    jwks.setMode("serve");
    clock.advanceSeconds(2);
    await expectRejected(v.verify(unknown), "unknown key id");
    expect(fetches()).toBe(4);
  });

  it.each(["hang", "error"] as const)("rejects with key set unavailable when the JWKS server is down from the start (%s)", async (mode) => {
    jwks.setMode(mode);
    const v = await jwksVerifier();
    const token = await signToken(rsa, validClaims());
    const error = await expectRejected(v.verify(token), "key set unavailable", token);
    expect(error.cause).toBeInstanceOf(Error);
    expect(fetches()).toBe(1);
    // A failed attempt spaces the next one by the retry delay (1 s), not the whole cool-down.
    await expectRejected(v.verify(token), "key set unavailable", token);
    expect(fetches()).toBe(1);
    jwks.setMode("serve");
    clock.advanceSeconds(1);
    expect((await v.verify(token)).subject).toBe("user-42");
    expect(fetches()).toBe(2);
  });

  it("uses the injected fetch", async () => {
    const fetchSpy = vi.fn<typeof fetch>(async () => new Response(JSON.stringify({ keys: [rsa.jwk] })));
    const v = await jwksVerifier({}, { fetch: fetchSpy });
    await v.verify(await signToken(rsa, validClaims()));
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(fetchSpy.mock.calls[0][0]).toBe(jwks.url);
    expect(fetches()).toBe(0);
  });

  describe("claims", () => {
    it.each([
      ["expired", { exp: START_S - 31 }, "token expired"],
      ["exp in the past within the leeway", { exp: START_S - 20 }, null],
      ["nbf in the future beyond the leeway", { nbf: START_S + 31 }, "token not yet valid"],
      ["nbf in the future within the leeway", { nbf: START_S + 29 }, null],
      ["iat in the future beyond the leeway", { iat: START_S + 31 }, "token issued in the future"],
      ["iat in the future within the leeway", { iat: START_S + 29 }, null],
      ["missing exp", { exp: undefined }, "token missing exp"],
      ["exp not a number", { exp: "tomorrow" }, "token exp is not a valid time"],
      ["exp negative", { exp: -1 }, "token exp is not a valid time"],
      ["exp after year 9999", { exp: 253_402_300_800 }, "token exp is not a valid time"],
      ["exp at the end of year 9999", { exp: 253_402_300_799 }, null],
      ["nbf not a number", { nbf: "now" }, "token nbf is not a valid time"],
      ["iat negative", { iat: -5 }, "token iat is not a valid time"],
      ["missing sub", { sub: undefined }, "token missing sub"],
      ["wrong aud", { aud: "someone-else" }, "audience not accepted"],
      ["missing aud", { aud: undefined }, "audience not accepted"],
      ["wrong iss", { iss: "https://evil.test" }, "issuer not accepted"],
      ["missing iss", { iss: undefined }, "issuer not accepted"],
    ] as const)("%s", async (_name, overrides, message) => {
      const v = await jwksVerifier();
      const token = await signToken(rsa, validClaims(overrides as Record<string, unknown>));
      if (message === null) expect((await v.verify(token)).subject).toBe("user-42");
      else await expectRejected(v.verify(token), message, token);
    });

    it.each([
      ["exp", '"exp":1e400', "token exp is not a valid time"],
      ["exp", '"exp":-1e400', "token exp is not a valid time"],
      ["nbf", '"exp":START_EXP,"nbf":1e400', "token nbf is not a valid time"],
      ["nbf", '"exp":START_EXP,"nbf":-1e400', "token nbf is not a valid time"],
      ["iat", '"exp":START_EXP,"iat":1e400', "token iat is not a valid time"],
      ["iat", '"exp":START_EXP,"iat":-1e400', "token iat is not a valid time"],
    ])("regression: a non-finite %s (%s, JSON.parse reads it as ±Infinity) is a 401, not a token that never expires", async (_claim, claims, message) => {
      const v = await jwksVerifier();
      const verifySpy = vi.spyOn(crypto.subtle, "verify");
      const json = `{"iss":"${ISSUER}","aud":"protogate","sub":"user-42",${claims.replace("START_EXP", String(START_S + 3600))}}`;
      const token = await signRawPayload(rsa, json);
      await expectRejected(v.verify(token), message, token);
      // Rejected before any signature work, and never cached: the second try is rejected the same way.
      await expectRejected(v.verify(token), message, token);
      expect(verifySpy).not.toHaveBeenCalled();
    });

    it("honours a configured clock tolerance of 0", async () => {
      const v = await jwksVerifier({ clockToleranceSeconds: 0 });
      const token = await signToken(rsa, validClaims({ nbf: START_S + 5 }));
      await expectRejected(v.verify(token), "token not yet valid", token);
    });
  });

  describe("malformed and oversized tokens", () => {
    it("rejects a tampered payload", async () => {
      const v = await jwksVerifier();
      const [header, , signature] = (await signToken(rsa, validClaims())).split(".");
      const forged = `${header}.${Buffer.from(JSON.stringify(validClaims({ sub: "admin" }))).toString("base64url")}.${signature}`;
      await expectRejected(v.verify(forged), "signature verification failed", forged);
    });

    it("rejects a truncated token", async () => {
      const v = await jwksVerifier();
      const token = await signToken(rsa, validClaims());
      const [header, payload] = token.split(".");
      await expectRejected(v.verify(`${header}.${payload.slice(0, payload.length >> 1)}`), "malformed token");
      await expectRejected(v.verify(`${header}.${payload.slice(0, payload.length >> 1)}.`), "malformed token");
      await expectRejected(v.verify(token.slice(0, -10)), "signature verification failed");
    });

    it("rejects a 64 KB token before parsing it and without fetching keys", async () => {
      const fetchSpy = vi.fn<typeof fetch>(async () => new Response(JSON.stringify({ keys: [rsa.jwk] })));
      const v = await jwksVerifier({}, { fetch: fetchSpy });
      const big = await signToken(rsa, validClaims({ pad: "x".repeat(64 * 1024) }));
      const parse = vi.spyOn(JSON, "parse");
      await expectRejected(v.verify(big), "token too large");
      expect(parse).not.toHaveBeenCalled();
      expect(fetchSpy).not.toHaveBeenCalled();
      // The same claims fit under a raised limit, so the size is what was rejected.
      verifier?.close();
      const roomy = await jwksVerifier({ maxTokenBytes: 128 * 1024 }, { fetch: fetchSpy });
      expect((await roomy.verify(big)).subject).toBe("user-42");
    });

    it.each([
      ["empty", "", "token missing"],
      ["two segments", "abc.def", "malformed token"],
      ["four segments", "a.b.c.d", "malformed token"],
      ["non-base64url characters", "a+b.c/d.e", "malformed token"],
      ["header not JSON", `${Buffer.from("nope").toString("base64url")}.${Buffer.from("{}").toString("base64url")}.sig`, "malformed token"],
      ["header an array", unsignedToken({}, {}).replace(/^[^.]+/, Buffer.from("[1]").toString("base64url")), "malformed token"],
      ["header without alg", unsignedToken({ kid: "x" }, validClaims()), "malformed token"],
      ["numeric kid", unsignedToken({ alg: "RS256", kid: 5 }, validClaims()), "malformed token"],
      ["payload not JSON", `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from("{").toString("base64url")}.sig`, "malformed token"],
      ["non-ASCII", `${unsignedToken({ alg: "RS256" }, validClaims())}é`, "malformed token"],
    ])("rejects a token with %s", async (_name, token, message) => {
      const v = await jwksVerifier();
      await expectRejected(v.verify(token), message);
      expect(fetches()).toBe(0);
    });
  });

  describe("verified-token cache", () => {
    it("does not verify the signature again for a cached token, until its exp", async () => {
      const v = await jwksVerifier();
      const verifySpy = vi.spyOn(crypto.subtle, "verify");
      const token = await signToken(rsa, validClaims({ exp: START_S + 60 }));
      const verifying = v.verify(token);
      expect(verifying).toBeInstanceOf(Promise);
      const first = await verifying;
      expect(verifySpy).toHaveBeenCalledTimes(1);
      // A hot token is answered synchronously: no promise, no microtask turn on the hot path.
      expect(v.verify(token)).toBe(first);
      expect(v.cached(token)).toBe(first);
      clock.advanceSeconds(59);
      expect(await v.verify(token)).toBe(first);
      expect(verifySpy).toHaveBeenCalledTimes(1);
      // At exp the entry expires; the leeway still accepts the token, after a real verification.
      clock.advanceSeconds(1);
      expect((await v.verify(token)).subject).toBe("user-42");
      expect(verifySpy).toHaveBeenCalledTimes(2);
      clock.advanceSeconds(31);
      expect(v.cached(token)).toBeUndefined();
      await expectRejected(v.verify(token), "token expired", token);
    });

    it("cached: only tokens verified before, never one it has not seen or an oversized one", async () => {
      const v = await jwksVerifier();
      const token = await signToken(rsa, validClaims({ exp: START_S + 60 }));
      expect(v.cached(token)).toBeUndefined();
      await v.verify(token);
      expect(v.cached(token)?.subject).toBe("user-42");
      expect(v.cached(`${token}x`)).toBeUndefined();
      expect(v.cached("a".repeat(1_000_000))).toBeUndefined();
    });

    it("a hot cached token alone refreshes a stale key set, and is rejected once its key is gone", async () => {
      let fetched: () => void = () => undefined;
      const v = await jwksVerifier({}, { onJwksFetch: (_issuer, outcome) => outcome === "success" && fetched() });
      const token = await signToken(rsa, validClaims({ exp: START_S + 7200 }));
      await v.verify(token);
      jwks.setKeys([ec.jwk]);
      clock.advanceSeconds(MAX_AGE_S);
      const refetched = new Promise<void>((resolve) => (fetched = resolve));
      // Still answered from the cache (no request waits for the refetch it starts) ...
      expect((await v.verify(token)).subject).toBe("user-42");
      // ... and once the new set is in, the token is verified again and its key is unknown.
      await refetched;
      await expectRejected(v.verify(token), "unknown key id", token);
      expect(fetches()).toBe(2);
    });

    describe("the last token of a connection", () => {
      it("answers the token its connection presented last, and only on that connection, even once the cache evicted it", async () => {
        const v = await jwksVerifier({ verifiedTokenCache: { maxEntries: 1 } });
        const alice = await signToken(rsa, validClaims({ sub: "alice", exp: START_S + 60 }));
        const bob = await signToken(rsa, validClaims({ sub: "bob", exp: START_S + 60 }));
        const mine = {};
        const other = {};
        await v.verify(alice);
        expect(v.cached(alice, mine)?.subject).toBe("alice");
        await v.verify(bob); // evicts alice from the one-entry cache
        expect(v.cached(alice)).toBeUndefined();
        expect(v.cached(alice, other)).toBeUndefined();
        // Still the last token found on `mine`: compared as a string, not looked up in the cache.
        expect(v.cached(alice, mine)?.subject).toBe("alice");
      });

      it("never answers another token with it: a different token on the connection is looked up as itself", async () => {
        const v = await jwksVerifier();
        const alice = await signToken(rsa, validClaims({ sub: "alice", exp: START_S + 60 }));
        const bob = await signToken(rsa, validClaims({ sub: "bob", exp: START_S + 60 }));
        const shared = {}; // e.g. a proxy multiplexing two clients over one connection
        await v.verify(alice);
        await v.verify(bob);
        expect(v.cached(alice, shared)?.subject).toBe("alice");
        expect(v.cached(bob, shared)?.subject).toBe("bob");
        expect(v.cached(alice, shared)?.subject).toBe("alice");
        // Same length, one character changed: not the remembered token.
        const forged = `${alice.slice(0, -1)}${alice.endsWith("A") ? "B" : "A"}`;
        expect(v.cached(forged, shared)).toBeUndefined();
        expect(v.cached(`${alice}.x`, shared)).toBeUndefined();
      });

      it("does not outlive the token's exp, nor the verifier", async () => {
        const v = await jwksVerifier();
        const token = await signToken(rsa, validClaims({ exp: START_S + 60 }));
        const connection = {};
        await v.verify(token);
        expect(v.cached(token, connection)?.subject).toBe("user-42");
        clock.advanceSeconds(59);
        expect(v.cached(token, connection)?.subject).toBe("user-42");
        clock.advanceSeconds(1);
        expect(v.cached(token, connection)).toBeUndefined();

        const later = await signToken(rsa, validClaims({ exp: START_S + 600 }));
        await v.verify(later);
        expect(v.cached(later, connection)?.subject).toBe("user-42");
        v.close();
        expect(v.cached(later, connection)).toBeUndefined();
      });

      it("is dropped once its key set changes, and remembers the token verified again", async () => {
        let fetched: () => void = () => undefined;
        const v = await jwksVerifier({}, { onJwksFetch: (_issuer, outcome) => outcome === "success" && fetched() });
        const verifySpy = vi.spyOn(crypto.subtle, "verify");
        const token = await signToken(rsa, validClaims({ exp: START_S + 7200 }));
        const connection = {};
        await v.verify(token);
        expect(v.cached(token, connection)?.subject).toBe("user-42");
        // The same keys under a new set: a new generation, so the token is verified again, once.
        jwks.setKeys([ec.jwk, rsa.jwk]);
        clock.advanceSeconds(MAX_AGE_S);
        const refetched = new Promise<void>((resolve) => (fetched = resolve));
        expect(v.cached(token, connection)?.subject).toBe("user-42"); // starts the refetch, answers meanwhile
        await refetched;
        expect(v.cached(token, connection)).toBeUndefined();
        expect((await v.verify(token)).subject).toBe("user-42");
        expect(verifySpy).toHaveBeenCalledTimes(2);
        expect(v.cached(token, connection)?.subject).toBe("user-42");
        expect(v.cached(token, connection)?.subject).toBe("user-42");
        expect(verifySpy).toHaveBeenCalledTimes(2);
        // Its key removed: rejected, through the connection's memo too.
        jwks.setKeys([ec.jwk]);
        clock.advanceSeconds(MAX_AGE_S);
        const removed = new Promise<void>((resolve) => (fetched = resolve));
        v.cached(token, connection);
        await removed;
        expect(v.cached(token, connection)).toBeUndefined();
        await expectRejected(v.verify(token), "unknown key id", token);
      });
    });

    it("verifies every time when the cache is off", async () => {
      const v = await jwksVerifier({ verifiedTokenCache: { maxEntries: 0 } });
      const verifySpy = vi.spyOn(crypto.subtle, "verify");
      const token = await signToken(ec, validClaims());
      await v.verify(token);
      await v.verify(token);
      expect(verifySpy).toHaveBeenCalledTimes(2);
    });

    it("does not cache rejections", async () => {
      const v = await jwksVerifier();
      const verifySpy = vi.spyOn(crypto.subtle, "verify");
      const [header, payload] = (await signToken(rsa, validClaims())).split(".");
      const forged = `${header}.${payload}.${Buffer.alloc(256, 1).toString("base64url")}`;
      await expectRejected(v.verify(forged), "signature verification failed");
      await expectRejected(v.verify(forged), "signature verification failed");
      expect(verifySpy).toHaveBeenCalledTimes(2);
    });
  });

  it("rejects after close", async () => {
    const v = await jwksVerifier();
    const token = await signToken(rsa, validClaims());
    await v.verify(token);
    v.close();
    await expect(v.verify(token)).rejects.toMatchObject({ reason: "PG_ERR_INTERNAL" });
  });
});

describe("JWT verifier with several issuers", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-jwt-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("picks the issuer by iss and verifies with that issuer's keys only", async () => {
    await writeFile(join(dir, "rsa.pem"), await exportSPKI(rsa.publicKey));
    const secret = "s".repeat(32);
    const config = jwtConfigSchema.parse({
      issuers: [
        { issuer: ISSUER, audiences: ["protogate"], algorithms: ["RS256"], jwksUrl: jwks.url },
        { issuer: "https://files.test", audiences: ["protogate"], algorithms: ["RS256"], keyFile: "rsa.pem" },
        { issuer: "https://hmac.test", audiences: ["protogate"], algorithms: ["HS256"], hmacSecret: secret },
      ],
    });
    verifier = await createJwtVerifier(config, { now: clock.now, baseDir: dir });
    expect((await verifier.verify(await signToken(rsa, validClaims({ iss: "https://files.test" })))).issuer).toBe("https://files.test");
    const hmacKey = { alg: "HS256", privateKey: new TextEncoder().encode(secret) };
    expect((await verifier.verify(await signToken(hmacKey, validClaims({ iss: "https://hmac.test" })))).issuer).toBe("https://hmac.test");
    // An HMAC token claiming the RSA issuer, and an RSA token claiming the HMAC issuer.
    const hmacForRsa = await signToken(hmacKey, validClaims({ iss: "https://files.test" }));
    await expectRejected(verifier.verify(hmacForRsa), "algorithm not allowed", hmacForRsa);
    const rsaForHmac = await signToken(rsa, validClaims({ iss: "https://hmac.test" }));
    await expectRejected(verifier.verify(rsaForHmac), "algorithm not allowed", rsaForHmac);
    // The right algorithm, but signed by another issuer's key.
    const other = await createTestKey("RS256", "rsa-1");
    const wrongKey = await signToken(other, validClaims({ iss: "https://files.test" }));
    await expectRejected(verifier.verify(wrongKey), "signature verification failed", wrongKey);
    const wrongSecret = await signToken({ alg: "HS256", privateKey: new TextEncoder().encode("t".repeat(32)) }, validClaims({ iss: "https://hmac.test" }));
    await expectRejected(verifier.verify(wrongSecret), "signature verification failed", wrongSecret);
  });
});

import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/load-config.js";
import { jwtConfigSchema } from "../../../src/auth/jwt/jwt-config.js";
import { createJwtVerifier, type JwtVerifier } from "../../../src/auth/jwt/jwt-verifier.js";
import { createTestClock, createTestKey, expectRejected, signToken, validClaims, type TestKey } from "./jwt-test-kit.js";

const ISSUER = "https://idp.test";
let dir: string;
let rsa: TestKey;
let ec1: TestKey;
let ec2: TestKey;
let verifier: JwtVerifier | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pg-jwt-keys-"));
  rsa = await createTestKey("RS256", "rsa-1");
  ec1 = await createTestKey("ES256", "ec-1");
  ec2 = await createTestKey("ES256", "ec-2");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  verifier?.close();
  verifier = undefined;
});

async function fileVerifier(issuer: Record<string, unknown>): Promise<JwtVerifier> {
  const config = jwtConfigSchema.parse({ issuers: [{ issuer: ISSUER, audiences: ["protogate"], ...issuer }] });
  verifier = await createJwtVerifier(config, { now: createTestClock().now, baseDir: dir });
  return verifier;
}

async function put(name: string, content: string): Promise<string> {
  await writeFile(join(dir, name), content);
  return name;
}

describe("key file issuers", () => {
  it("verifies with a PEM public key, whatever kid the token names", async () => {
    const v = await fileVerifier({ algorithms: ["RS256"], keyFile: await put("rsa.pem", await exportSPKI(rsa.publicKey)) });
    expect((await v.verify(await signToken(rsa, validClaims()))).subject).toBe("user-42");
    expect((await v.verify(await signToken({ ...rsa, kid: null }, validClaims({ sub: "no-kid" })))).subject).toBe("no-kid");
    const stranger = await createTestKey("RS256", "rsa-1");
    const token = await signToken(stranger, validClaims());
    await expectRejected(v.verify(token), "signature verification failed", token);
  });

  it("rejects HS256 signed with the configured PEM file's text as the secret", async () => {
    const pem = await exportSPKI(rsa.publicKey);
    const v = await fileVerifier({ algorithms: ["RS256"], keyFile: await put("rsa-attack.pem", pem) });
    for (const secret of [pem, `${pem}\n`, pem.trim()]) {
      const token = await signToken({ alg: "HS256", privateKey: new TextEncoder().encode(secret) }, validClaims());
      await expectRejected(v.verify(token), "algorithm not allowed", token);
    }
  });

  it("verifies with any of several PEM keys in one file (an absolute path)", async () => {
    const pem = `${await exportSPKI(ec1.publicKey)}\n${await exportSPKI(ec2.publicKey)}`;
    await put("two.pem", pem);
    const v = await fileVerifier({ algorithms: ["ES256"], keyFile: join(dir, "two.pem") });
    expect((await v.verify(await signToken({ ...ec1, kid: null }, validClaims({ sub: "one" })))).subject).toBe("one");
    expect((await v.verify(await signToken({ ...ec2, kid: null }, validClaims({ sub: "two" })))).subject).toBe("two");
  });

  it("verifies with a single JWK file", async () => {
    const v = await fileVerifier({ algorithms: ["ES256"], keyFile: await put("ec.jwk", JSON.stringify(ec1.jwk)) });
    expect((await v.verify(await signToken(ec1, validClaims()))).subject).toBe("user-42");
  });

  it("selects the key of a JWK set by kid", async () => {
    const v = await fileVerifier({ algorithms: ["ES256", "RS256"], keyFile: await put("set.json", JSON.stringify({ keys: [ec1.jwk, ec2.jwk, rsa.jwk] })) });
    for (const key of [ec1, ec2, rsa]) expect((await v.verify(await signToken(key, validClaims({ sub: key.kid })))).subject).toBe(key.kid);
    const unknown = await signToken({ ...ec1, kid: "ec-9" }, validClaims());
    await expectRejected(v.verify(unknown), "unknown key id", unknown);
    // ec-2's kid on a token signed by ec-1: the kid picks ec-2, whose signature check fails.
    const mislabelled = await signToken({ ...ec1, kid: "ec-2" }, validClaims());
    await expectRejected(v.verify(mislabelled), "signature verification failed", mislabelled);
  });

  it("tries each matching key for a token without kid", async () => {
    const v = await fileVerifier({ algorithms: ["ES256"], keyFile: await put("set2.json", JSON.stringify({ keys: [ec1.jwk, ec2.jwk] })) });
    expect((await v.verify(await signToken({ ...ec2, kid: null }, validClaims({ sub: "second" })))).subject).toBe("second");
  });
});

describe("HMAC issuers", () => {
  const secret = "0123456789abcdef0123456789abcdef";
  const hmac = (value: string, alg = "HS256") => ({ alg, privateKey: new TextEncoder().encode(value) });

  it("verifies with an inline secret", async () => {
    const v = await fileVerifier({ algorithms: ["HS256"], hmacSecret: secret });
    expect((await v.verify(await signToken(hmac(secret), validClaims()))).subject).toBe("user-42");
    const forged = await signToken(hmac(`${secret}!`), validClaims());
    await expectRejected(v.verify(forged), "signature verification failed", forged);
  });

  it("verifies with a secret file, ignoring one trailing newline", async () => {
    const v = await fileVerifier({ algorithms: ["HS256", "HS384"], hmacSecretFile: await put("secret.txt", `${secret}${secret.slice(0, 16)}\n`) });
    expect((await v.verify(await signToken(hmac(`${secret}${secret.slice(0, 16)}`, "HS384"), validClaims()))).subject).toBe("user-42");
  });

  it("rejects an RS256 token for an HMAC issuer before touching the secret", async () => {
    const v = await fileVerifier({ algorithms: ["HS256"], hmacSecret: secret });
    const token = await signToken(rsa, validClaims());
    await expectRejected(v.verify(token), "algorithm not allowed", token);
  });
});

describe("key loading errors name the issuer and the file", () => {
  it.each([
    ["a missing file", async () => ({ algorithms: ["RS256"], keyFile: "missing.pem" }), "keyFile", "cannot read: ENOENT"],
    ["an RSA key for ES256 only", async () => ({ algorithms: ["ES256"], keyFile: await put("rsa-for-ec.pem", await exportSPKI(rsa.publicKey)) }), "keyFile", "key #1 (RSA) cannot verify any of the allowed algorithms ES256"],
    ["a JWK whose alg is not allowed", async () => ({ algorithms: ["PS256"], keyFile: await put("rs-alg.jwk", JSON.stringify(rsa.jwk)) }), "keyFile", 'its "alg" is RS256'],
    ["a private key PEM", async () => {
      const { privateKey } = await generateKeyPair("RS256", { extractable: true });
      return { algorithms: ["RS256"], keyFile: await put("private.pem", await exportPKCS8(privateKey)) };
    }, "keyFile", "is a private key"],
    ["a private JWK", async () => {
      const { privateKey } = await generateKeyPair("ES256", { extractable: true });
      return { algorithms: ["ES256"], keyFile: await put("private.jwk", JSON.stringify(await exportJWK(privateKey))) };
    }, "keyFile", "holds private key material"],
    ["a symmetric JWK", async () => ({ algorithms: ["RS256"], keyFile: await put("oct.jwk", JSON.stringify({ kty: "oct", k: "c2VjcmV0" })) }), "keyFile", "symmetric (oct) key"],
    ["garbage", async () => ({ algorithms: ["RS256"], keyFile: await put("garbage.txt", "hello") }), "keyFile", "expected PEM public keys"],
    ["invalid JSON", async () => ({ algorithms: ["RS256"], keyFile: await put("bad.json", "{ nope") }), "keyFile", "invalid JSON"],
    ["an empty JWK set", async () => ({ algorithms: ["RS256"], keyFile: await put("empty.json", '{"keys": []}') }), "keyFile", "holds no key"],
    ["a broken PEM", async () => ({ algorithms: ["RS256"], keyFile: await put("broken.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n") }), "keyFile", "is not a valid public key"],
    ["a short HMAC secret file", async () => ({ algorithms: ["HS256"], hmacSecretFile: await put("short.txt", "too-short\n") }), "hmacSecretFile", "the secret has 9 bytes; HS256 need at least 32"],
    ["a secret too short for HS512", async () => ({ algorithms: ["HS256", "HS512"], hmacSecret: "x".repeat(40) }), "hmacSecret", "need at least 64"],
  ])("%s", async (_name, issuer, source, problem) => {
    const error = await fileVerifier(await issuer()).then(
      () => expect.fail("expected a ConfigError"),
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`issuer "${ISSUER}": ${source}`);
    expect(message).toContain(problem);
    if (source === "keyFile") expect(message).toContain(dir);
    expect(message).not.toContain("x".repeat(40));
  });

  it("re-validates the config it is given", async () => {
    const config = { issuers: [{ issuer: ISSUER, audiences: ["a"], algorithms: ["none"], hmacSecret: "x".repeat(32) }] };
    await expect(createJwtVerifier(config as never)).rejects.toThrow('algorithms.0: algorithm "none" is never accepted');
  });
});

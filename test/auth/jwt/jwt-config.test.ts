import { describe, expect, it } from "vitest";
import { jwtConfigSchema, jwtIssuerSchema } from "../../../src/auth/jwt/jwt-config.js";

const base = { issuer: "https://idp.test", audiences: ["protogate"] };

function issues(value: unknown): string[] {
  const result = jwtConfigSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

describe("jwtConfigSchema", () => {
  it("fills the defaults", () => {
    const config = jwtConfigSchema.parse({ issuers: [{ ...base, algorithms: ["RS256"], jwksUrl: "https://idp.test/jwks" }] });
    expect(config).toEqual({
      issuers: [{ ...base, algorithms: ["RS256"], jwksUrl: "https://idp.test/jwks" }],
      clockToleranceSeconds: 30,
      maxTokenBytes: 8192,
      jwks: { timeoutMs: 3000, cooldownMs: 30000, retryMs: 1000, maxAgeMs: 600000, maxStaleMs: 3600000 },
      verifiedTokenCache: { maxEntries: 10000 },
    });
  });

  it.each([
    ["RS256 + ES256 from a JWKS URL", { algorithms: ["RS256", "ES256", "PS256", "EdDSA"], jwksUrl: "http://127.0.0.1:1/jwks" }],
    ["RS256 from a key file", { algorithms: ["RS256"], keyFile: "keys/idp.pem" }],
    ["HS256 + HS512 from an inline secret", { algorithms: ["HS256", "HS512"], hmacSecret: "x".repeat(64) }],
    ["HS256 from a secret file", { algorithms: ["HS256"], hmacSecretFile: "secret.txt" }],
  ])("accepts %s", (_name, issuer) => {
    expect(issues({ issuers: [{ ...base, ...issuer }] })).toEqual([]);
  });

  it.each([
    ["two key sources", { algorithms: ["RS256"], jwksUrl: "https://idp.test/jwks", keyFile: "k.pem" }, ": only one key source is allowed, got jwksUrl and keyFile"],
    ["no key source", { algorithms: ["RS256"] }, ": one key source is required: jwksUrl, keyFile, hmacSecret, hmacSecretFile"],
    ["an HMAC algorithm with an RSA key file", { algorithms: ["HS256"], keyFile: "rsa.pem" }, "algorithms: HMAC algorithms (HS256) need hmacSecret or hmacSecretFile, not keyFile"],
    ["an HMAC algorithm with a JWKS URL", { algorithms: ["HS384"], jwksUrl: "https://idp.test/jwks" }, "algorithms: HMAC algorithms (HS384) need hmacSecret or hmacSecretFile, not jwksUrl"],
    ["a public-key algorithm with an HMAC secret", { algorithms: ["RS256"], hmacSecret: "x".repeat(32) }, "algorithms: hmacSecret can only verify HMAC algorithms, not RS256"],
    ["mixed families", { algorithms: ["HS256", "RS256"], hmacSecretFile: "s" }, "algorithms: HMAC (HS256) and public-key (RS256) algorithms cannot be mixed in one issuer"],
    ["none in the allowlist", { algorithms: ["RS256", "none"], jwksUrl: "https://idp.test/jwks" }, 'algorithms.1: algorithm "none" is never accepted'],
    ["NONE in the allowlist", { algorithms: ["NONE"], jwksUrl: "https://idp.test/jwks" }, 'algorithms.0: algorithm "none" is never accepted'],
    ["an unknown algorithm", { algorithms: ["RS1"], jwksUrl: "https://idp.test/jwks" }, "algorithms.0: unsupported algorithm"],
    ["an empty allowlist", { algorithms: [], jwksUrl: "https://idp.test/jwks" }, "algorithms: Too small"],
    ["a non-HTTP JWKS URL", { algorithms: ["RS256"], jwksUrl: "file:///etc/jwks.json" }, "jwksUrl: expected an http or https URL"],
    ["no audience", { algorithms: ["RS256"], jwksUrl: "https://idp.test/jwks", audiences: [] }, "audiences: Too small"],
    ["an unknown key", { algorithms: ["RS256"], jwksUrl: "https://idp.test/jwks", secret: "x" }, 'Unrecognized key: "secret"'],
  ])("rejects %s", (_name, issuer, expected) => {
    const found = issues({ issuers: [{ ...base, ...issuer }] });
    expect(found.length).toBeGreaterThan(0);
    expect(found.map((issue) => issue.replace(/^issuers\.0\.?/, ""))).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  it("never echoes an HMAC secret in its errors", () => {
    const secret = "very-secret-value-0123456789abcdef";
    const found = issues({ issuers: [{ ...base, algorithms: ["RS256"], hmacSecret: secret, keyFile: "k" }] });
    expect(found.length).toBeGreaterThan(0);
    for (const issue of found) expect(issue).not.toContain(secret);
  });

  it("rejects duplicate issuers, no issuers and bad limits", () => {
    const issuer = { ...base, algorithms: ["RS256"], jwksUrl: "https://idp.test/jwks" };
    expect(issues({ issuers: [issuer, issuer] })).toEqual(['issuers.1.issuer: duplicate issuer "https://idp.test"']);
    expect(issues({ issuers: [] })).toHaveLength(1);
    expect(issues({ issuers: [issuer], maxTokenBytes: 0 })).toHaveLength(1);
    expect(issues({ issuers: [issuer], clockToleranceSeconds: -1 })).toHaveLength(1);
    expect(issues({ issuers: [issuer], jwks: { timeoutMs: 0 } })).toHaveLength(1);
  });

  it("exports the issuer schema on its own", () => {
    expect(jwtIssuerSchema.safeParse({ ...base, algorithms: ["ES256"], keyFile: "k.jwk" }).success).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { authConfigSchema, credentialHeaderNames } from "../../src/auth/auth-config.js";

const HASH = "a".repeat(64);
const jwt = { issuers: [{ issuer: "https://issuer.example", audiences: ["api"], algorithms: ["HS256"], hmacSecret: "s" }] };

/** Each issue as `path: message`, or "ok". */
function issues(input: unknown): string[] | "ok" {
  const result = authConfigSchema.safeParse(input);
  if (result.success) return "ok";
  return result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.code === "unrecognized_keys" ? `unknown ${issue.keys.join(",")}` : issue.message}`);
}

describe("authConfigSchema defaults", () => {
  it("parses {} to auth on with nothing configured", () => {
    expect(authConfigSchema.parse({})).toEqual({ mode: "on", rules: [], identity: { stripHeaders: [], claims: {} } });
  });

  it("fills API-key defaults and lower-cases header names", () => {
    const parsed = authConfigSchema.parse({
      jwt,
      tokenSources: [{ header: "X-Auth-Token", bearer: false }, { header: "Authorization" }, { cookie: "session" }],
      apiKeys: { keys: [{ sha256: HASH, consumer: "billing" }] },
      identity: { stripHeaders: ["X-Roles"], claims: { tenant: "x-tenant" } },
    });
    expect(parsed.apiKeys).toEqual({ header: "x-api-key", keys: [{ sha256: HASH, consumer: "billing", tier: "default", scopes: [] }] });
    expect(parsed.tokenSources).toEqual([{ header: "x-auth-token", bearer: false }, { header: "authorization", bearer: true }, { cookie: "session" }]);
    expect(parsed.identity.stripHeaders).toEqual(["x-roles"]);
    expect(parsed.jwt?.clockToleranceSeconds).toBe(30);
    expect(credentialHeaderNames(parsed).sort()).toEqual(["authorization", "x-api-key", "x-auth-token"]);
  });

  it("accepts rules of every selector form", () => {
    expect(
      issues({
        rules: [
          { selector: "*", scopes: ["base"] },
          { selector: "demo.v1.OrderService.*", forwardAuthorization: true },
          { selector: "demo.v1.OrderService.GetOrder", public: true },
        ],
      }),
    ).toBe("ok");
  });
});

describe("authConfigSchema errors name the key", () => {
  it.each<[string, unknown, string[]]>([
    ["unknown top-level key", { jwks: {} }, [": unknown jwks"]],
    ["bad mode", { mode: "maybe" }, ['mode: Invalid option: expected one of "on"|"off"']],
    ["raw key instead of hash", { apiKeys: { keys: [{ sha256: "my-secret-key", consumer: "c" }] } }, ["apiKeys.keys.0.sha256: expected the SHA-256 of the key as 64 lower-case hex digits (never the key itself)"]],
    ["upper-case hash", { apiKeys: { keys: [{ sha256: HASH.toUpperCase(), consumer: "c" }] } }, ["apiKeys.keys.0.sha256: expected the SHA-256 of the key as 64 lower-case hex digits (never the key itself)"]],
    ["missing consumer", { apiKeys: { keys: [{ sha256: HASH }] } }, ["apiKeys.keys.0.consumer: Invalid input: expected string, received undefined"]],
    ["non-ASCII consumer", { apiKeys: { keys: [{ sha256: HASH, consumer: "bühler" }] } }, ["apiKeys.keys.0.consumer: must be printable ASCII"]],
    ["unknown key in an API key", { apiKeys: { keys: [{ sha256: HASH, consumer: "c", key: "x" }] } }, ["apiKeys.keys.0: unknown key"]],
    ["duplicate hash", { apiKeys: { keys: [{ sha256: HASH, consumer: "a" }, { sha256: HASH, consumer: "b" }] } }, ["apiKeys.keys.1.sha256: the same key hash is configured twice"]],
    ["API key in Authorization", { apiKeys: { header: "Authorization", keys: [] } }, ["apiKeys.header: the API-key header cannot be authorization (it carries bearer tokens)"]],
    ["scope with a space", { rules: [{ selector: "*", scopes: ["a b"] }] }, ["rules.0.scopes.0: a scope is printable ASCII without spaces, quotes or backslashes"]],
    ["bad selector", { rules: [{ selector: "demo.v1.*.Get", public: true }] }, ["rules.0.selector: expected pkg.Service.Method, pkg.Service.* or *"]],
    ["empty rule", { rules: [{ selector: "*" }] }, ["rules.0: a rule must set public, scopes or forwardAuthorization"]],
    ["public with scopes", { rules: [{ selector: "*", public: true, scopes: ["a"] }] }, ["rules.0.scopes: a public rule cannot require scopes"]],
    ["duplicate selector", { rules: [{ selector: "*", public: true }, { selector: "*", public: false }] }, ['rules.1.selector: selector "*" appears twice']],
    ["tokenSources without jwt", { tokenSources: [{ cookie: "s" }] }, ["tokenSources: tokenSources needs auth.jwt (tokens are only read when JWT issuers are configured)"]],
    ["bad token source", { jwt, tokenSources: [{ query: "token" }] }, ["tokenSources.0: expected { header: NAME, bearer?: boolean }, { cookie: NAME } or { webSocketProtocol: PREFIX }"]],
    ["duplicate token source", { jwt, tokenSources: [{ cookie: "s" }, { cookie: "s" }] }, ["tokenSources.1: cookie s is listed twice"]],
    ["token header equals API-key header", { jwt, tokenSources: [{ header: "X-Key" }], apiKeys: { header: "x-key", keys: [] } }, ["tokenSources.0.header: header x-key is also apiKeys.header"]],
    ["claim target owned by the gateway", { identity: { claims: { sub: "x-user-id" } } }, ['identity.claims.sub: metadata key "x-user-id" is set by the gateway itself']],
    ["claim target not a metadata key", { identity: { claims: { tenant: "X Tenant" } } }, ['identity.claims.tenant: metadata key "X Tenant" must be a lower-case gRPC metadata key (a-z, 0-9, _ . -)']],
    ["two claims one target", { identity: { claims: { a: "x-t", b: "x-t" } } }, ['identity.claims.b: metadata key "x-t" is the target of two claims']],
    ["bad strip header", { identity: { stripHeaders: ["x user"] } }, ["identity.stripHeaders.0: expected a header / gRPC metadata name (letters, digits, _ . -)"]],
    ["jwt issues keep their path", { jwt: { issuers: [{ ...jwt.issuers[0], algorithms: ["none"] }] } }, ['jwt.issuers.0.algorithms.0: algorithm "none" is never accepted']],
  ])("%s", (_name, input, expected) => {
    expect(issues(input)).toEqual(expected);
  });
});

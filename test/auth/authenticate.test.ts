import { describe, expect, it } from "vitest";
import { createApiKeyStore, hashApiKey } from "../../src/auth/api-keys.js";
import { createAuthenticator, type AuthenticatorOptions } from "../../src/auth/authenticate.js";
import type { JwtVerifier, VerifiedJwt } from "../../src/auth/jwt/jwt-verifier.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";

const GOOD = "good.token.sig";
const EXPIRED = "expired.token.sig";
const BROKEN = "broken.token.sig";
const BAD_SUB = "badsub.token.sig";
const verified: VerifiedJwt = { subject: "user-1", issuer: "https://issuer.example", audience: ["api"], scopes: ["orders:read"], expiresAt: 2e9, claims: Object.freeze({ sub: "user-1" }) };

/** A stand-in verifier: the real one is tested with the jwt module. */
function fakeVerifier(hot: ReadonlySet<string> = new Set()): JwtVerifier & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    cached: (token) => (hot.has(token) ? verified : undefined),
    async verify(token) {
      seen.push(token);
      if (token === GOOD) return verified;
      if (token === BAD_SUB) return { ...verified, subject: "jürgen" };
      if (token === BROKEN) throw new TypeError("bug in verifier");
      throw new GatewayError(GrpcCode.UNAUTHENTICATED, "PG_ERR_UNAUTHENTICATED", "token expired");
    },
    close() {},
  };
}

const apiKeys = createApiKeyStore([{ sha256: hashApiKey("key-alice"), consumer: "alice", tier: "gold", scopes: ["orders:write"] }]);

async function outcome(options: AuthenticatorOptions, rawHeaders: string[]): Promise<unknown> {
  try {
    const caller = await createAuthenticator(options).authenticate(rawHeaders);
    return caller === undefined ? "anonymous" : { kind: caller.kind, subject: caller.subject, tier: caller.tier, scopes: [...caller.scopes] };
  } catch (error) {
    if (!(error instanceof GatewayError)) return `thrown ${(error as Error).name}`;
    return `${error.code} ${error.message} | ${error.headers["www-authenticate"]}`;
  }
}

describe("createAuthenticator().authenticate", () => {
  const both = (): AuthenticatorOptions => ({ jwt: fakeVerifier(), apiKeys });

  it.each<[string, () => AuthenticatorOptions, string[], unknown]>([
    ["no credentials", both, ["Host", "x"], "anonymous"],
    ["valid token", both, ["Authorization", `Bearer ${GOOD}`], { kind: "jwt", subject: "user-1", tier: undefined, scopes: ["orders:read"] }],
    ["right API key", both, ["X-Api-Key", "key-alice"], { kind: "api-key", subject: "alice", tier: "gold", scopes: ["orders:write"] }],
    ["wrong API key", both, ["X-Api-Key", "key-mallory"], '16 invalid API key | Bearer realm="protogate", error="invalid_token", error_description="invalid API key"'],
    ["rejected token gets the invalid_token challenge", both, ["Authorization", `Bearer ${EXPIRED}`], '16 token expired | Bearer realm="protogate", error="invalid_token", error_description="token expired"'],
    ["sub that cannot travel as metadata", both, ["Authorization", `Bearer ${BAD_SUB}`], '16 token sub must be printable ASCII | Bearer realm="protogate", error="invalid_token", error_description="token sub must be printable ASCII"'],
    ["verifier bug is not turned into a 401", both, ["Authorization", `Bearer ${BROKEN}`], "thrown TypeError"],
    ["duplicate Authorization", both, ["Authorization", `Bearer ${GOOD}`, "Authorization", `Bearer ${GOOD}`], '16 multiple Authorization headers | Bearer realm="protogate", error="invalid_request", error_description="multiple Authorization headers"'],
    ["token and key", both, ["Authorization", `Bearer ${GOOD}`, "x-api-key", "key-alice"], expect.stringContaining("send one credential")],
    ["no verifier: tokens are not read", () => ({ apiKeys }), ["Authorization", `Bearer ${GOOD}`], "anonymous"],
    ["no API keys: the key header is not read", () => ({ jwt: fakeVerifier() }), ["x-api-key", "key-alice"], "anonymous"],
    ["configured API-key header", () => ({ apiKeys, apiKeyHeader: "X-Key" }), ["x-key", "key-alice"], expect.objectContaining({ subject: "alice" })],
    ["configured token source", () => ({ jwt: fakeVerifier(), tokenSources: [{ cookie: "session" }] }), ["Cookie", `session=${GOOD}`], expect.objectContaining({ subject: "user-1" })],
  ])("%s", async (_name, options, headers, expected) => {
    expect(await outcome(options(), headers)).toEqual(expected);
  });

  it("revoked key (removed from the config) is rejected", async () => {
    const revoked = createApiKeyStore([]);
    expect(await outcome({ apiKeys: revoked }, ["x-api-key", "key-alice"])).toMatch(/^16 invalid API key/);
  });

  it("answers a token verified before from the verifier's cache, without verifying it again", async () => {
    const jwt = fakeVerifier(new Set([GOOD]));
    expect(await outcome({ jwt }, ["Authorization", `Bearer ${GOOD}`])).toEqual({ kind: "jwt", subject: "user-1", tier: undefined, scopes: ["orders:read"] });
    expect(jwt.seen).toEqual([]);
  });

  it("checks a token's syntax before verifying it (more than one token: invalid_request, the verifier never sees it)", async () => {
    const jwt = fakeVerifier();
    const result = await outcome({ jwt }, ["Authorization", `Bearer ${GOOD} ${GOOD}`]);
    expect(result).toMatch(/^16 Authorization header must be Bearer followed by exactly one token \| Bearer realm="protogate", error="invalid_request"/);
    expect(jwt.seen).toEqual([]);
  });

  it("hands the verifier exactly the token and never echoes it", async () => {
    const jwt = fakeVerifier();
    const result = await outcome({ jwt }, ["Authorization", `Bearer ${EXPIRED}`]);
    expect(jwt.seen).toEqual([EXPIRED]);
    expect(String(result)).not.toContain(EXPIRED);
  });
});

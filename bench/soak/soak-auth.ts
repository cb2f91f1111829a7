import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

const ISSUER = "protogate-soak";
const AUDIENCE = "protogate-soak-api";
const KEY_ID = "soak";
const SCOPES = "users:write orders:write payments:write";
/** The JWT claim that names a caller's rate-limit tier (`rateLimits.tierClaim`). */
export const TIER_CLAIM = "plan";
const TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/** Tokens for the soak's callers, and the `auth:` config that trusts them. */
export interface SoakAuth {
  readonly authConfig: Record<string, unknown>;
  /** A valid token for subject `sub` (cached: the same caller always sends the same token). */
  token(sub: string, tier?: string): Promise<string>;
  /** A token the gateway must refuse, never the same twice: signed by an unknown key, or expired. */
  invalidToken(seq: number): Promise<string>;
}

/**
 * An ES256 issuer whose public key the gateway reads from a key file in `dir`, and a second key
 * the gateway does not trust (for tokens with a bad signature).
 */
export async function createSoakAuth(dir: string): Promise<SoakAuth> {
  const trusted = await generateKeyPair("ES256", { extractable: true });
  const foreign = await generateKeyPair("ES256");
  const keyFile = join(dir, "soak-key.jwk.json");
  writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(trusted.publicKey)), kid: KEY_ID, alg: "ES256", use: "sig" }));
  const tokens = new Map<string, Promise<string>>();
  const sign = (key: CryptoKey, sub: string, claims: Record<string, unknown>, issuedAt: number, expiresAt: number) =>
    new SignJWT({ scope: SCOPES, ...claims })
      .setProtectedHeader({ alg: "ES256", kid: KEY_ID })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(sub)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(key);
  const now = () => Math.floor(Date.now() / 1000);
  return {
    authConfig: { mode: "on", jwt: { issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], algorithms: ["ES256"], keyFile }] } },
    token(sub, tier) {
      const cacheKey = `${sub}\n${tier ?? ""}`;
      let token = tokens.get(cacheKey);
      if (token === undefined) {
        token = sign(trusted.privateKey, sub, tier === undefined ? {} : { [TIER_CLAIM]: tier }, now(), now() + TOKEN_LIFETIME_SECONDS);
        tokens.set(cacheKey, token);
      }
      return token;
    },
    invalidToken(seq) {
      // A unique jti makes every token distinct, so a cache of failed verifications would grow.
      const claims = { jti: `soak-${seq}` };
      // Expired well beyond any clock tolerance (the gateway's default is 30 s).
      return seq % 2 === 0 ? sign(foreign.privateKey, `soak-forger-${seq % 7}`, claims, now(), now() + 3600) : sign(trusted.privateKey, `soak-late-${seq % 7}`, claims, now() - 7200, now() - 3600);
    },
  };
}

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

/** The demo's issuer and audience; not for production use. */
export const DEV_ISSUER = "protogate-demo";
export const DEV_AUDIENCE = "protogate-demo-api";
const DEV_SCOPES = ["users:write", "orders:write", "payments:write"];
const DEV_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

/** A signing key made at start: its public half for the gateway config, and a token signed with it. */
export interface DevAuth {
  /** The `auth:` section that trusts the dev key. */
  readonly authConfig: Record<string, unknown>;
  /** A bearer token for `dev-user` with every demo scope, valid for 12 hours. */
  readonly token: string;
}

/**
 * Generates an ES256 key pair (never stored beyond a temporary public-key file), writes the public
 * JWK where the gateway's key-file issuer reads it, and signs a dev token.
 */
export async function createDevAuth(): Promise<DevAuth> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "demo-dev-key", alg: "ES256", use: "sig" };
  const keyFile = join(mkdtempSync(join(tmpdir(), "protogate-demo-")), "dev-key.jwk.json");
  writeFileSync(keyFile, JSON.stringify(jwk));
  const token = await new SignJWT({ scope: DEV_SCOPES.join(" "), name: "Demo Developer" })
    .setProtectedHeader({ alg: "ES256", kid: jwk.kid })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject("dev-user")
    .setIssuedAt()
    .setExpirationTime(`${DEV_TOKEN_LIFETIME_SECONDS}s`)
    .sign(privateKey);
  return {
    authConfig: { mode: "on", jwt: { issuers: [{ issuer: DEV_ISSUER, audiences: [DEV_AUDIENCE], algorithms: ["ES256"], keyFile }] } },
    token,
  };
}

/** The JWS algorithms an issuer may allow, by the key type that verifies them. */
export const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] as const;
export const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;
export const JWS_ALGORITHMS: readonly string[] = [...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS];

export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

/** Whether `alg` is an HMAC (shared secret) algorithm. */
export function isHmacAlgorithm(alg: string): alg is HmacAlgorithm {
  return (HMAC_ALGORITHMS as readonly string[]).includes(alg);
}

/** Whether `alg` is a public-key signature algorithm the gateway supports. */
export function isAsymmetricAlgorithm(alg: string): alg is AsymmetricAlgorithm {
  return (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg);
}

/** The shape of a public JWK that decides which algorithms it can verify. */
export interface PublicKeyShape {
  readonly kty?: unknown;
  readonly crv?: unknown;
}

/**
 * The algorithms a public key of this type can verify (RFC 7518 section 3, RFC 8037): the key type
 * decides, never the token, so an RSA key can never be used as an HMAC secret.
 */
export function algorithmsForKey(key: PublicKeyShape): readonly AsymmetricAlgorithm[] {
  switch (key.kty) {
    case "RSA":
      return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
    case "EC":
      if (key.crv === "P-256") return ["ES256"];
      if (key.crv === "P-384") return ["ES384"];
      if (key.crv === "P-521") return ["ES512"];
      return [];
    case "OKP":
      return key.crv === "Ed25519" ? ["EdDSA", "Ed25519"] : [];
    default:
      return [];
  }
}

/** RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output. */
export function minimumHmacSecretBytes(algorithms: readonly string[]): number {
  let bytes = 0;
  for (const alg of algorithms) {
    if (alg === "HS256") bytes = Math.max(bytes, 32);
    else if (alg === "HS384") bytes = Math.max(bytes, 48);
    else if (alg === "HS512") bytes = Math.max(bytes, 64);
  }
  return bytes;
}

import { errors, type CryptoKey, type LocalJWKSet } from "jose";

/** The most keys a token without a `kid` is tried against. */
const MAX_CANDIDATES = 16;

/**
 * The keys of `set` that can verify a token with this `alg` and `kid` (jose matches `kty`, `crv`,
 * `use`, `key_ops` and the key's own `alg`). Usually one; several only when the token has no
 * `kid` and the set holds more than one key of the right type. Empty when none matches or the
 * matching key cannot be imported.
 */
export async function matchKeys(set: LocalJWKSet, alg: string, kid: string | undefined): Promise<CryptoKey[]> {
  try {
    return [await set({ alg, ...(kid !== undefined && { kid }) })];
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) return [];
    const keys: CryptoKey[] = [];
    // jose makes the error iterable over the candidates it could import.
    for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
      keys.push(key);
      if (keys.length >= MAX_CANDIDATES) break;
    }
    return keys;
  }
}

import { createLocalJWKSet, type CryptoKey, type JSONWebKeySet } from "jose";
import { jwtRejected } from "./jwt-errors.js";
import { matchKeys } from "./key-match.js";

/** A key that verifies a token: a public CryptoKey, or the bytes of an HMAC secret. */
export type VerificationKey = CryptoKey | Uint8Array;

/** The keys resolved for one token, and the key set generation they came from. */
export interface ResolvedKeys {
  readonly keys: readonly VerificationKey[];
  readonly generation: number;
}

/** The verification keys of one issuer, whatever their source. */
export interface IssuerKeys {
  /**
   * The candidate keys for a token's `alg` and `kid` (at least one). Rejects with
   * UNAUTHENTICATED ("unknown key id", "key set unavailable").
   */
  resolve(alg: string, kid: string | undefined): Promise<ResolvedKeys>;
  /**
   * Changes whenever the key set changes (or is dropped); tokens verified under an older
   * generation are verified again. Given the current time, a key set that refreshes itself may
   * also start its due refresh (in the background: the answer is never delayed).
   */
  generation(nowMs?: number): number;
  /** Stops any background work (in-flight fetches). */
  close(): void;
}

/**
 * Keys loaded once from a file. A token's `kid` selects a key with that `kid`; keys without a
 * `kid` (PEM keys have none) match any token whose `alg` fits their type.
 */
export function createStaticKeys(jwks: JSONWebKeySet): IssuerKeys {
  const all = createLocalJWKSet(jwks);
  const withoutKid = createLocalJWKSet({ keys: jwks.keys.filter((key) => key.kid === undefined) });
  return {
    async resolve(alg, kid) {
      let keys = await matchKeys(all, alg, kid);
      if (keys.length === 0 && kid !== undefined) keys = await matchKeys(withoutKid, alg, undefined);
      if (keys.length === 0) throw jwtRejected("unknown key id");
      return { keys, generation: 0 };
    },
    generation: () => 0,
    close() {},
  };
}

/** An HMAC secret: the only key of its issuer, whatever `kid` a token names. */
export function createHmacKeys(secret: Uint8Array): IssuerKeys {
  const resolved: ResolvedKeys = { keys: [secret], generation: 0 };
  return {
    resolve: async () => resolved,
    generation: () => 0,
    close() {},
  };
}

import { createHash, timingSafeEqual } from "node:crypto";

/** One configured API key: only the SHA-256 of the key is known to the gateway. */
export interface ApiKeyEntry {
  /** SHA-256 of the key (UTF-8), 64 lower-case hex digits. */
  readonly sha256: string;
  /** Who holds the key; becomes the caller's subject and `x-consumer-id`. */
  readonly consumer: string;
  readonly tier: string;
  readonly scopes: readonly string[];
}

/** Looks presented keys up among the configured hashes. */
export interface ApiKeyStore {
  /** The entry whose hash matches `presented`, or undefined. */
  find(presented: string): ApiKeyEntry | undefined;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Longer "keys" are not hashed at all (no configured key is that long). */
const MAX_KEY_CHARS = 4096;

/** The hex SHA-256 of `key` (UTF-8): what goes into `auth.apiKeys.keys[].sha256`. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * Builds the store. Throws when a hash is not 64 lower-case hex digits or appears twice (one key
 * for two consumers would be ambiguous).
 *
 * `find` hashes the presented key and compares the digest with every stored hash using
 * `crypto.timingSafeEqual`, always visiting all entries, so the time taken says neither whether
 * nor where a match was found. (Hashing first also means the comparison never sees the key's
 * length.) A key removed from the config is simply no longer found.
 */
export function createApiKeyStore(keys: readonly ApiKeyEntry[]): ApiKeyStore {
  const seen = new Set<string>();
  const entries = keys.map((entry, index) => {
    if (!SHA256_HEX.test(entry.sha256)) throw new Error(`apiKeys.keys[${index}].sha256: expected 64 lower-case hex digits`);
    if (seen.has(entry.sha256)) throw new Error(`apiKeys.keys[${index}].sha256: the same key hash is configured twice`);
    seen.add(entry.sha256);
    const frozen: ApiKeyEntry = Object.freeze({ ...entry, scopes: Object.freeze([...entry.scopes]) });
    return { digest: Buffer.from(entry.sha256, "hex"), entry: frozen };
  });

  return {
    find(presented) {
      if (presented === "" || presented.length > MAX_KEY_CHARS || entries.length === 0) return undefined;
      const digest = createHash("sha256").update(presented, "utf8").digest();
      let found = -1;
      for (let index = 0; index < entries.length; index++) {
        // No early exit: every entry is compared whatever the outcome.
        const equal = timingSafeEqual(digest, entries[index].digest);
        found = equal && found < 0 ? index : found;
      }
      return found < 0 ? undefined : entries[found].entry;
    },
  };
}

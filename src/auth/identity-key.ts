/**
 * The canonical form of a header or metadata key, for deciding whether a client-sent key is one
 * of the identity or credential keys the gateway owns.
 *
 * Comparing exact names let near-variants through (defect 10: `grpc-metadata-x-user-id-bin`,
 * `x_user_id`, `x-user-id.`, `x-auth_scopes` all reached the backend). Whether a backend reads
 * such a variant as the real key depends on its stack: CGI/WSGI-style servers fold `_` and `-`
 * together, some metadata libraries strip `-bin` when decoding, lenient parsers drop trailing
 * dots, HTTP is case-insensitive, and a proxy behind the backend may map `Grpc-Metadata-x` to
 * `x` again. So the gateway folds all of those before comparing, and drops every key whose
 * folded form is protected:
 *
 * 1. lower case;
 * 2. `_` and `.` count as `-`; runs of `-` count as one; leading and trailing `-` are ignored;
 * 3. any number of leading `grpc-metadata-` prefixes are removed;
 * 4. any number of trailing `-bin` suffixes are removed.
 *
 * The alternative, forwarding only an allowlist of metadata keys, would break the documented
 * `Grpc-Metadata-<key>` pass-through for every other key; folding removes exactly the keys that
 * could be mistaken for a protected one, and nothing else.
 */
export function canonicalIdentityKey(key: string): string {
  // Hot path: almost every key is already canonical (lower-case words joined by single dashes).
  if (isCanonicalShape(key) && !key.endsWith(BIN_SUFFIX) && !key.startsWith(METADATA_PREFIX)) return key;
  let folded = key.toLowerCase().replace(SEPARATORS, "-").replace(EDGE_DASHES, "");
  for (;;) {
    if (folded.startsWith(METADATA_PREFIX)) folded = folded.slice(METADATA_PREFIX.length);
    else if (folded.endsWith(BIN_SUFFIX)) folded = folded.slice(0, -BIN_SUFFIX.length);
    else return folded;
  }
}

/** A set of protected keys, matched by canonical form. */
export interface CanonicalKeySet {
  /** Whether `key`, in any spelling `canonicalIdentityKey` folds together, is in the set. */
  has(key: string): boolean;
}

/** The set of the canonical forms of `keys`. */
export function createCanonicalKeySet(keys: Iterable<string>): CanonicalKeySet {
  const canonical = new Set<string>();
  for (const key of keys) canonical.add(canonicalIdentityKey(key));
  // The same few keys arrive on every request (x-request-id, traceparent, ...): their verdicts are
  // remembered. Bounded: a client sending ever new keys only ever empties the memo.
  let memo = new Map<string, boolean>();
  return {
    has(key) {
      const known = memo.get(key);
      if (known !== undefined) return known;
      const verdict = canonical.has(canonicalIdentityKey(key));
      if (memo.size >= MEMO_ENTRIES) memo = new Map();
      memo.set(key, verdict);
      return verdict;
    },
  };
}

const MEMO_ENTRIES = 256;

const METADATA_PREFIX = "grpc-metadata-";
const BIN_SUFFIX = "-bin";

/**
 * Whether `key` is lower-case letters and digits in words joined by single dashes, i.e.
 * `/^[a-z0-9]+(?:-[a-z0-9]+)*$/`; a character loop, because this runs for every metadata key of
 * every request and measured about twice as fast as the regular expression.
 */
function isCanonicalShape(key: string): boolean {
  let afterDash = true; // no leading dash
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code === 0x2d) {
      if (afterDash) return false;
      afterDash = true;
    } else if ((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39)) afterDash = false;
    else return false;
  }
  return !afterDash; // no trailing dash (and not empty)
}
const SEPARATORS = /[-_.]+/g;
const EDGE_DASHES = /^-+|-+$/g;

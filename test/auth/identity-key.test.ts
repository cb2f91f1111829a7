import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalIdentityKey, createCanonicalKeySet } from "../../src/auth/identity-key.js";
import { DEFAULT_IDENTITY_KEYS } from "../../src/auth/identity.js";
import { fuzzRuns } from "../support/fuzz.js";
import { referenceCanonicalKey } from "./support/identity-key-reference.js";

/**
 * Every spelling of x-user-id the attack run and this review could think of, each folding to
 * `x-user-id` (so it is dropped), next to near misses that are different keys (so they pass).
 */
const SPELLINGS_OF_X_USER_ID = [
  "x-user-id",
  "X-User-Id",
  "X-USER-ID",
  "x_user_id",
  "X_USER_ID",
  "x-user_id",
  "x_user-id",
  "x.user.id",
  "x-user.id",
  "x-user-id.",
  "x-user-id..",
  ".x-user-id",
  "x-user-id-",
  "-x-user-id",
  "_x_user_id_",
  "x--user--id",
  "x-_user-_id",
  "x-user-id-bin",
  "x-user-id-BIN",
  "x_user_id_bin",
  "x-user-id.bin",
  "x-user-id-bin-bin",
  "x-user-id-bin.",
  "grpc-metadata-x-user-id",
  "Grpc-Metadata-X-User-Id",
  "grpc_metadata_x_user_id",
  "grpc-metadata-grpc-metadata-x-user-id",
  "grpc-metadata-x-user-id-bin",
];
const NEAR_MISSES = ["x-user-ids", "x-userid", "xx-user-id", "x-user-idx", "x-user", "user-id", "x-user-id-binary", "x-user-id-bi", "x-user-id2", "x-auth-scope", "x-auth-scopes-extra", "grpc-metadata"];

describe("canonicalIdentityKey", () => {
  it.each(SPELLINGS_OF_X_USER_ID)("regression: %s folds to x-user-id (near-variants of identity headers are the same key)", (spelling) => {
    expect(canonicalIdentityKey(spelling)).toBe("x-user-id");
  });

  it.each(NEAR_MISSES)("%s is a different key", (key) => {
    expect(canonicalIdentityKey(key)).not.toBe("x-user-id");
    expect(createCanonicalKeySet(DEFAULT_IDENTITY_KEYS).has(key)).toBe(false);
  });

  it.each([
    ["x-auth_scopes", "x-auth-scopes"],
    ["X_Auth.Issuer", "x-auth-issuer"],
    ["x-consumer-id-bin", "x-consumer-id"],
    ["x-auth-tier.", "x-auth-tier"],
    ["Authorization-Bin", "authorization"],
    ["x_api_key", "x-api-key"],
    ["bin", "bin"],
    ["-bin", "bin"],
    ["a-bin", "a"],
    ["", ""],
  ])("%s folds to %s", (key, canonical) => {
    expect(canonicalIdentityKey(key)).toBe(canonical);
  });

  it("a key set answers the same before and after its memo of verdicts fills up", () => {
    const set = createCanonicalKeySet(DEFAULT_IDENTITY_KEYS);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1000; i++) expect(set.has(`x-custom-${i}`)).toBe(false);
      expect(set.has("X_User_Id.")).toBe(true);
      expect(set.has("x-user-ids")).toBe(false);
    }
  });

  const metadataKey = fc.stringMatching(/^[0-9A-Za-z_.-]{0,24}$/);

  it("agrees with the reference on any metadata key, and is idempotent (property)", () => {
    fc.assert(
      fc.property(metadataKey, (key) => {
        const canonical = canonicalIdentityKey(key);
        expect(canonical).toBe(referenceCanonicalKey(key));
        expect(canonicalIdentityKey(canonical)).toBe(canonical);
        expect(canonical).toMatch(/^(?:[a-z0-9]+(?:-[a-z0-9]+)*)?$/);
      }),
      fuzzRuns(500),
    );
  });

  it("every generated spelling of a protected key folds to it (property)", () => {
    const separator = fc.constantFrom("-", "_", ".", "--", "_-", "._");
    const edge = fc.constantFrom("", "-", "_", ".", "..", "-_");
    const suffix = fc.constantFrom("", "-bin", "_bin", ".BIN", "-bin-bin");
    const prefix = fc.constantFrom("", "grpc-metadata-", "GRPC_METADATA_", "grpc.metadata.", "grpc-metadata-grpc-metadata-");
    const spelling = fc
      .tuple(fc.constantFrom(...DEFAULT_IDENTITY_KEYS, "authorization", "x-api-key"), separator, edge, edge, suffix, prefix, fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }))
      .map(([key, sep, lead, trail, bin, pre, upper]) => {
        const body = `${pre}${lead}${key.split("-").join(sep)}${bin}${trail}`;
        return { key, spelling: [...body].map((char, i) => (upper[i % upper.length] ? char.toUpperCase() : char)).join("") };
      });
    fc.assert(
      fc.property(spelling, ({ key, spelling: written }) => {
        expect(canonicalIdentityKey(written)).toBe(key);
        expect(createCanonicalKeySet([key]).has(written)).toBe(true);
      }),
      fuzzRuns(500),
    );
  });
});

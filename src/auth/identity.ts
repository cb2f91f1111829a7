import type { IncomingHttpHeaders } from "node:http";
import { isMetadataText, METADATA_KEY, PRINTABLE_ASCII, SCOPE_TOKEN } from "./auth-syntax.js";
import type { MetadataPairs } from "../upstream/metadata.js";
import type { Caller } from "./caller.js";
import { createCanonicalKeySet, type CanonicalKeySet } from "./identity-key.js";

/** Identity keys the gateway sets itself; a client's own values for them are always deleted. */
export const DEFAULT_IDENTITY_KEYS: readonly string[] = Object.freeze(["x-user-id", "x-consumer-id", "x-auth-scopes", "x-auth-issuer", "x-auth-tier"]);

/** The `auth.identity` config, plus the credential headers of the auth config. */
export interface IdentityConfig {
  /** More client-sent headers / metadata keys to delete (any case). */
  readonly stripHeaders?: readonly string[];
  /** Claim name -> metadata key set from the verified token. */
  readonly claims?: Readonly<Record<string, string>>;
  /**
   * Headers carrying credentials besides `authorization` (the API-key header, token headers):
   * like `authorization`, never passed upstream as metadata.
   */
  readonly credentialHeaders?: readonly string[];
}

/** `IdentityConfig` resolved once at start. */
export interface IdentityOptions {
  /** Identity keys deleted from every request (lower-case): defaults, configured, claim targets. */
  readonly stripKeys: ReadonlySet<string>;
  /** Credential keys deleted unless forwarded (lower-case), `authorization` included. */
  readonly credentialKeys: ReadonlySet<string>;
  /** Claim name -> metadata key. */
  readonly claims: Readonly<Record<string, string>>;
  /** `stripKeys` matched in every spelling that folds to one of them (see identity-key.ts). */
  readonly strip: CanonicalKeySet;
  /** `stripKeys` and `credentialKeys` together, matched the same way: what never goes upstream from the client. */
  readonly dropped: CanonicalKeySet;
}

/**
 * Why `key` cannot be a claim-to-metadata target, or undefined when it can: it must be a
 * lower-case text metadata key that neither gRPC, credentials nor the built-in identity keys own.
 */
export function claimTargetProblem(key: string): string | undefined {
  if (!METADATA_KEY.test(key)) return "must be a lower-case gRPC metadata key (a-z, 0-9, _ . -)";
  if (key.endsWith("-bin")) return "must not be a binary (-bin) key";
  if (key.startsWith("grpc-") || key === "authorization" || key === "te" || key === "content-type" || key === "user-agent") return "is reserved";
  if (DEFAULT_IDENTITY_KEYS.includes(key)) return "is set by the gateway itself";
  return undefined;
}

/** Validates and resolves the identity config; throws naming the bad entry. */
export function createIdentityOptions(config: IdentityConfig = {}): IdentityOptions {
  const stripKeys = new Set(DEFAULT_IDENTITY_KEYS);
  for (const name of config.stripHeaders ?? []) {
    const key = name.toLowerCase();
    if (!METADATA_KEY.test(key)) throw new Error(`auth.identity.stripHeaders: ${JSON.stringify(name)} is not a valid header / metadata name`);
    stripKeys.add(key);
  }
  const claims: Record<string, string> = {};
  const targets = new Set<string>();
  for (const [claim, key] of Object.entries(config.claims ?? {})) {
    const problem = claimTargetProblem(key);
    if (problem !== undefined) throw new Error(`auth.identity.claims.${claim}: metadata key ${JSON.stringify(key)} ${problem}`);
    if (targets.has(key)) throw new Error(`auth.identity.claims.${claim}: metadata key ${JSON.stringify(key)} is the target of two claims`);
    targets.add(key);
    stripKeys.add(key);
    claims[claim] = key;
  }
  const credentialKeys = new Set(["authorization", ...(config.credentialHeaders ?? []).map((name) => name.toLowerCase())]);
  return Object.freeze({
    stripKeys,
    credentialKeys,
    claims: Object.freeze(claims),
    strip: createCanonicalKeySet(stripKeys),
    dropped: createCanonicalKeySet([...stripKeys, ...credentialKeys]),
  });
}

/**
 * `headers` without the identity headers of `options`, in any spelling that folds to one of them
 * (`x-user-id`, `Grpc-Metadata-X-User-Id`, `x_user_id`, `x-user-id-bin`...: see identity-key.ts).
 * Returns `headers` itself when nothing was removed.
 */
export function stripIdentityHeaders(headers: IncomingHttpHeaders, options: IdentityOptions): IncomingHttpHeaders {
  let out: IncomingHttpHeaders | undefined;
  for (const name of Object.keys(headers)) {
    if (!options.strip.has(name)) continue;
    out ??= { ...headers };
    delete out[name];
  }
  return out ?? headers;
}

/**
 * The trusted identity metadata of `caller`, in this order: `x-user-id` (the subject: the
 * token's `sub` or the API key's consumer), `x-consumer-id`, `x-auth-issuer`, `x-auth-tier`,
 * `x-auth-scopes` (sorted, space separated; scopes that are not RFC 6750 scope tokens are left
 * out), then one key per configured claim whose value is a string, finite number or boolean in
 * printable ASCII (other values are dropped). Absent or empty parts are omitted.
 */
export function identityMetadata(caller: Caller, claimMap: Readonly<Record<string, string>>): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const add = (key: string, value: string | undefined): void => {
    if (value !== undefined && isMetadataText(value)) pairs.push([key, value]);
  };
  add("x-user-id", caller.subject);
  add("x-consumer-id", caller.consumer);
  add("x-auth-issuer", caller.issuer);
  add("x-auth-tier", caller.tier);
  add("x-auth-scopes", [...caller.scopes].filter((scope) => SCOPE_TOKEN.test(scope)).sort().join(" "));
  for (const [claim, key] of Object.entries(claimMap)) {
    if (!Object.hasOwn(caller.claims, claim)) continue;
    const value = claimText(caller.claims[claim]);
    if (value !== undefined) pairs.push([key, value]);
  }
  return pairs;
}

function claimText(value: unknown): string | undefined {
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" && Number.isFinite(value)) text = String(value);
  else if (typeof value === "boolean") text = value ? "true" : "false";
  else return undefined;
  return PRINTABLE_ASCII.test(text) ? text : undefined;
}

/**
 * The upstream metadata of one request, from what `MetadataMapper.toGrpc` produced:
 * - every identity key of `options` is deleted, in every spelling that folds to it (case, `_` or
 *   `.` for `-`, a `-bin` suffix, trailing dots, a `grpc-metadata-` prefix: see identity-key.ts);
 *   the mapper turns both `x-user-id` and `grpc-metadata-x-user-id` into the key `x-user-id`, so
 *   both spoofing routes are covered;
 * - `authorization` and the other credential keys are deleted the same way; when the route's rule has
 *   `forwardAuthorization`, `authorization` (the request's `Authorization` header exactly as the
 *   gateway read and verified it, not a `grpc-metadata-authorization` copy) is appended;
 * - the trusted identity of `caller` (see `identityMetadata`) is appended.
 * Returns a new array; `pairs` is not modified.
 */
export function applyTrustedIdentity(
  pairs: ReadonlyArray<[string, string | Buffer]>,
  caller: Caller | undefined,
  rule: { readonly forwardAuthorization: boolean } | undefined,
  options: IdentityOptions,
  authorization?: string,
): MetadataPairs {
  const out: MetadataPairs = [];
  for (const pair of pairs) {
    if (!options.dropped.has(pair[0])) out.push(pair);
  }
  if (rule?.forwardAuthorization && authorization !== undefined && isMetadataText(authorization)) out.push(["authorization", authorization]);
  if (caller !== undefined) {
    for (const pair of cachedIdentityMetadata(caller, options.claims)) out.push(pair);
  }
  return out;
}

/** Callers are immutable and reused for a hot token, so their metadata is computed once per claim map. */
const identityOfCallers = new WeakMap<Caller, { readonly claimMap: object; readonly pairs: ReadonlyArray<[string, string]> }>();

function cachedIdentityMetadata(caller: Caller, claimMap: Readonly<Record<string, string>>): ReadonlyArray<[string, string]> {
  const cached = identityOfCallers.get(caller);
  if (cached !== undefined && cached.claimMap === claimMap) return cached.pairs;
  const pairs = identityMetadata(caller, claimMap);
  identityOfCallers.set(caller, { claimMap, pairs });
  return pairs;
}

import { z } from "zod";
import { selectorSchema } from "../config/selector.js";
import { quotaSchema } from "../ratelimit/rate-limit-config.js";
import { DEFAULT_API_KEY_HEADER } from "./credentials.js";
import { HTTP_TOKEN, METADATA_KEY, PRINTABLE_ASCII, SCOPE_TOKEN } from "./auth-syntax.js";
import { claimTargetProblem } from "./identity.js";
import { jwtConfigSchema } from "./jwt/jwt-config.js";

const selector = selectorSchema;
const scope = z.string().regex(SCOPE_TOKEN, "a scope is printable ASCII without spaces, quotes or backslashes");
const headerName = z
  .string()
  .regex(HTTP_TOKEN, "expected an HTTP header name")
  .transform((name) => name.toLowerCase());
const metadataName = z
  .string()
  .transform((name) => name.toLowerCase())
  .pipe(z.string().regex(METADATA_KEY, "expected a header / gRPC metadata name (letters, digits, _ . -)"));
const label = z.string().min(1).regex(PRINTABLE_ASCII, "must be printable ASCII");

/** A place a bearer token is read from (see `TokenSource` in credentials.ts). */
const tokenSourceSchema = z.union(
  [
    z.strictObject({
      /** Header name, e.g. `authorization` or `x-auth-token`. */
      header: headerName,
      /** The value is `Bearer <token>` (default) rather than the bare token. */
      bearer: z.boolean().default(true),
    }),
    z.strictObject({ /** Cookie name. */ cookie: z.string().regex(HTTP_TOKEN, "expected a cookie name") }),
    z.strictObject({
      /** A `Sec-WebSocket-Protocol` entry prefix; the base64url-encoded token follows it (browsers' WebSockets). */
      webSocketProtocol: z.string().regex(HTTP_TOKEN, "expected a subprotocol prefix (token characters, e.g. base64url.bearer.authorization.protogate.)"),
    }),
  ],
  { error: "expected { header: NAME, bearer?: boolean }, { cookie: NAME } or { webSocketProtocol: PREFIX }" },
);

const apiKeySchema = z.strictObject({
  /** SHA-256 of the key, hex: `printf %s "$KEY" | sha256sum`. The key itself never goes in the config. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected the SHA-256 of the key as 64 lower-case hex digits (never the key itself)"),
  /** Who holds the key: the caller's subject and `x-consumer-id`. */
  consumer: label,
  tier: label.default("default"),
  scopes: z.array(scope).default([]),
});

const ruleSchema = z
  .strictObject({
    selector,
    public: z.boolean().optional(),
    scopes: z.array(scope).optional(),
    forwardAuthorization: z.boolean().optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.public === undefined && rule.scopes === undefined && rule.forwardAuthorization === undefined) {
      ctx.addIssue({ code: "custom", message: "a rule must set public, scopes or forwardAuthorization" });
    }
    if (rule.public === true && rule.scopes !== undefined && rule.scopes.length > 0) {
      ctx.addIssue({ code: "custom", path: ["scopes"], message: "a public rule cannot require scopes" });
    }
  });

/**
 * The `auth:` section of gateway.yaml. `{}` parses to auth on, with no JWT issuers, no API keys
 * and no rules (so only methods the proto marks public can be called).
 */
export const authConfigSchema = z
  .strictObject({
    /** `off` skips authentication and authorisation (local work only). */
    mode: z.enum(["on", "off"]).default("on"),
    jwt: jwtConfigSchema.optional(),
    /** Where tokens are read from; default `Authorization: Bearer`. Needs `jwt`. */
    tokenSources: z.array(tokenSourceSchema).min(1).optional(),
    apiKeys: z
      .strictObject({
        header: headerName.default(DEFAULT_API_KEY_HEADER),
        keys: z.array(apiKeySchema),
      })
      .optional(),
    /**
     * Off when absent. Failed authentications allowed per client IP (`requests` per
     * `periodSeconds`, `burst` at once); beyond them the IP's requests get 429 before any
     * credential is verified. Per replica (memory store); see failed-attempts.ts.
     */
    failedAttempts: quotaSchema.optional(),
    /** Per-method overrides of the proto rules; the most specific selector wins. */
    rules: z.array(ruleSchema).default([]),
    identity: z
      .strictObject({
        /** More client headers / metadata keys to delete, besides x-user-id, x-consumer-id, x-auth-*. */
        stripHeaders: z.array(metadataName).default([]),
        /** Verified-token claim -> metadata key sent upstream. */
        claims: z.record(z.string().min(1), z.string()).default({}),
      })
      .prefault({}),
  })
  .superRefine((auth, ctx) => {
    if (auth.tokenSources !== undefined && auth.jwt === undefined) {
      ctx.addIssue({ code: "custom", path: ["tokenSources"], message: "tokenSources needs auth.jwt (tokens are only read when JWT issuers are configured)" });
    }
    const sourceKeys = new Set<string>();
    auth.tokenSources?.forEach((source, index) => {
      const key = "cookie" in source ? `cookie ${source.cookie}` : "webSocketProtocol" in source ? `webSocketProtocol ${source.webSocketProtocol}` : `header ${source.header}`;
      if (sourceKeys.has(key)) ctx.addIssue({ code: "custom", path: ["tokenSources", index], message: `${key} is listed twice` });
      sourceKeys.add(key);
      if (auth.apiKeys !== undefined && "header" in source && source.header === auth.apiKeys.header) {
        ctx.addIssue({ code: "custom", path: ["tokenSources", index, "header"], message: `header ${source.header} is also apiKeys.header` });
      }
    });
    if (auth.apiKeys?.header === "authorization") {
      ctx.addIssue({ code: "custom", path: ["apiKeys", "header"], message: "the API-key header cannot be authorization (it carries bearer tokens)" });
    }
    const hashes = new Set<string>();
    auth.apiKeys?.keys.forEach((key, index) => {
      if (hashes.has(key.sha256)) ctx.addIssue({ code: "custom", path: ["apiKeys", "keys", index, "sha256"], message: "the same key hash is configured twice" });
      hashes.add(key.sha256);
    });
    const selectors = new Set<string>();
    auth.rules.forEach((rule, index) => {
      if (selectors.has(rule.selector)) ctx.addIssue({ code: "custom", path: ["rules", index, "selector"], message: `selector "${rule.selector}" appears twice` });
      selectors.add(rule.selector);
    });
    const targets = new Set<string>();
    for (const [claim, key] of Object.entries(auth.identity.claims)) {
      const problem = claimTargetProblem(key);
      if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["identity", "claims", claim], message: `metadata key "${key}" ${problem}` });
      else if (targets.has(key)) ctx.addIssue({ code: "custom", path: ["identity", "claims", claim], message: `metadata key "${key}" is the target of two claims` });
      targets.add(key);
    }
  });

/** The validated `auth:` section. */
export type AuthConfig = z.infer<typeof authConfigSchema>;
export type AuthRuleConfig = z.infer<typeof ruleSchema>;
export type ApiKeyConfig = z.infer<typeof apiKeySchema>;
export type TokenSourceConfig = z.infer<typeof tokenSourceSchema>;

/** The header names that carry credentials under `auth` (for `IdentityConfig.credentialHeaders`). */
export function credentialHeaderNames(auth: AuthConfig): string[] {
  const names = new Set<string>(["authorization"]);
  for (const source of auth.tokenSources ?? []) if ("header" in source) names.add(source.header);
  if (auth.apiKeys !== undefined) names.add(auth.apiKeys.header);
  return [...names];
}

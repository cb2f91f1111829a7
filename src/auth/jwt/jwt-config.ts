import { z } from "zod";
import { isAsymmetricAlgorithm, isHmacAlgorithm, JWS_ALGORITHMS } from "./jwt-algorithms.js";

const algorithmSchema = z.string().superRefine((alg, ctx) => {
  if (alg.toLowerCase() === "none") ctx.addIssue({ code: "custom", message: 'algorithm "none" is never accepted' });
  else if (!JWS_ALGORITHMS.includes(alg)) ctx.addIssue({ code: "custom", message: `unsupported algorithm "${alg}"; expected one of ${JWS_ALGORITHMS.join(", ")}` });
});

const KEY_SOURCES = ["jwksUrl", "keyFile", "hmacSecret", "hmacSecretFile"] as const;

/**
 * One accepted token issuer: its `iss`, the audiences a token must name one of, the algorithms it
 * signs with, and exactly one key source. HMAC algorithms go only with an HMAC secret, public-key
 * algorithms only with a JWKS URL or key file, and one issuer never mixes the two families.
 */
export const jwtIssuerSchema = z
  .strictObject({
    /** The exact `iss` claim value. */
    issuer: z.string().min(1),
    /** A token's `aud` must contain at least one of these. */
    audiences: z.array(z.string().min(1)).min(1),
    /** Accepted JWS `alg` values. */
    algorithms: z.array(algorithmSchema).min(1),
    /** JSON Web Key Set served over HTTP(S), fetched on demand and cached. */
    jwksUrl: z.url({ protocol: /^https?$/, message: "expected an http or https URL" }).optional(),
    /** PEM file (one or more public keys / certificates) or JWK file (a JWK or a JWK set) of public keys. */
    keyFile: z.string().min(1).optional(),
    /** Inline HMAC secret (UTF-8). Prefer `hmacSecretFile` outside local work. */
    hmacSecret: z.string().min(1).optional(),
    /** File holding the HMAC secret (one trailing newline is ignored). */
    hmacSecretFile: z.string().min(1).optional(),
  })
  .superRefine((issuer, ctx) => {
    const sources = KEY_SOURCES.filter((key) => issuer[key] !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: sources.length === 0 ? `one key source is required: ${KEY_SOURCES.join(", ")}` : `only one key source is allowed, got ${sources.join(" and ")}`,
      });
      return;
    }
    const hmacSource = sources[0] === "hmacSecret" || sources[0] === "hmacSecretFile";
    const hmac = issuer.algorithms.filter(isHmacAlgorithm);
    const asymmetric = issuer.algorithms.filter(isAsymmetricAlgorithm);
    if (hmac.length > 0 && asymmetric.length > 0) {
      ctx.addIssue({ code: "custom", path: ["algorithms"], message: `HMAC (${hmac.join(", ")}) and public-key (${asymmetric.join(", ")}) algorithms cannot be mixed in one issuer` });
    } else if (hmacSource && asymmetric.length > 0) {
      ctx.addIssue({ code: "custom", path: ["algorithms"], message: `${sources[0]} can only verify HMAC algorithms, not ${asymmetric.join(", ")}` });
    } else if (!hmacSource && hmac.length > 0) {
      ctx.addIssue({ code: "custom", path: ["algorithms"], message: `HMAC algorithms (${hmac.join(", ")}) need hmacSecret or hmacSecretFile, not ${sources[0]}` });
    }
  });

/** JWT authentication: the accepted issuers and the verifier's limits. */
export const jwtConfigSchema = z
  .strictObject({
    issuers: z.array(jwtIssuerSchema).min(1),
    /** Leeway for `exp`, `nbf` and `iat` against the gateway's clock. */
    clockToleranceSeconds: z.number().int().nonnegative().max(3600).default(30),
    /** Longer tokens are rejected before any decoding. */
    maxTokenBytes: z.number().int().positive().max(1024 * 1024).default(8192),
    jwks: z
      .strictObject({
        /** A JWKS fetch (connect, headers and body) taking longer is abandoned. */
        timeoutMs: z.number().int().positive().default(3000),
        /** At most one JWKS fetch per issuer per this period after a successful one, however many unknown `kid`s arrive. */
        cooldownMs: z.number().int().nonnegative().default(30_000),
        /** After a failed fetch the next may come this soon, doubling per further failure up to cooldownMs. */
        retryMs: z.number().int().nonnegative().default(1_000),
        /** A key set older than this is refetched in the background; it keeps verifying meanwhile. */
        maxAgeMs: z.number().int().positive().default(600_000),
        /** How long past maxAgeMs a set that cannot be refetched keeps verifying (JWKS server down); then it is dropped. */
        maxStaleMs: z.number().int().nonnegative().default(3_600_000),
      })
      .prefault({}),
    verifiedTokenCache: z
      .strictObject({
        /** Verified tokens remembered until their `exp`; 0 turns the cache off. */
        maxEntries: z.number().int().nonnegative().default(10_000),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.issuers.forEach((issuer, index) => {
      if (seen.has(issuer.issuer)) ctx.addIssue({ code: "custom", path: ["issuers", index, "issuer"], message: `duplicate issuer "${issuer.issuer}"` });
      seen.add(issuer.issuer);
    });
  });

export type JwtIssuerConfig = z.infer<typeof jwtIssuerSchema>;
export type JwtConfig = z.infer<typeof jwtConfigSchema>;

import { z } from "zod";
import { selectorSchema } from "../config/selector.js";

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected HOST:PORT");
const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, _ . -");

/**
 * What a limit counts by:
 * - `caller`: the authenticated subject (JWT `sub`, or an API key's consumer), else the client IP;
 * - `subject`, `consumer`, `apiKey`: that identity only (requests without it skip the limit);
 * - `ip`: the client IP (`server.trustProxy` decides whether X-Forwarded-For is believed);
 * - `route`: one bucket per RPC method, shared by all callers; `global`: one bucket in all;
 * - `header:NAME`: the value of a request header (requests without it skip the limit).
 */
export const limitKeySchema = z.union(
  [z.enum(["caller", "subject", "consumer", "apiKey", "ip", "route", "global"]), z.string().regex(/^header:[A-Za-z0-9!#$%&'*+.^_`|~-]+$/).transform((key) => key.toLowerCase() as `header:${string}`)],
  { error: "expected caller, subject, consumer, apiKey, ip, route, global or header:NAME" },
);
export type LimitKey = z.infer<typeof limitKeySchema>;

/** A quota: `requests` per `periodSeconds`, at most `burst` at once (default: `requests`). */
const quotaFields = {
  requests: z.number().int().min(1),
  periodSeconds: z.number().int().min(1).default(60),
  burst: z.number().int().min(1).optional(),
};
/** A quota on its own (also the shape of `auth.failedAttempts`). */
export const quotaSchema = z.strictObject(quotaFields);
/** Quotas by caller tier (an API key's `tier`, the JWT claim `rateLimits.tierClaim`, or `anonymous`). */
const tiersSchema = z.record(name, quotaSchema);

const limitSchema = z.strictObject({
  /** Names the limit in RateLimit-Policy and in Redis keys. */
  name,
  key: limitKeySchema,
  ...quotaFields,
  /** Methods the limit applies to (`pkg.Svc.Method`, `pkg.Svc.*`, `*`). */
  methods: z.array(selectorSchema).min(1).default(["*"]),
  tiers: tiersSchema.default({}),
  /**
   * Other quotas for some methods, each with its own buckets. The most specific selector wins
   * entirely: its quota and its own `tiers` (the limit's tiers do not carry over).
   */
  overrides: z.array(z.strictObject({ selector: selectorSchema, ...quotaFields, tiers: tiersSchema.default({}) })).default([]),
  /** When the shared store (Redis) cannot answer: admit under a per-replica local limit, or 503. */
  onStoreFailure: z.enum(["fail-open", "fail-closed"]).default("fail-open"),
});
export type LimitConfig = z.infer<typeof limitSchema>;

const redisSchema = z.strictObject({
  /** `cluster`: `nodes` are seed nodes of a Redis Cluster. */
  mode: z.enum(["standalone", "cluster"]).default("standalone"),
  nodes: z.array(hostPort).min(1).default(["127.0.0.1:6379"]),
  username: z.string().min(1).optional(),
  /** The name of an environment variable holding the password (never the password itself). */
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name").optional(),
  /** Standalone only. */
  db: z.number().int().min(0).default(0),
  keyPrefix: z.string().regex(/^[A-Za-z0-9_.:-]*$/, "letters, digits, _ . : - only").default("protogate:rl:"),
  /** Every key carries `{hashTag}` so that one script can touch all buckets of a request in a cluster. */
  hashTag: z.string().regex(/^[A-Za-z0-9_.:-]+$/, "letters, digits, _ . : - only").default("protogate"),
  /**
   * A Redis command whose reply has not arrived this long after it was sent fails (and the
   * limit's onStoreFailure applies). A reply that did arrive in time but waited in the socket
   * while the event loop was busy is still taken: the timeout measures Redis, not the gateway.
   */
  commandTimeoutMs: z.number().int().min(1).default(50),
  connectTimeoutMs: z.number().int().min(1).default(1000),
  breaker: z
    .strictObject({
      /** Failures in a row that stop the gateway calling Redis. */
      failureThreshold: z.number().int().min(1).default(3),
      /** How long it then waits before one probe call. */
      coolDownMs: z.number().int().min(1).default(2000),
    })
    .prefault({}),
  /** fail-open limits fall back to a local limit of this share of their quota (e.g. 1/replicas). */
  localFallbackShare: z.number().gt(0).max(1).default(1),
});

/** The `rateLimits:` section of gateway.yaml; no limits by default. */
export const rateLimitConfigSchema = z
  .strictObject({
    store: z.enum(["memory", "redis"]).default("memory"),
    memory: z
      .strictObject({
        /** Most buckets kept in memory; least recently used ones are dropped beyond it. */
        maxKeys: z.number().int().min(1).default(100_000),
      })
      .prefault({}),
    redis: redisSchema.prefault({}),
    /** JWT claim naming the caller's tier (API keys have their own `tier`). */
    tierClaim: z.string().min(1).optional(),
    limits: z.array(limitSchema).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.limits.forEach((limit, index) => {
      if (seen.has(limit.name)) ctx.addIssue({ code: "custom", path: ["limits", index, "name"], message: `limit name "${limit.name}" appears twice` });
      seen.add(limit.name);
      const selectors = new Set<string>();
      limit.overrides.forEach((override, at) => {
        if (selectors.has(override.selector)) ctx.addIssue({ code: "custom", path: ["limits", index, "overrides", at, "selector"], message: `selector "${override.selector}" appears twice` });
        selectors.add(override.selector);
      });
    });
  });
export type RateLimitConfig = z.infer<typeof rateLimitConfigSchema>;

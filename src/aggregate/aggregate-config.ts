import { z } from "zod";

/**
 * `aggregates:` in gateway.yaml: routes answered by several RPCs at once (a backend for a
 * frontend). The shape is checked here; what needs the descriptors (RPCs, fields, types, CEL,
 * cycles) is checked at start by compile-aggregate.ts.
 */

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "expected a name of letters, digits and _ (not starting with a digit, at most 64)");
/** `pkg.v1.Service.Method`. */
const rpcName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){2,}$/, "expected a fully qualified method such as pkg.v1.Service.Method");
const positiveMs = z.number().int().positive();

/** Names a call cannot take: the response's `errors` map and CEL's own variables. */
const RESERVED_NAMES = new Set(["errors", "path", "query", "claims"]);

/**
 * Where one request field's value comes from: exactly one of
 * - `path: VAR`: a variable of the aggregate's path (`{userId}`);
 * - `query: NAME`: a query parameter (every value, for a repeated field);
 * - `claim: NAME`: a claim of the caller's verified token (`sub`: the subject, also of an API key);
 * - `const: VALUE`: a constant, in the field's proto3 JSON form;
 * - `from: CALL.FIELD.PATH`: a field of another call's response (proto or JSON names);
 * - `cel: EXPRESSION`: a CEL expression over `path`, `query`, `claims` and the other calls' responses.
 * A path variable, query parameter or claim the request does not have leaves the field unset.
 */
export const valueSourceSchema = z.union(
  [
    z.strictObject({ path: identifier }),
    z.strictObject({ query: z.string().min(1).max(128) }),
    z.strictObject({ claim: z.string().min(1).max(128) }),
    z.strictObject({ const: z.json() }),
    z.strictObject({ from: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/, "expected CALL.FIELD (a call's name, then a field path)") }),
    z.strictObject({ cel: z.string().min(1).max(4096) }),
  ],
  { error: "expected one of {path: VAR}, {query: NAME}, {claim: NAME}, {const: VALUE}, {from: CALL.FIELD}, {cel: EXPRESSION}" },
);
export type ValueSource = z.infer<typeof valueSourceSchema>;

/**
 * What a failing call does to the aggregate: `fail` answers the whole request with the call's
 * status; `partial` answers 200 with the other calls and the call's google.rpc.Status under
 * `errors.KEY`; `{default: VALUE}` uses VALUE (the response message's proto3 JSON) as if the call
 * had answered it.
 */
export const failurePolicySchema = z.union([z.literal("fail"), z.literal("partial"), z.strictObject({ default: z.json() })], {
  error: "expected fail, partial or {default: VALUE}",
});
export type FailurePolicy = z.infer<typeof failurePolicySchema>;

const callSchema = z.strictObject({
  /** The method, `pkg.v1.Service.Method`: a unary RPC with an HTTP rule in the route table. */
  rpc: rpcName,
  /** Request field (proto path, `a.b`) -> where its value comes from. Unset fields keep their defaults. */
  request: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, "expected a field path such as user_id or filter.region"), valueSourceSchema).default({}),
  /** The response fields to keep (FieldMask-style paths); all when absent. */
  select: z.array(z.string().min(1)).min(1).optional(),
  /** Selected path -> the key its last field is written under. */
  rename: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** This call's own deadline (never past the aggregate's); default: the method's deadline. */
  deadlineMs: positiveMs.optional(),
  onError: failurePolicySchema.default("fail"),
  /** Only an input of other calls: its response is not part of the answer. */
  hidden: z.boolean().default(false),
});
export type AggregateCallConfig = z.infer<typeof callSchema>;

/** An aggregate's own access rule, as a proto's `(protogate.v1.rule)`; `auth.rules` selector `aggregate.NAME` overrides it. */
const aggregateAuthSchema = z
  .strictObject({
    public: z.boolean().default(false),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "expected a scope token (printable ASCII, no spaces, quotes or backslashes)")).default([]),
    forwardAuthorization: z.boolean().default(false),
  })
  .refine((rule) => !(rule.public && rule.scopes.length > 0), { message: "a public aggregate cannot require scopes" });

export const aggregateSchema = z.strictObject({
  /** Names the aggregate in errors, logs and metrics (rpc `/aggregate/NAME`), rate-limit and auth selectors (`aggregate.NAME`). */
  name: identifier,
  /** HTTP method: GET (an aggregate reads; its inputs come from the path, the query and the caller). */
  method: z.literal("GET").default("GET"),
  /** A path template as in google.api.http: literals and `{var}` segments, e.g. /api/mobile/dashboard/{userId}. */
  path: z.string().regex(/^\//, "expected an absolute path template such as /api/dashboard/{userId}"),
  auth: aggregateAuthSchema.prefault({}),
  /** The whole aggregate's deadline; a client's grpc-timeout may shorten it. Default: deadlines.defaultMs. */
  deadlineMs: positiveMs.optional(),
  /** The calls, by name: each name is its key in the response. Either `calls` or `module`. */
  calls: z
    .record(identifier, callSchema)
    .refine((calls) => Object.keys(calls).length > 0, { message: "an aggregate needs at least one call" })
    .refine((calls) => !Object.keys(calls).some((name) => RESERVED_NAMES.has(name)), { message: `a call cannot be named ${[...RESERVED_NAMES].join(", ")} (the response's error map and CEL's variables use these names)` })
    .optional(),
  /**
   * A typed aggregate instead of `calls`: a JavaScript module (`.js`, `.mjs`; `.ts`/`.mts` when
   * the gateway runs under tsx) whose default export is `defineAggregate(...)`. Relative to the
   * config file's folder.
   */
  module: z.string().regex(/\.(m?js|m?ts)$/, "expected a module file (.js or .mjs; .ts or .mts under tsx)").optional(),
}).refine((aggregate) => (aggregate.calls === undefined) !== (aggregate.module === undefined), { message: "an aggregate has either calls or a module (not both, not neither)" });
export type AggregateConfig = z.infer<typeof aggregateSchema>;

export const aggregatesSchema = z
  .array(aggregateSchema)
  .default([])
  .superRefine((aggregates, context) => {
    const seen = new Set<string>();
    aggregates.forEach((aggregate, i) => {
      if (seen.has(aggregate.name)) context.addIssue({ code: "custom", message: `aggregate "${aggregate.name}" is declared twice`, path: [i, "name"] });
      seen.add(aggregate.name);
    });
  });

import { z } from "zod";
import { joinsConfigSchema } from "./join-config.js";

/** A path the endpoint is served at: absolute, segments of unreserved characters, no trailing slash. */
const endpointPath = z.string().regex(/^(?:\/[A-Za-z0-9._~-]+)+$/, "expected an absolute path such as /graphql (letters, digits, . _ ~ -; no trailing slash)");

/** The endpoint's own access rule, like an aggregate's; `auth.rules` selector `graphql` overrides it. */
const graphqlAuthSchema = z
  .strictObject({
    public: z.boolean().default(false),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "expected a scope token (printable ASCII, no spaces, quotes or backslashes)")).default([]),
  })
  .refine((rule) => !(rule.public && rule.scopes.length > 0), { message: "a public endpoint cannot require scopes" });

/**
 * `graphql:` in gateway.yaml: the GraphQL endpoint serving generated/schema.graphql (src/graphql/).
 * Complexity: each selected field costs 1; a field returning a list multiplies the cost of its
 * selection by its `first` or `pageSize` argument when it has one, else by `defaultListSize`.
 */
export const graphqlConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    path: endpointPath.default("/graphql"),
    /** Introspection queries (`__schema`, `__type`) answered; off: refused with a validation error. */
    introspection: z.boolean().default(true),
    auth: graphqlAuthSchema.prefault({}),
    /** Deepest field nesting of a query (the root fields are depth 1). */
    maxDepth: z.number().int().positive().default(10),
    /** Highest complexity of an operation (see above). */
    maxComplexity: z.number().int().positive().default(1000),
    /** The list size assumed for complexity when a list field has no `first`/`pageSize` argument. */
    defaultListSize: z.number().int().positive().default(10),
    /** RPCs one request may make (root fields and joins); the calls past it fail with an error on their field. */
    maxRpcCalls: z.number().int().positive().default(50),
    /** Longest query text in bytes (UTF-8). */
    maxQueryBytes: z.number().int().positive().default(64 * 1024),
    /** Parsed and validated documents kept, by query text. */
    documentCacheSize: z.number().int().nonnegative().default(1000),
    /** The whole request's time budget; default: deadlines.defaultMs. A client's grpc-timeout may shorten it. */
    deadlineMs: z.number().int().positive().optional(),
    /** A GraphiQL page for the endpoint (src/graphql/graphiql/; its files from npm, never a CDN). Fixed for the listener's life, like the docs. */
    graphiql: z.boolean().default(false),
    /** Where the GraphiQL page is served; its files under PATH/assets/. */
    graphiqlPath: endpointPath.default("/graphiql"),
    /** Serve the endpoint as an Apollo Federation 2 subgraph (`_service`, `_entities`, `@key` on the entities). */
    federation: z.boolean().default(false),
    /** graphql-ws: how long a new WebSocket may take to send `connection_init` before it is closed with 4408. */
    connectionInitTimeoutMs: z.number().int().positive().default(3000),
    /**
     * Operations known in advance (persisted-queries.ts): `manifest` is a JSON file, Apollo's
     * persisted query manifest or an object of ID to query text (Relay's); with `only`, the
     * endpoint runs nothing else (trusted documents).
     */
    persistedQueries: z.strictObject({ manifest: z.string().min(1), only: z.boolean().default(false) }).optional(),
    /** Joins for protos a team does not own (join-config.ts), added to the generated ones. */
    joins: joinsConfigSchema,
  })
  .refine((config) => !config.graphiql || config.enabled, { message: "graphql.graphiql needs graphql.enabled (the page queries the endpoint)", path: ["graphiql"] })
  .refine((config) => config.graphiqlPath !== config.path, { message: "graphql.graphiqlPath must differ from graphql.path (the endpoint answers GraphQL requests, the page is a page)", path: ["graphiqlPath"] })
  .prefault({});

export type GraphqlConfig = z.infer<typeof graphqlConfigSchema>;

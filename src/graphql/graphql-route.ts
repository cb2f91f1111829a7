import type { DescMethod } from "@bufbuild/protobuf";
import type { GraphQLSchema } from "graphql";
import type { EffectiveRule } from "../auth/authorize.js";
import type { AuthRuleData } from "../binding.js";
import type { PreparedRoute } from "../gateway/prepared-route.js";
import type { RouteIdentity } from "../observe/exchange.js";
import type { MethodLimiter } from "../ratelimit/rate-limiter.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import { createBehaviorCheck, type OutputOnlyMode } from "../transcode/field-behavior/behavior-check.js";
import { createBehaviorPlans } from "../transcode/field-behavior/behavior-plan.js";
import { buildExecutableSchema, GraphqlSchemaError, type ResolverContext, type SubscribeToRpc } from "./executable-schema.js";
import { entityAsJoin } from "./federation/entity-loader.js";
import { toSubgraphSchema } from "./federation/subgraph.js";
import type { GraphqlConfig } from "./graphql-config.js";
import type { GraphqlFiles } from "./graphql-files.js";
import { createOperationCheck, handlerFor, type GraphqlHttpAnswer, type GraphqlHttpRequest, type OperationCheck } from "./graphql-http-handler.js";
import { checkConfiguredJoins } from "./join-config.js";
import type { RpcTarget } from "./resolver-context.js";
import type { GraphqlEntity, GraphqlJoin } from "./schema-map.js";
import { subscribeThroughContext } from "./subscriptions/subscribe-to-rpc.js";

/**
 * How the endpoint is named to auth rules, rate limits and observers: service `graphql` with no
 * method, so the selector `graphql` (or `graphql.*`) names it; metrics and traces show rpc `/graphql`.
 */
export const GRAPHQL_SERVICE = "graphql";

/** The endpoint, shared by its GET and POST routes. */
export interface GraphqlEndpoint {
  /** GraphQL over HTTP: graphql-http with the document cache and the limits. */
  readonly handle: (request: GraphqlHttpRequest) => Promise<GraphqlHttpAnswer>;
  /** The checks before an operation runs (size, document cache, introspection, depth, complexity), shared by every transport. */
  readonly check: OperationCheck;
  /** graphql-ws: the wait for `connection_init`. */
  readonly connectionInitTimeoutMs: number;
  /** The RPCs resolvers call, by gRPC path. */
  readonly targets: ReadonlyMap<string, RpcTarget>;
  readonly maxRpcCalls: number;
  /** The whole request's time budget. */
  readonly deadlineMs: number;
}

/** One route of the endpoint (GET or POST), as the pipeline's router holds it. */
export interface PreparedGraphql {
  readonly binding: RouteIdentity;
  readonly rule: EffectiveRule;
  readonly limiter: MethodLimiter | undefined;
  readonly graphql: GraphqlEndpoint;
}

export interface GraphqlDependencies {
  readonly config: GraphqlConfig;
  readonly files: GraphqlFiles;
  readonly codecs: CodecRegistry;
  /** The route table's routes (a method's first binding is the one its RPC calls use). */
  readonly routes: readonly PreparedRoute[];
  readonly ruleFor: (service: string, method: string, rule: AuthRuleData) => EffectiveRule;
  readonly limiterFor: (service: string, method: string) => MethodLimiter | undefined;
  readonly defaultDeadlineMs: number;
  /** `transcoding.outputOnlyFields`: the request messages' field-behavior checks run as for REST. */
  readonly outputOnlyFields: OutputOnlyMode;
  /** Start-up warnings (a configured join left out because its RPC is not served). */
  readonly warn: (message: string) => void;
  /** Subscription fields' event source; default: the field's RPC through the request's context (subscribe-to-rpc.ts). */
  readonly subscribe?: SubscribeToRpc;
}

/** gateway.yaml's `graphql.joins` that cannot be served: one line per problem. */
export class GraphqlConfigError extends Error {
  override name = "GraphqlConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`graphql:\n  ${problems.join("\n  ")}`);
  }
}

/**
 * Prepares the endpoint: the configured joins checked (like the proto option) and added to the
 * generated ones, the executable schema, the handler, the endpoint's own access rule (as an
 * aggregate's: `graphql.auth`, overridden by `auth.rules` selector `graphql`) and rate limits
 * (selector `graphql`). Throws GraphqlConfigError or GraphqlSchemaError when it cannot be served.
 */
export function prepareGraphql(deps: GraphqlDependencies): PreparedGraphql[] {
  const { config, files, codecs } = deps;
  const targets = new Map<string, RpcTarget>();
  const served = new Map<string, DescMethod>();
  const behaviorPlans = createBehaviorPlans();
  for (const route of deps.routes) {
    const { binding } = route;
    // Unary methods for Query and Mutation fields, server-streaming ones for Subscription fields.
    if ((binding.kind !== "unary" && binding.kind !== "server") || targets.has(binding.rpcPath)) continue;
    const requestPlan = codecs.plan(binding.requestType);
    const checkRequest = createBehaviorCheck(behaviorPlans, requestPlan.desc, deps.outputOnlyFields);
    targets.set(binding.rpcPath, { route, requestCodec: codecs.codec(binding.requestType), requestPlan, responsePlan: codecs.plan(binding.responseType), ...(checkRequest && { checkRequest }) });
    const method = codecs.files.getService(binding.service)?.methods.find((m) => m.name === binding.method);
    if (method !== undefined) served.set(`${binding.service}.${binding.method}`, method);
  }
  const executable = buildExecutableSchema({
    sdl: files.sdl,
    map: files.map,
    message: (typeName) => codecs.files.getMessage(typeName),
    extraJoins: configuredJoins(deps, served),
    subscribe: deps.subscribe ?? subscribeThroughContext,
  });
  const schema = config.federation ? asSubgraph(executable, files.map.entities) : executable;
  const check = createOperationCheck(schema, config);
  const graphql: GraphqlEndpoint = {
    handle: handlerFor(schema, check),
    check,
    connectionInitTimeoutMs: config.connectionInitTimeoutMs,
    targets,
    maxRpcCalls: config.maxRpcCalls,
    deadlineMs: config.deadlineMs ?? deps.defaultDeadlineMs,
  };
  const rule = deps.ruleFor(GRAPHQL_SERVICE, "", { public: config.auth.public, scopes: config.auth.scopes, forwardAuthorization: false });
  const limiter = deps.limiterFor(GRAPHQL_SERVICE, "");
  return ["GET", "POST"].map((httpMethod) => ({
    binding: Object.freeze({ service: GRAPHQL_SERVICE, method: "", rpcPath: `/${GRAPHQL_SERVICE}`, kind: "unary" as const, httpMethod, pattern: config.path }),
    rule,
    limiter,
    graphql,
  }));
}

/**
 * The schema as an Apollo Federation 2 subgraph (`graphql.federation`): each entity reference is
 * resolved by its entity's Get RPC through the request's join loaders, so references of one
 * request are batched per entity and key like join fields, and each call is made on the client's
 * behalf like any other.
 */
function asSubgraph(executable: GraphQLSchema, entities: readonly GraphqlEntity[]): GraphQLSchema {
  const rows = new Map(entities.map((entity) => [entity, entityAsJoin(entity)]));
  return toSubgraphSchema<ResolverContext>({
    executable,
    entities,
    resolveEntity: (entity, key, context) => context.loaders.loaderOf(rows.get(entity) ?? entityAsJoin(entity)).load(key),
  });
}

/** gateway.yaml's joins, checked by the proto option's rules, with the GraphQL object type each is added to. */
function configuredJoins(deps: GraphqlDependencies, served: ReadonlyMap<string, DescMethod>): GraphqlJoin[] {
  const checked = checkConfiguredJoins(deps.config.joins, deps.codecs.files, served);
  for (const skipped of checked.skipped) deps.warn(skipped);
  const problems = [...checked.problems];
  const objectOf = new Map(Object.entries(deps.files.map.types).filter(([, info]) => info.kind === "object").map(([name, info]) => [info.protoType, name]));
  const joins: GraphqlJoin[] = [];
  for (const { data } of checked.joins) {
    const type = objectOf.get(data.protoType);
    if (type === undefined) problems.push(`${data.source}: ${data.protoType} has no object type in schema.graphql (no served RPC returns it), so join "${data.field}" has nothing to be added to`);
    else joins.push({ type, ...data });
  }
  if (problems.length > 0) throw new GraphqlConfigError(problems);
  return joins;
}

export { GraphqlSchemaError };

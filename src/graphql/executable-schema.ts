import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import {
  GraphQLError,
  buildSchema,
  extendSchema,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
  parse,
} from "graphql";
import { inputToProtoJson, objectToEntries, type MessageShape } from "./input-json.js";
import { isEmptyKey, type JoinKey, type JoinLoaders, type JsonObject, type RpcCall } from "./join-loader.js";
import { applyScalarBehaviour } from "./runtime-scalars.js";
import { GRAPHQL_MAP_FORMAT, type GraphqlJoin, type GraphqlMap, type GraphqlOperation } from "./schema-map.js";

/** What every resolver gets as its context: the request's RPC maker and join loaders. */
// A type, not an interface: graphql-http wants a context assignable to Record<PropertyKey, unknown>.
export type ResolverContext = {
  readonly rpc: RpcCall;
  readonly loaders: JoinLoaders;
  /** A server-streaming RPC's replies (a Subscription field's events); absent where subscriptions are not served. */
  readonly stream?: RpcStream;
};

/**
 * Opens a server-streaming RPC on the client's behalf: its replies as proto3 JSON, then, when it
 * fails, the GraphQLError it failed with as the last event. `return()` cancels the call at once.
 */
export type RpcStream = (rpcPath: string, request: JsonObject, what: string) => AsyncIterableIterator<JsonObject | GraphQLError>;

/**
 * The source of a Subscription field's events: the server-streaming RPC's replies (proto3 JSON),
 * for a request built from the field's arguments. Given by the module serving subscriptions
 * (graphql-ws, SSE); without it, Subscription fields have no resolver.
 */
export type SubscribeToRpc = (operation: GraphqlOperation, request: JsonObject, context: ResolverContext) => AsyncIterable<JsonObject | GraphQLError> | Promise<AsyncIterable<JsonObject | GraphQLError>>;

export interface ExecutableSchemaOptions {
  /** generated/schema.graphql. */
  readonly sdl: string;
  /** generated/graphql-map.js. */
  readonly map: GraphqlMap;
  /** The proto messages by full name (the descriptor set): replies' default values, request maps. */
  readonly message: (typeName: string) => DescMessage | undefined;
  /** Joins declared in gateway.yaml (`graphql.joins`), checked, with the GraphQL type they are added to. */
  readonly extraJoins?: readonly GraphqlJoin[];
  /** Subscription fields' event source; absent: subscriptions are not served. */
  readonly subscribe?: SubscribeToRpc;
}

/** A map, or a join, that cannot be served with this schema. */
export class GraphqlSchemaError extends Error {
  override name = "GraphqlSchemaError";
}

/**
 * The schema served: schema.graphql with its scalars' behaviour (runtime-scalars.ts) and a
 * resolver for every root field (its RPC, through the context), every join field (through the
 * request's join loaders), and every field of a proto message (the reply's value, or the field's
 * proto3 default when the reply leaves it out, as proto3 JSON does; maps as entry lists).
 */
export function buildExecutableSchema(options: ExecutableSchemaOptions): GraphQLSchema {
  const { map } = options;
  if (map.format !== GRAPHQL_MAP_FORMAT) throw new GraphqlSchemaError(`graphql-map.js has format ${String(map.format)}; this gateway reads format ${GRAPHQL_MAP_FORMAT}: run protogate generate again`);
  const extraJoins = options.extraJoins ?? [];
  const base = buildSchema(options.sdl);
  const extensions = joinExtensions(base, extraJoins, options);
  const schema = extensions === "" ? base : extendSchema(base, parse(extensions));
  for (const type of Object.values(schema.getTypeMap())) {
    if (isScalarType(type)) applyScalarBehaviour(type);
  }
  for (const [name, info] of Object.entries(map.types)) {
    const type = schema.getType(name);
    if (info.kind === "object" && isObjectType(type)) resolveMessageFields(type, options.message(info.protoType), new Set(info.mapEntries));
  }
  for (const join of [...map.joins, ...extraJoins]) resolveJoin(schema, join);
  for (const operation of map.operations) resolveOperation(schema, operation, options);
  return schema;
}

/** `extend type Payment { order: Order }` for each configured join (its type is the join RPC's response). */
function joinExtensions(base: GraphQLSchema, joins: readonly GraphqlJoin[], options: ExecutableSchemaOptions): string {
  const objectOf = new Map(Object.entries(options.map.types).filter(([, info]) => info.kind === "object").map(([name, info]) => [info.protoType, name]));
  const operationOf = new Map(options.map.operations.map((op) => [op.rpcPath, op]));
  return joins
    .map((join) => {
      const type = base.getType(join.type);
      if (isObjectType(type) && join.field in type.getFields()) throw new GraphqlSchemaError(`${join.source}: join name "${join.field}" is already a field of GraphQL type ${join.type}; choose another name`);
      const target = operationOf.get(join.rpcPath)?.responseType ?? responseOfJoin(join, options);
      const targetName = target === undefined ? undefined : objectOf.get(target);
      if (targetName === undefined) throw new GraphqlSchemaError(`${join.source}: join ${join.type}.${join.field}: the response of ${join.rpcPath.slice(1)} has no object type in schema.graphql`);
      return `\nextend type ${join.type} {\n  ${join.field}: ${join.list ? `[${targetName}]` : targetName}\n}\n`;
    })
    .join("");
}

/** The response type of a join's RPC, when the RPC has no root field (hidden): from the descriptors. */
function responseOfJoin(join: GraphqlJoin, options: ExecutableSchemaOptions): string | undefined {
  const [service, method] = join.rpcPath.slice(1).split("/");
  const request = options.message(join.requestType);
  return request?.file.services.find((s) => s.typeName === service)?.methods.find((m) => m.name === method)?.output.typeName;
}

/** Each field of a message's object type: the reply's value, else its proto3 default; a map as its entries. */
function resolveMessageFields(type: GraphQLObjectType, message: DescMessage | undefined, mapFields: ReadonlySet<string>): void {
  const byJsonName = new Map(message?.fields.map((field) => [field.jsonName, field]));
  for (const field of Object.values(type.getFields())) {
    const name = field.name;
    const desc = byJsonName.get(name);
    if (desc === undefined) continue;
    if (mapFields.has(name)) {
      const keyIsBoolean = desc.fieldKind === "map" && desc.mapKey === ScalarType.BOOL;
      field.resolve = (source: JsonObject) => {
        const entries = objectToEntries(source[name]);
        return keyIsBoolean ? entries.map((entry) => ({ key: entry.key === "true", value: entry.value })) : entries;
      };
      continue;
    }
    const fallback = defaultJson(desc);
    if (fallback !== undefined) field.resolve = (source: JsonObject) => source[name] ?? fallback;
  }
}

/** The proto3 JSON of a field's default, for a field without presence (proto3 JSON leaves it out); undefined otherwise. */
export function defaultJson(field: DescField): unknown {
  switch (field.fieldKind) {
    case "list":
      return [];
    case "map":
      return {};
    case "message":
      return undefined;
    case "enum":
      if (field.presence !== FeatureSet_FieldPresence.IMPLICIT) return undefined;
      return (field.enum.values.find((value) => value.number === 0) ?? field.enum.values[0])?.name;
    case "scalar":
      if (field.presence !== FeatureSet_FieldPresence.IMPLICIT) return undefined;
      return scalarDefault(field.scalar);
  }
}

function scalarDefault(scalar: ScalarType): unknown {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return "0";
    default:
      return 0;
  }
}

function resolveJoin(schema: GraphQLSchema, join: GraphqlJoin): void {
  const type = schema.getType(join.type);
  const field = isObjectType(type) ? type.getFields()[join.field] : undefined;
  if (field === undefined) throw new GraphqlSchemaError(`${join.source}: join ${join.type}.${join.field} has no field in schema.graphql: run protogate generate again`);
  const resolve: GraphQLFieldResolver<JsonObject, ResolverContext> = join.list
    ? (source, _args, context) => {
        const keys = source[join.keyField];
        if (!Array.isArray(keys)) return [];
        const loader = context.loaders.loaderOf(join);
        // One promise per item: a key that fails is an error on its item, the others still resolve.
        return (keys as JoinKey[]).map((key) => (isEmptyKey(key) ? null : loader.load(key)));
      }
    : (source, _args, context) => {
        const key = source[join.keyField];
        return isEmptyKey(key) ? null : context.loaders.loaderOf(join).load(key as JoinKey);
      };
  field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
}

function resolveOperation(schema: GraphQLSchema, operation: GraphqlOperation, options: ExecutableSchemaOptions): void {
  const root = operation.root === "Query" ? schema.getQueryType() : operation.root === "Mutation" ? schema.getMutationType() : schema.getSubscriptionType();
  const field = root?.getFields()[operation.field];
  if (field === undefined) throw new GraphqlSchemaError(`graphql-map.js names ${operation.root}.${operation.field}, which schema.graphql does not have: run protogate generate again`);
  const request = options.message(operation.requestType);
  const shape: MessageShape = { oneofs: operation.oneofs, mapEntries: request?.fields.filter((f) => f.fieldKind === "map").map((f) => f.jsonName) ?? [] };
  const toJson = (args: Record<string, unknown>) => inputToProtoJson(args, field.args, shape, options.map.types, operation.field);
  if (operation.root !== "Subscription") {
    const what = `${operation.root}.${operation.field} (${operation.rpcPath.slice(1)})`;
    field.resolve = ((_source, args, context) => context.rpc(operation.rpcPath, toJson(args), what)) as GraphQLFieldResolver<unknown, ResolverContext, Record<string, unknown>> as GraphQLField<unknown, unknown>["resolve"];
    return;
  }
  const subscribe = options.subscribe;
  if (subscribe === undefined) return;
  field.subscribe = ((_source, args, context) => subscribe(operation, toJson(args), context)) as GraphQLFieldResolver<unknown, ResolverContext, Record<string, unknown>> as GraphQLField<unknown, unknown>["subscribe"];
  // Each event is the streamed reply itself; a stream's failure arrives as its last event, an error on the field.
  field.resolve = (event: unknown) => {
    if (event instanceof GraphQLError) throw event;
    return event;
  };
}

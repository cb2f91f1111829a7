import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  GraphQLError,
  isEnumType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  Kind,
  parse,
  printSchema,
  visit,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SchemaExtensionNode,
} from "graphql";
import type { GraphqlEntity } from "../schema-map.js";

/** @apollo/subgraph's resolver map, as its entry point takes it (the package root exports no name for the type). */
type ResolverMap = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { resolvers?: unknown }>["resolvers"]>;

/**
 * The Federation 2 version the subgraph declares. v2.3 is old enough for every Apollo Router and
 * Gateway still supported to compose, and the subgraph needs nothing newer: only `@key`.
 */
export const FEDERATION_SPEC_URL = "https://specs.apollo.dev/federation/v2.3";

/** An entity's key as a representation carries it: its proto3 JSON value (a string, or a number for 32-bit integers). */
export type EntityKey = string | number;

/** An entity as the resolving RPC answers it (proto3 JSON, as every resolver of the schema reads it). */
export type EntityValue = Readonly<Record<string, unknown>>;

/**
 * Resolves one reference: the entity of `entity.type` whose key is `key`, or null when there is
 * none. The runtime calls `entity.rpcPath` with `entity.requestField` set to the key, through the
 * request's RPC maker (per-call auth, deadline and limits); `batchedEntityResolver`
 * (entity-loader.ts) batches the references of one `_entities` call.
 */
export type ResolveEntity<Context> = (entity: GraphqlEntity, key: EntityKey, context: Context, info: GraphQLResolveInfo) => Promise<EntityValue | null> | EntityValue | null;

export interface SubgraphOptions<Context> {
  /** The schema served (every field's `resolve`, and `subscribe`, set; scalars with their behaviour). */
  readonly executable: GraphQLSchema;
  /** `graphqlMap.entities`. */
  readonly entities: readonly GraphqlEntity[];
  readonly resolveEntity: ResolveEntity<Context>;
}

/** The executable schema and the entity table do not fit together (a stale generated folder). */
export class SubgraphSchemaError extends Error {
  override name = "SubgraphSchemaError";
}

/**
 * The executable schema as an Apollo Federation 2 subgraph, built by `@apollo/subgraph`: the same
 * types and fields with `extend schema @link(url: FEDERATION_SPEC_URL, import: ["@key"])`,
 * `@key(fields: "KEY")` on each entity, `Query._service { sdl }` and `Query._entities` (each
 * representation resolved by `resolveEntity`, through the entity's `__resolveReference`). The
 * executable schema's resolvers, type resolvers and scalars (their parse and serialize) are
 * carried over, so the subgraph answers every other query exactly as the schema does.
 */
export function toSubgraphSchema<Context>(options: SubgraphOptions<Context>): GraphQLSchema {
  const { executable, entities } = options;
  checkEntities(executable, entities);
  const typeDefs = subgraphTypeDefs(executable, entities);
  const resolvers = resolversOf(executable);
  for (const entity of entities) {
    const typeResolvers = (resolvers[entity.type] ??= {}) as Record<string, unknown>;
    // Async: @apollo/subgraph maps the representations synchronously, so a throw here would fail
    // the whole `_entities` list; a rejection is an error on its own item only.
    typeResolvers.__resolveReference = async (reference: Readonly<Record<string, unknown>>, context: Context, info: GraphQLResolveInfo) => {
      const key = keyOf(entity, reference);
      return key === undefined ? null : options.resolveEntity(entity, key, context, info);
    };
  }
  try {
    return buildSubgraphSchema({ typeDefs, resolvers });
  } catch (error) {
    throw new SubgraphSchemaError(`the GraphQL schema cannot be served as a federation subgraph: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Each entity names an object type of the schema and a field of it: a mismatch means generated/ is stale. */
function checkEntities(schema: GraphQLSchema, entities: readonly GraphqlEntity[]): void {
  for (const entity of entities) {
    const type = schema.getType(entity.type);
    if (!isObjectType(type)) throw new SubgraphSchemaError(`${entity.source}: entity ${entity.type} (${entity.protoType}) is not an object type of the schema: run protogate generate again`);
    if (type.getFields()[entity.keyField] === undefined) throw new SubgraphSchemaError(`${entity.source}: entity ${entity.type} has no key field ${entity.keyField}: run protogate generate again`);
  }
}

/** The schema's SDL with the federation link and each entity's `@key`. */
export function subgraphTypeDefs(schema: GraphQLSchema, entities: readonly GraphqlEntity[]): DocumentNode {
  const keyOfType = new Map(entities.map((entity) => [entity.type, entity.keyField]));
  const document = visit(parse(printSchema(schema)), {
    ObjectTypeDefinition(node) {
      const keyField = keyOfType.get(node.name.value);
      return keyField === undefined ? undefined : { ...node, directives: [...(node.directives ?? []), keyDirective(keyField)] };
    },
  });
  return { ...document, definitions: [linkExtension(), ...document.definitions] };
}

/** `@key(fields: "userId")`. */
function keyDirective(keyField: string): ConstDirectiveNode {
  return {
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: "key" },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "fields" }, value: { kind: Kind.STRING, value: keyField } }],
  };
}

/** `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])`. */
function linkExtension(): SchemaExtensionNode {
  return {
    kind: Kind.SCHEMA_EXTENSION,
    directives: [
      {
        kind: Kind.DIRECTIVE,
        name: { kind: Kind.NAME, value: "link" },
        arguments: [
          { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "url" }, value: { kind: Kind.STRING, value: FEDERATION_SPEC_URL } },
          { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "import" }, value: { kind: Kind.LIST, values: [{ kind: Kind.STRING, value: "@key" }] } },
        ],
      },
    ],
  };
}

/**
 * The executable schema's behaviour as a resolver map: every field's `resolve` and `subscribe`,
 * object types' `isTypeOf`, abstract types' `resolveType`, custom scalars (the scalar objects
 * themselves: @apollo/subgraph copies their serialize, parseValue and parseLiteral), and enums'
 * internal values where they are not the value names.
 */
function resolversOf(schema: GraphQLSchema): ResolverMap {
  // Boundary: @apollo/subgraph's resolver map is loosely typed (a field resolver and
  // `__resolveReference` share one slot type); the entries below are graphql-js's own functions.
  const resolvers: Record<string, Record<string, unknown>> = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type)) continue;
    if (isScalarType(type)) {
      if (!isSpecifiedScalarType(type)) resolvers[type.name] = type as unknown as Record<string, unknown>;
    } else if (isObjectType(type)) {
      const entries: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        if (field.subscribe !== undefined) entries[field.name] = { resolve: field.resolve, subscribe: field.subscribe };
        else if (field.resolve !== undefined) entries[field.name] = field.resolve;
      }
      if (type.isTypeOf) entries.__isTypeOf = type.isTypeOf;
      if (Object.keys(entries).length > 0) resolvers[type.name] = entries;
    } else if (isInterfaceType(type) || isUnionType(type)) {
      if (type.resolveType) resolvers[type.name] = { __resolveType: type.resolveType };
    } else if (isEnumType(type)) {
      const values = type.getValues();
      if (values.some((value) => value.value !== value.name)) resolvers[type.name] = Object.fromEntries(values.map((value) => [value.name, value.value]));
    }
  }
  return resolvers as ResolverMap;
}

/**
 * The key of a representation: its key field, a string or a finite number (proto3 JSON takes
 * both for integers); undefined for the empty string, which no entity has (proto3's default: the
 * reference resolves to null without a call, as an empty join key does).
 */
function keyOf(entity: GraphqlEntity, reference: Readonly<Record<string, unknown>>): EntityKey | undefined {
  const key = reference[entity.keyField];
  if (key === "") return undefined;
  if (typeof key === "string" || (typeof key === "number" && Number.isFinite(key))) return key;
  throw new GraphQLError(`a representation of ${entity.type} must hold its key ${entity.keyField} (a string or a number), as @key(fields: "${entity.keyField}") says`, {
    extensions: { code: "BAD_USER_INPUT" },
  });
}

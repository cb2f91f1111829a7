import { readFileSync } from "node:fs";
import { buildSubgraph } from "@apollo/federation-internals";
import { buildSchema, execute, GraphQLScalarType, parse, subscribe, type GraphQLObjectType, type GraphQLSchema } from "graphql";
import { beforeEach, describe, expect, it } from "vitest";
import { graphqlMap } from "../../../generated/graphql-map.js";
import { batchedEntityResolver, entityAsJoin, type LoadEntities } from "../../../src/graphql/federation/entity-loader.js";
import { FEDERATION_SPEC_URL, SubgraphSchemaError, toSubgraphSchema, type EntityKey, type EntityValue, type ResolveEntity } from "../../../src/graphql/federation/subgraph.js";
import type { GraphqlEntity } from "../../../src/graphql/schema-map.js";

const SDL = readFileSync(new URL("../../../generated/schema.graphql", import.meta.url), "utf8");

/** Each request's context: a fresh object, as the runtime makes one per request. */
interface Context {
  readonly name: string;
}

const USERS: Record<string, EntityValue> = {
  "u-1": { userId: "u-1", displayName: "Ada Lovelace", balanceCents: 1200 },
  "u-2": { userId: "u-2", displayName: "Alan Turing", balanceCents: "7" },
};
const ORDERS: Record<string, EntityValue> = { "users/u-1/orders/o-1": { name: "users/u-1/orders/o-1", userId: "u-2" } };

/**
 * A stand-in for the runtime's executable schema (src/graphql/executable-schema.ts, on another
 * branch): the demo's schema.graphql with a resolver on a root field, on the Order.user join and
 * on a Subscription field, and Int64 given a serialize that turns numbers into proto3 JSON strings
 * (graphql-js's default would pass a number through unchanged).
 */
function standInExecutable(): GraphQLSchema {
  const schema = buildSchema(SDL);
  const fields = (type: string) => (schema.getType(type) as GraphQLObjectType).getFields();
  fields("Query").getUser.resolve = (_source, args: { userId: string }) => USERS[args.userId] ?? null;
  fields("Order").user.resolve = (source: EntityValue) => USERS[String(source.userId)] ?? null;
  fields("Subscription").subscribe.subscribe = async function* () {
    yield { text: "hello" };
  };
  fields("Subscription").subscribe.resolve = (event: unknown) => event;
  const int64 = schema.getType("Int64") as GraphQLScalarType;
  int64.serialize = (value: unknown) => (typeof value === "number" ? String(value) : value);
  int64.parseValue = (value: unknown) => {
    if (typeof value !== "string") throw new TypeError("Int64 is a decimal string");
    return value;
  };
  return schema;
}

describe("toSubgraphSchema (the demo's schema and entities)", () => {
  let loads: { type: string; keys: readonly EntityKey[]; context: Context }[];
  let executable: GraphQLSchema;
  let subgraph: GraphQLSchema;

  const load: LoadEntities<Context> = async (entity, keys, context) => {
    loads.push({ type: entity.type, keys, context });
    const table = entity.type === "User" ? USERS : entity.type === "Order" ? ORDERS : {};
    return keys.map((key) => (key === "boom" ? new Error(`backend failed for ${key}`) : (table[String(key)] ?? null)));
  };

  beforeEach(() => {
    loads = [];
    executable = standInExecutable();
    subgraph = toSubgraphSchema({ executable, entities: graphqlMap.entities, resolveEntity: batchedEntityResolver(load) });
  });

  async function run(query: string, variables?: Record<string, unknown>, context: Context = { name: "request" }) {
    return JSON.parse(JSON.stringify(await execute({ schema: subgraph, document: parse(query), variableValues: variables, contextValue: context }))) as {
      data?: Record<string, unknown>;
      errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
    };
  }

  it("answers _service { sdl }: the federation @link, @key(fields: KEY) on each entity and no other type, the whole schema", async () => {
    const { data } = await run("{ _service { sdl } }");
    const sdl = String((data?._service as { sdl: string }).sdl);
    expect(sdl).toMatch(new RegExp(`^extend schema\\s+@link\\(url: "${FEDERATION_SPEC_URL.replace(/[./]/g, "\\$&")}", import: \\["@key"\\]\\)`, "m"));
    expect(FEDERATION_SPEC_URL).toBe("https://specs.apollo.dev/federation/v2.3");
    // Federation's printer puts a type's directives on lines of their own.
    const keyed = [...sdl.matchAll(/^type (\w+)\s+@key\(fields: "(\w+)"\)\s*\{/gm)].map((match) => `${match[1]}.${match[2]}`);
    expect(keyed.sort()).toEqual(["Order.name", "Payment.paymentId", "User.userId"]);
    expect(sdl.match(/^\s+@key\(/gm)).toHaveLength(3);
    expect(sdl).toMatch(/^type Money \{/m);
    expect(sdl).toContain("getUser(");
    // Every scalar of the schema (federation's printer leaves out @specifiedBy).
    expect(sdl.match(/^scalar [A-Z]\w*$/gm)).toEqual(["scalar Any", "scalar Bytes", "scalar Duration", "scalar Empty", "scalar FieldMask", "scalar Int64", "scalar JSONObject", "scalar Timestamp", "scalar UInt32", "scalar UInt64"]);
  });

  it("its SDL is a valid Federation 2 subgraph by Apollo's own rules (federation-internals' buildSubgraph + validate), with the three entities", async () => {
    const { data } = await run("{ _service { sdl } }");
    const sdl = String((data?._service as { sdl: string }).sdl);
    const checked = buildSubgraph("protogate", "http://protogate.internal/graphql", sdl).validate();
    expect(checked.metadata().isFed2Schema()).toBe(true);
    const entityType = checked.metadata().entityType();
    expect(entityType?.types().map((type) => type.name).sort()).toEqual(["Order", "Payment", "User"]);
  });

  it("_entities resolves each representation through resolveEntity: one batched load per type and request, in order, each distinct key once", async () => {
    const context = { name: "one request" };
    const result = await run(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          __typename
          ... on User { userId displayName }
          ... on Order { name user { displayName } }
        }
      }`,
      {
        representations: [
          { __typename: "User", userId: "u-2" },
          { __typename: "Order", name: "users/u-1/orders/o-1" },
          { __typename: "User", userId: "u-1" },
          { __typename: "User", userId: "u-2" },
          { __typename: "User", userId: "u-404" },
        ],
      },
      context,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { __typename: "User", userId: "u-2", displayName: "Alan Turing" },
      // Order.user is the executable schema's own join resolver, carried over.
      { __typename: "Order", name: "users/u-1/orders/o-1", user: { displayName: "Alan Turing" } },
      { __typename: "User", userId: "u-1", displayName: "Ada Lovelace" },
      { __typename: "User", userId: "u-2", displayName: "Alan Turing" },
      null,
    ]);
    expect(loads.map(({ type, keys }) => ({ type, keys }))).toEqual([
      { type: "User", keys: ["u-2", "u-1", "u-404"] },
      { type: "Order", keys: ["users/u-1/orders/o-1"] },
    ]);
    expect(loads.every((call) => call.context === context)).toBe(true);
  });

  it("batches per request: two requests never share a load (nor a cached answer)", async () => {
    const query = '{ _entities(representations: [{__typename: "User", userId: "u-1"}]) { ... on User { displayName } } }';
    await run(query, undefined, { name: "first" });
    await run(query, undefined, { name: "second" });
    expect(loads.map((call) => call.context.name)).toEqual(["first", "second"]);
  });

  it("a key that fails is an error on its item only; an empty key is null without a load; a representation without its key is BAD_USER_INPUT", async () => {
    const result = await run(
      `{ _entities(representations: [
          {__typename: "User", userId: "boom"},
          {__typename: "User", userId: ""},
          {__typename: "User", displayName: "no key"},
          {__typename: "User", userId: "u-1"}
        ]) { ... on User { displayName } } }`,
    );
    expect(result.data?._entities).toEqual([null, null, null, { displayName: "Ada Lovelace" }]);
    // Errors come in the order they happen; by item here.
    const errors = (result.errors ?? []).map((error) => [error.path, error.message, error.extensions?.code]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(errors).toEqual([
      [["_entities", 0], "backend failed for boom", undefined],
      [["_entities", 2], 'a representation of User must hold its key userId (a string or a number), as @key(fields: "userId") says', "BAD_USER_INPUT"],
    ]);
    expect(loads.map((call) => call.keys)).toEqual([["boom", "u-1"]]);
  });

  it("keeps the executable schema's resolvers and scalars: a root field, an entity's Int64 field serialized by the schema's Int64", async () => {
    const result = await run('{ getUser(userId: "u-1") { displayName balanceCents } }');
    expect(result).toEqual({ data: { getUser: { displayName: "Ada Lovelace", balanceCents: "1200" } } });
    const viaEntities = await run('{ _entities(representations: [{__typename: "User", userId: "u-1"}]) { ... on User { balanceCents } } }');
    expect(viaEntities.data?._entities).toEqual([{ balanceCents: "1200" }]);
    const int64 = subgraph.getType("Int64") as GraphQLScalarType;
    const original = executable.getType("Int64") as GraphQLScalarType;
    expect(int64.parseValue).toBe(original.parseValue);
    expect(int64.parseLiteral).toBe(original.parseLiteral);
  });

  it("keeps subscriptions: the Subscription field's subscribe and resolve are the executable schema's", async () => {
    const stream = await subscribe({ schema: subgraph, document: parse('subscription { subscribe(room: "lobby") { text } }'), contextValue: { name: "s" } });
    if (!(Symbol.asyncIterator in stream)) throw new Error(`not a stream: ${JSON.stringify(stream)}`);
    const first = await stream.next();
    expect(JSON.parse(JSON.stringify(first.value))).toEqual({ data: { subscribe: { text: "hello" } } });
    await stream.return?.();
  });
});

describe("toSubgraphSchema refuses an entity table that does not fit the schema (a stale generated folder)", () => {
  const user = graphqlMap.entities.find((entity) => entity.type === "User") as GraphqlEntity;
  const never: ResolveEntity<object> = () => null;

  it.each([
    ["a type the schema does not have", { ...user, type: "Ghost" }, /entity Ghost \(demo\.v1\.User\) is not an object type of the schema: run protogate generate again/],
    ["an input type", { ...user, type: "UserInput" }, /entity UserInput \(demo\.v1\.User\) is not an object type/],
    ["a key field the type does not have", { ...user, keyField: "id" }, /entity User has no key field id: run protogate generate again/],
  ])("%s", (_name, entity, message) => {
    expect(() => toSubgraphSchema({ executable: buildSchema(SDL), entities: [entity], resolveEntity: never })).toThrow(SubgraphSchemaError);
    expect(() => toSubgraphSchema({ executable: buildSchema(SDL), entities: [entity], resolveEntity: never })).toThrow(message);
  });

  it("a schema without entities is still a subgraph (_service, no _entities)", async () => {
    const subgraph = toSubgraphSchema({ executable: buildSchema(SDL), entities: [], resolveEntity: never });
    expect(subgraph.getQueryType()?.getFields()._service).toBeDefined();
    expect(subgraph.getQueryType()?.getFields()._entities).toBeUndefined();
  });
});

describe("entityAsJoin", () => {
  it("is the join-table row calling the entity's RPC with the key in its request field", () => {
    const user = graphqlMap.entities.find((entity) => entity.type === "User") as GraphqlEntity;
    expect(entityAsJoin(user)).toEqual({
      type: "User",
      protoType: "demo.v1.User",
      field: "_entities",
      keyField: "userId",
      list: false,
      rpcPath: "/demo.v1.UserService/GetUser",
      requestType: "demo.v1.GetUserRequest",
      requestField: "userId",
      source: user.source,
    });
  });
});

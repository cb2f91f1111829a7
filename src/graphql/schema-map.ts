/**
 * What `protogate generate` writes beside `schema.graphql` for the GraphQL runtime to read
 * (`graphql-map.js`): which RPC each root field calls, which proto message each GraphQL type
 * stands for, the oneof groups input values must respect, and the join table. Plain data, like the
 * route table; the runtime checks `format` before reading the rest.
 *
 * GraphQL field and argument names are the fields' proto3 JSON names, so a resolver reads and
 * writes proto3 JSON (the gateway's transcoder) without a rename table; the only shape that
 * differs from proto3 JSON is a map, which GraphQL sees as a list of `{key, value}` entries
 * (`mapEntries` below).
 *
 * Format 2 added `entities` (the Apollo Federation entities).
 */

/** The version of this format; the runtime refuses another one, asking to regenerate. */
export const GRAPHQL_MAP_FORMAT = 2;

/** The root types RPCs are placed under. */
export type GraphqlRoot = "Query" | "Mutation" | "Subscription";

/** One root field: the RPC it calls. */
export interface GraphqlOperation {
  readonly root: GraphqlRoot;
  /** The root field's name, e.g. `getUser`. */
  readonly field: string;
  /** gRPC path, e.g. `/demo.v1.UserService/GetUser`: the `rpcPath` of its rows in the route table (access rule, upstream). */
  readonly rpcPath: string;
  /** `unary` (Query, Mutation) or `server` (Subscription: one event per streamed message). */
  readonly kind: "unary" | "server";
  /** Full name of the request message; the field's arguments are its top-level fields, by JSON name. */
  readonly requestType: string;
  /** Full name of the response message (or of each streamed message). */
  readonly responseType: string;
  /** Oneof groups among the arguments: JSON names of which at most one may be given. */
  readonly oneofs: readonly GraphqlOneof[];
}

/** A proto oneof: at most one of `fields` (JSON names) may be set. */
export interface GraphqlOneof {
  /** The oneof's proto name, for error messages. */
  readonly name: string;
  readonly fields: readonly string[];
}

/** A GraphQL object or input type and the proto message it stands for. */
export interface GraphqlType {
  readonly kind: "object" | "input";
  /** Full proto name, e.g. `demo.v1.User`; a map entry type names the map's message and field (`demo.v1.User.labels`). */
  readonly protoType: string;
  /** Oneof groups among the type's fields (input types: at most one may be given). */
  readonly oneofs: readonly GraphqlOneof[];
  /** JSON names of the fields that are proto maps (a list of `{key, value}` here, an object in proto3 JSON). */
  readonly mapEntries: readonly string[];
}

/** A reference to another service's resource, resolved by an RPC call (the `protogate.v1.join` field option). */
export interface GraphqlJoin {
  /** The GraphQL object type that gets the field, e.g. `Order`. */
  readonly type: string;
  /** Its proto message, e.g. `demo.v1.Order`. */
  readonly protoType: string;
  /** The GraphQL field added, e.g. `user`. */
  readonly field: string;
  /** JSON name of the field holding the key (or keys), e.g. `userId`. */
  readonly keyField: string;
  /** Whether the key field is repeated (the added field is then a list, in key order). */
  readonly list: boolean;
  /** The RPC resolving one key, e.g. `/demo.v1.UserService/GetUser`. */
  readonly rpcPath: string;
  /** Its request's full name. */
  readonly requestType: string;
  /** JSON name of the request field set to the key, e.g. `userId`. */
  readonly requestField: string;
  /** One call for many keys, when declared. */
  readonly batch?: GraphqlJoinBatch;
  /** Where the join was declared: `demo/v1/order.proto:LINE`, or `gateway.yaml`. */
  readonly source: string;
}

/** A batch RPC resolving many keys of a join at once. */
export interface GraphqlJoinBatch {
  readonly rpcPath: string;
  readonly requestType: string;
  /** JSON name of the repeated request field taking the keys. */
  readonly requestField: string;
  /** JSON name of the repeated response field holding the results. */
  readonly responseField: string;
  /** JSON name of the field of each result holding its key. */
  readonly keyField: string;
}

/**
 * An Apollo Federation entity (the `entity` of the `protogate.v1.graphql` method option): an
 * object type with one key field, resolved from a reference by calling one unary RPC.
 */
export interface GraphqlEntity {
  /** The GraphQL object type, e.g. `User`. */
  readonly type: string;
  /** Its proto message, e.g. `demo.v1.User`. */
  readonly protoType: string;
  /** JSON (and GraphQL) name of the key field: the type's `@key(fields: "userId")`. */
  readonly keyField: string;
  /** The RPC resolving a reference, e.g. `/demo.v1.UserService/GetUser`. */
  readonly rpcPath: string;
  /** Its request's full name. */
  readonly requestType: string;
  /** JSON name of the request field set to the key, e.g. `userId`. */
  readonly requestField: string;
  /** Where the entity was declared: `demo/v1/user.proto:LINE`. */
  readonly source: string;
}

/** The whole of `graphql-map.js`. */
export interface GraphqlMap {
  readonly format: typeof GRAPHQL_MAP_FORMAT;
  /** Root fields, in schema order. */
  readonly operations: readonly GraphqlOperation[];
  /** Object and input types by GraphQL name (enums need no entry: their values are the proto names). */
  readonly types: Readonly<Record<string, GraphqlType>>;
  readonly joins: readonly GraphqlJoin[];
  /** Federation entities, by type name. */
  readonly entities: readonly GraphqlEntity[];
}

/**
 * The GraphQL benchmark's requests (bench/graphql.ts), each GraphQL query beside the REST calls it
 * stands for, asking for the same data.
 */
export type GraphqlBenchMode = "graphql-get" | "rest-get" | "graphql-join" | "rest-join";
export const GRAPHQL_BENCH_MODES: readonly GraphqlBenchMode[] = ["graphql-get", "rest-get", "graphql-join", "rest-join"];

export const GRAPHQL_BENCH_PATH = "/graphql";

/** Every field of demo.v1.User: what `GET /v1/users/{id}` writes in its JSON. */
const USER_FIELDS = "userId displayName email role createTime labels { key value } tags balanceCents profile nickname region";
/** Every field of demo.v1.Order (and its messages), as `GET /v1/users/{user}/orders` writes them. */
const ORDER_FIELDS = "name state items { sku quantity unitPrice { currencyCode units nanos } } total { currencyCode units nanos } createTime deliveryWindow shippingAddress pickupStore note discountRate userId";

export const GET_USER = "u-1";
/** The users whose orders the join query lists (u-1 has two orders, u-2 one). */
export const JOIN_USERS = ["u-1", "u-2"] as const;

/** (a) one user, as the REST route's JSON. */
export const GET_QUERY = `{ getUser(userId: "${GET_USER}") { ${USER_FIELDS} } }`;
export const GET_REST_PATH = `/v1/users/${GET_USER}`;

/** (b) the orders of each user, each with its joined user (the join's batch: one BatchGetUsers call). */
export const JOIN_QUERY = `{ ${JOIN_USERS.map((user, index) => `u${index}: listOrders(parent: "users/${user}") { orders { ${ORDER_FIELDS} user { ${USER_FIELDS} } } }`).join(" ")} }`;
/** What a REST client asks first (in parallel), then the users of the orders in one AIP-231 batch call. */
export const JOIN_REST_ORDERS_PATHS = JOIN_USERS.map((user) => `/v1/users/${user}/orders`);
export const joinRestUsersPath = (userIds: readonly string[]): string => `/v1/users:batchGet?${userIds.map((id) => `userIds=${encodeURIComponent(id)}`).join("&")}`;

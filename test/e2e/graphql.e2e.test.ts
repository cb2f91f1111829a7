import { status } from "@grpc/grpc-js";
import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { watchExchanges } from "./support/exchange-watch.js";
import { send, startTestGateway } from "./support/gateway-harness.js";

type Json = Record<string, unknown>;
interface GraphqlError {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; grpcCode?: number; details?: Json[] } & Json;
}
interface GraphqlAnswer {
  data?: Json | null;
  errors?: GraphqlError[];
}

const READER = "reader-key-0123456789";
const WRITER = "writer-key-0123456789";
const NOBODY = "nobody-key-0123456789";
/** Auth on: ListOrders needs orders:read here (the proto says any caller); CreateUser needs users:write (the proto). */
const AUTH = {
  mode: "on",
  apiKeys: {
    keys: [
      { sha256: hashApiKey(READER), consumer: "reader", scopes: ["orders:read"] },
      { sha256: hashApiKey(WRITER), consumer: "writer", scopes: ["orders:read", "users:write", "orders:write"] },
      { sha256: hashApiKey(NOBODY), consumer: "nobody", scopes: [] },
    ],
  },
  rules: [{ selector: "demo.v1.OrderService.ListOrders", scopes: ["orders:read"] }],
};

/** A join declared in gateway.yaml (demo.v1.Payment is "not ours"): each payment's order. */
const PAYMENT_ORDER = { field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder", requestField: "name" };

/** The demo backends counting the calls they get, by gRPC path. */
function countingBackends(): { start(): Promise<DemoBackends>; calls: Map<string, number>; callsOf(method: string): number } {
  const calls = new Map<string, number>();
  return {
    calls,
    start: () => startDemoBackends({ host: "127.0.0.1", port: 0, onCall: (path) => calls.set(path, (calls.get(path) ?? 0) + 1) }),
    callsOf: (method) => [...calls].filter(([path]) => path.endsWith(`/${method}`)).reduce((sum, [, n]) => sum + n, 0),
  };
}

async function post(base: string, query: string, key?: string, variables?: Json, accept = "application/graphql-response+json"): Promise<{ status: number; body: GraphqlAnswer; contentType: string | null }> {
  const response = await send(base, "POST", "/graphql", {
    headers: { "content-type": "application/json", accept, ...(key === undefined ? {} : { "x-api-key": key }) },
    body: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }) }),
  });
  return { status: response.status, body: JSON.parse(response.text) as GraphqlAnswer, contentType: response.headers.get("content-type") };
}

describe("GraphQL over the real server and the demo backends (auth on)", () => {
  const backend = countingBackends();
  let backends: DemoBackends;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backends = await backend.start();
    gateway = await startTestGateway(Object.fromEntries(backends.services.map((s) => [s, backends.address])), { auth: AUTH, graphql: { enabled: true, joins: [PAYMENT_ORDER] } });
  });
  afterAll(async () => {
    await gateway?.close();
    await backends?.close();
  });
  beforeEach(() => backend.calls.clear());

  it("resolves every user's orders with each order's joined user: ONE BatchGetUsers call for the users of all orders, no GetUser", async () => {
    // One list (AIP-159's users/-) holds every order: its user fields resolve in one pass, so one batch, whatever the timing.
    const { status: code, body } = await post(gateway.url, `{ listOrders(parent: "users/-") { orders { name state userId user { userId displayName balanceCents labels { key value } } } } }`, READER);
    expect(code).toBe(200);
    expect(body.errors).toBeUndefined();
    const orders = (body.data?.listOrders as { orders: Array<Json & { user: Json }> }).orders;
    expect(orders.map((o) => [o.name, o.user.displayName])).toEqual([
      ["users/u-1/orders/o-1", "Ada Lovelace"],
      ["users/u-1/orders/o-2", "Ada Lovelace"],
      ["users/u-2/orders/o-3", "Grace Hopper"],
    ]);
    expect(orders[0].state).toBe("ORDER_STATE_PENDING");
    expect(orders[0].user).toEqual({ userId: "u-1", displayName: "Ada Lovelace", balanceCents: "12500", labels: [{ key: "team", value: "engines" }, { key: "tier", value: "gold" }] });
    // Three orders of two users: the join declares BatchGetUsers as its batch, so one call for all.
    expect(backend.callsOf("ListOrders")).toBe(1);
    expect(backend.callsOf("BatchGetUsers")).toBe(1);
    expect(backend.callsOf("GetUser")).toBe(0);
  });

  it("two root fields' orders get the users each needs, each distinct user once (the batches follow the replies' timing)", async () => {
    const { status: code, body } = await post(
      gateway.url,
      `{
        ada: listOrders(parent: "users/u-1") { orders { name user { displayName } } }
        grace: listOrders(parent: "users/u-2") { orders { name user { userId displayName } } }
      }`,
      READER,
    );
    expect(code).toBe(200);
    expect(body.errors).toBeUndefined();
    expect((body.data?.ada as { orders: Json[] }).orders.map((o) => o.user)).toEqual([{ displayName: "Ada Lovelace" }, { displayName: "Ada Lovelace" }]);
    expect((body.data?.grace as { orders: Json[] }).orders).toEqual([{ name: "users/u-2/orders/o-3", user: { userId: "u-2", displayName: "Grace Hopper" } }]);
    expect(backend.callsOf("ListOrders")).toBe(2);
    // One batch if both lists answered in the same tick, else one per list: never more, never GetUser.
    expect(backend.callsOf("BatchGetUsers")).toBeGreaterThanOrEqual(1);
    expect(backend.callsOf("BatchGetUsers")).toBeLessThanOrEqual(2);
    expect(backend.callsOf("GetUser")).toBe(0);
  });

  it("writes proto3 defaults the reply leaves out (non-null fields), and 64-bit integers as strings", async () => {
    const { body } = await post(gateway.url, `{ getUser(userId: "u-3") { userId balanceCents labels { key } nickname profile role } }`, NOBODY);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ getUser: { userId: "u-3", balanceCents: "0", labels: [], nickname: null, profile: { city: "Manchester" }, role: "ROLE_MEMBER" } });
    const big = await post(gateway.url, `{ getUser(userId: "u-4") { balanceCents } }`, NOBODY);
    expect(big.body.data).toEqual({ getUser: { balanceCents: "9007199254740993" } });
  });

  it("runs a mutation, map entries in and out", async () => {
    const { body } = await post(
      gateway.url,
      `mutation Create($user: UserInput!) { createUser(user: $user) { userId displayName email labels { key value } balanceCents } }`,
      WRITER,
      { user: { displayName: "Barbara Liskov", email: "barbara@clu.example", labels: [{ key: "team", value: "clu" }], balanceCents: 42 } },
    );
    expect(body.errors).toBeUndefined();
    const created = body.data?.createUser as Json;
    expect(created).toMatchObject({ displayName: "Barbara Liskov", email: "barbara@clu.example", labels: [{ key: "team", value: "clu" }], balanceCents: "42" });
    expect(created.userId).toEqual(expect.any(String));
    expect(backend.callsOf("CreateUser")).toBe(1);
  });

  it("a field the caller may not read is an error on that field, with the status's code and details; the rest is answered", async () => {
    const { status: code, body } = await post(gateway.url, `{ getUser(userId: "u-1") { displayName } listOrders(parent: "users/u-1") { orders { name } } }`, NOBODY);
    expect(code).toBe(200);
    expect(body.data).toEqual({ getUser: { displayName: "Ada Lovelace" }, listOrders: null });
    expect(body.errors).toHaveLength(1);
    const [error] = body.errors!;
    expect(error.path).toEqual(["listOrders"]);
    expect(error.message).toMatch(/orders:read/);
    expect(error.extensions).toMatchObject({ code: "PERMISSION_DENIED", grpcCode: status.PERMISSION_DENIED });
    expect(error.extensions?.details).toEqual(expect.arrayContaining([expect.objectContaining({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "PG_ERR_PERMISSION_DENIED" })]));
    // Refused at the gateway: the backend never saw it.
    expect(backend.callsOf("ListOrders")).toBe(0);
  });

  it("a mutation the caller's scopes do not allow fails on its field", async () => {
    const { body } = await post(gateway.url, `mutation { deleteUser(userId: "u-2") }`, READER);
    expect(body.data).toEqual({ deleteUser: null });
    expect(body.errors?.[0].extensions).toMatchObject({ code: "PERMISSION_DENIED", grpcCode: 7 });
  });

  it("an error from a backend is an error on its field with extensions; the other fields are answered", async () => {
    const { body } = await post(gateway.url, `{ missing: getUser(userId: "nobody") { userId } ada: getUser(userId: "u-1") { userId } }`, NOBODY);
    expect(body.data).toEqual({ missing: null, ada: { userId: "u-1" } });
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]).toMatchObject({ path: ["missing"], extensions: { code: "NOT_FOUND", grpcCode: status.NOT_FOUND } });
    expect(Array.isArray(body.errors![0].extensions?.details)).toBe(true);
  });

  it("refuses two members of a oneof, naming it, before any call", async () => {
    const { body } = await post(
      gateway.url,
      `mutation { createOrder(parent: "users/u-1", order: {items: [{sku: "sku-ink", quantity: 1, unitPrice: {currencyCode: "EUR", units: 3}}], shippingAddress: "1 Main St", pickupStore: "store-9"}) { name } }`,
      WRITER,
    );
    expect(body.data).toEqual({ createOrder: null });
    expect(body.errors?.[0].message).toMatch(/oneof delivery/);
    expect(body.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", oneof: "delivery" });
    expect(backend.callsOf("CreateOrder")).toBe(0);
  });

  it("checks REQUIRED fields at the edge as over REST: INVALID_ARGUMENT with a BadRequest naming them, before any call", async () => {
    const { body } = await post(gateway.url, `mutation { createOrder(parent: "users/u-1", order: {items: [{quantity: 1}]}) { name } }`, WRITER);
    expect(body.data).toEqual({ createOrder: null });
    const error = body.errors![0];
    expect(error.extensions).toMatchObject({ code: "INVALID_ARGUMENT", grpcCode: status.INVALID_ARGUMENT });
    const badRequest = error.extensions?.details?.find((detail) => detail["@type"] === "type.googleapis.com/google.rpc.BadRequest") as { fieldViolations: Array<{ field: string }> } | undefined;
    expect(badRequest?.fieldViolations.map((v) => v.field)).toEqual(["order.items[0].sku", "order.items[0].unitPrice"]);
    expect(backend.callsOf("CreateOrder")).toBe(0);
  });

  it("answers GET with a query; a mutation over GET is 405", async () => {
    const query = encodeURIComponent(`{ getUser(userId: "u-2") { displayName } }`);
    const response = await send(gateway.url, "GET", `/graphql?query=${query}`, { headers: { "x-api-key": NOBODY, accept: "application/graphql-response+json" } });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ data: { getUser: { displayName: "Grace Hopper" } } });
    const mutation = encodeURIComponent(`mutation { deleteUser(userId: "u-2") }`);
    const refused = await send(gateway.url, "GET", `/graphql?query=${mutation}`, { headers: { "x-api-key": WRITER, accept: "application/graphql-response+json" } });
    expect(refused.status).toBe(405);
    expect(backend.callsOf("DeleteUser")).toBe(0);
  });

  it("resolves a join declared in gateway.yaml, and a generated join inside it", async () => {
    const { body } = await post(gateway.url, `{ getPayment(paymentId: "p-1") { paymentId amountMinor fingerprint order { name total { units } user { displayName } } } }`, READER);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      getPayment: { paymentId: "p-1", amountMinor: "4999", fingerprint: Buffer.from("9f86d081884c7d659a2feaa0c55ad015", "hex").toString("base64"), order: { name: "users/u-1/orders/o-2", total: expect.any(Object), user: { displayName: "Ada Lovelace" } } },
    });
    expect(backend.callsOf("GetOrder")).toBe(1);
  });

  it("the endpoint's own rule: no credentials is a 401 google.rpc.Status before anything runs", async () => {
    const response = await send(gateway.url, "POST", "/graphql", { headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(response.status).toBe(401);
    expect(response.json).toMatchObject({ code: status.UNAUTHENTICATED });
  });
});

describe("GraphQL configuration that cannot be served", () => {
  it.each([
    { name: "a configured join named like a field of its type", join: { ...PAYMENT_ORDER, name: "orderName" }, message: /join name "orderName" is already a field of GraphQL type Payment/ },
    { name: "a configured join whose request field has another type", join: { ...PAYMENT_ORDER, rpc: "demo.v1.UserService.ListUsers", requestField: "page_size" }, message: /request field demo\.v1\.ListUsersRequest\.page_size must be a singular string field/ },
  ])("refuses to start with $name, saying why", async ({ join, message }) => {
    await expect(startTestGateway({}, { graphql: { enabled: true, joins: [join] } })).rejects.toThrow(message);
  });

  it("refuses to start when graphql.path is a generated route's path, naming both", async () => {
    await expect(startTestGateway({}, { graphql: { enabled: true, path: "/v1/users" } })).rejects.toThrow(
      /graphql: path \/v1\/users clashes with the route of demo\.v1\.UserService\.(ListUsers|CreateUser) \(demo\/v1\/user\.proto[^)]*\): (GET|POST) \/v1\/users; set graphql\.path to another path/,
    );
  });
});

describe("GraphQL limits (auth off)", () => {
  const backend = countingBackends();
  const watch = watchExchanges();
  let backends: DemoBackends;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backends = await backend.start();
    gateway = await startTestGateway(
      Object.fromEntries(backends.services.map((s) => [s, backends.address])),
      { graphql: { enabled: true, introspection: false, maxDepth: 4, maxComplexity: 60, maxRpcCalls: 3 } },
      { observe: { observers: [watch.observer] } },
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await backends?.close();
  });
  beforeEach(() => backend.calls.clear());

  it("refuses a query deeper than maxDepth, before any call", async () => {
    const { status: code, body } = await post(gateway.url, `{ listOrders(parent: "users/u-1") { orders { user { labels { key } } } } }`);
    expect(code).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0].extensions).toMatchObject({ code: "DEPTH_LIMIT_EXCEEDED", depth: 5, maxDepth: 4 });
    expect(backend.calls.size).toBe(0);
    const within = await post(gateway.url, `{ listOrders(parent: "users/u-1") { orders { user { userId } } } }`);
    expect(within.body.errors).toBeUndefined();
  });

  it("refuses a query more complex than maxComplexity: a list counts its page size", async () => {
    const { body } = await post(gateway.url, `query Users($n: Int) { listUsers(pageSize: $n) { users { userId } } }`, undefined, { n: 100 });
    expect(body.errors?.[0].extensions).toMatchObject({ code: "COMPLEXITY_LIMIT_EXCEEDED", complexity: 102, maxComplexity: 60 });
    expect(backend.calls.size).toBe(0);
    const small = await post(gateway.url, `query Users($n: Int) { listUsers(pageSize: $n) { users { userId } } }`, undefined, { n: 2 });
    expect(small.body.errors).toBeUndefined();
    expect((small.body.data?.listUsers as { users: unknown[] }).users).toHaveLength(2);
  });

  it("makes at most maxRpcCalls RPCs per request: the fields past it fail, the others are answered", async () => {
    const { body } = await post(gateway.url, `{ a: getUser(userId: "u-1") { userId } b: getUser(userId: "u-2") { userId } c: getUser(userId: "u-3") { userId } d: getUser(userId: "u-4") { userId } }`);
    expect(body.data).toEqual({ a: { userId: "u-1" }, b: { userId: "u-2" }, c: { userId: "u-3" }, d: null });
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]).toMatchObject({ path: ["d"], extensions: { code: "RPC_LIMIT_EXCEEDED", maxRpcCalls: 3 } });
    expect(backend.callsOf("GetUser")).toBe(3);
  });

  it("is observed like any route: rpc /graphql, its status, an upstream span for its RPCs", async () => {
    const before = watch.ended.length;
    await post(gateway.url, `{ getUser(userId: "u-1") { userId } }`);
    await watch.reached(before + 1);
    const exchange = watch.ended[before];
    expect(exchange.binding).toMatchObject({ service: "graphql", rpcPath: "/graphql", httpMethod: "POST", pattern: "/graphql" });
    expect(exchange.status).toBe(200);
    expect(exchange.grpcCode).toBe(0);
    expect(exchange.upstreamMs).toEqual(expect.any(Number));
  });

  it("introspection off: __schema and __type are refused, __typename is not", async () => {
    const { status: code, body } = await post(gateway.url, `{ __schema { queryType { name } } }`);
    expect(code).toBe(400);
    expect(body.errors?.[0].extensions).toMatchObject({ code: "INTROSPECTION_DISABLED" });
    const typename = await post(gateway.url, `{ __typename }`);
    expect(typename.body).toEqual({ data: { __typename: "Query" } });
  });
});

describe("GraphQL over HTTP: graphql-http's server audits against the real endpoint (defaults, auth off)", () => {
  let gateway: RunningGateway;
  // The audits query __typename and __type only: no backend is needed.
  beforeAll(async () => {
    gateway = await startTestGateway({}, { graphql: { enabled: true } });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it("passes every MUST audit of graphql-http's GraphQL-over-HTTP server audits", async () => {
    const audits = serverAudits({ url: `${gateway.url}/graphql` });
    const must = audits.filter((audit) => audit.name.startsWith("MUST"));
    // graphql-http 1.23.1 has 13 MUST audits (and SHOULD and MAY ones beside them).
    expect(must.length).toBeGreaterThanOrEqual(13);
    const failed: string[] = [];
    for (const audit of must) {
      const result = await audit.fn();
      if (result.status !== "ok") failed.push(`${result.name}: ${result.reason}`);
    }
    expect(failed).toEqual([]);
  });

  it("passes the SHOULD and MAY audits too", async () => {
    const failed: string[] = [];
    for (const audit of serverAudits({ url: `${gateway.url}/graphql` }).filter((a) => !a.name.startsWith("MUST"))) {
      const result = await audit.fn();
      if (result.status !== "ok") failed.push(`${result.name}: ${result.reason}`);
    }
    expect(failed).toEqual([]);
  });
});

describe("GraphQL as an Apollo Federation 2 subgraph (graphql.federation, auth on)", () => {
  const backend = countingBackends();
  let backends: DemoBackends;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backends = await backend.start();
    gateway = await startTestGateway(Object.fromEntries(backends.services.map((s) => [s, backends.address])), { auth: AUTH, graphql: { enabled: true, introspection: false, federation: true } });
  });
  afterAll(async () => {
    await gateway?.close();
    await backends?.close();
  });
  beforeEach(() => backend.calls.clear());

  it("answers _service { sdl } with the federation link and the entities' keys, even with introspection off", async () => {
    const { status: code, body } = await post(gateway.url, "{ _service { sdl } }", READER);
    expect(code).toBe(200);
    const sdl = (body.data?._service as { sdl: string }).sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3"');
    expect(sdl).toMatch(/type User\s+@key\(fields: "userId"\)/);
    expect(sdl).toMatch(/type Order\s+@key\(fields: "name"\)/);
  });

  it("resolves _entities through each entity's RPC on the caller's behalf: one call per distinct key, per-item errors", async () => {
    const representations = [
      { __typename: "User", userId: "u-1" },
      { __typename: "User", userId: "u-2" },
      { __typename: "User", userId: "u-1" },
      { __typename: "User", userId: "u-404" },
    ];
    const { status: code, body } = await post(gateway.url, "query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { userId displayName } } }", READER, { r: representations });
    expect(code).toBe(200);
    const entities = body.data?._entities as Array<{ userId: string; displayName: string } | null>;
    expect(entities.slice(0, 3).map((user) => user?.displayName)).toEqual(["Ada Lovelace", "Grace Hopper", "Ada Lovelace"]);
    expect(entities[3]).toBeNull();
    expect(body.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([[["_entities", 3], "NOT_FOUND"]]);
    expect(backend.callsOf("GetUser")).toBe(3);
  });

  it("still applies the method's own rule to an entity's RPC: a caller without credentials is refused at the endpoint", async () => {
    const response = await send(gateway.url, "POST", "/graphql", { headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ _service { sdl } }" }) });
    expect(response.status).toBe(401);
    expect(backend.calls.size).toBe(0);
  });
});

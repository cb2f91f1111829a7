import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Order } from "../../generated/demo/v1/order.js";
import { Recommendation } from "../../generated/demo/v1/recommendation.js";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { DASHBOARD_AGGREGATE } from "../../src/demo/dashboard-aggregate.js";
import { startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { createFakeClock } from "../support/fake-clock.js";
import { watchExchanges, type ExchangeWatch } from "./support/exchange-watch.js";
import { send, startTestGateway } from "./support/gateway-harness.js";
import { startHeldBackend, type HeldBackend } from "./support/held-backend.js";

const READER = "reader-key-0123456789";
const NO_ORDERS = "no-orders-key-0123456789";
/** Auth on: the reader may read orders, the other caller may not (ListOrders needs orders:read here). */
const AUTH = {
  mode: "on",
  apiKeys: {
    keys: [
      { sha256: hashApiKey(READER), consumer: "reader", scopes: ["orders:read"] },
      { sha256: hashApiKey(NO_ORDERS), consumer: "visitor", scopes: [] },
    ],
  },
  rules: [{ selector: "demo.v1.OrderService.ListOrders", scopes: ["orders:read"] }],
};
const as = (key: string) => ({ headers: { "x-api-key": key } });

type Json = Record<string, unknown>;

describe("the dashboard aggregate through the real server and the demo backends", () => {
  let backends: DemoBackends;
  let gateway: RunningGateway;
  let watch: ExchangeWatch;
  const accessLines: Json[] = [];

  beforeAll(async () => {
    backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
    watch = watchExchanges();
    gateway = await startTestGateway(
      Object.fromEntries(backends.services.map((s) => [s, backends.address])),
      { auth: AUTH, aggregates: [DASHBOARD_AGGREGATE], accessLog: { mode: "all" } },
      { observe: { observers: [watch.observer] }, accessLog: { stream: { write: (line: string) => accessLines.push(JSON.parse(line) as Json) } } },
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await backends?.close();
  });

  it("answers the selected fields of all three calls under their keys, renamed", async () => {
    const response = await send(gateway.url, "GET", "/api/mobile/dashboard/u-1", as(READER));
    expect(response.status).toBe(200);
    const body = response.json as Json;
    expect(Object.keys(body)).toEqual(["user", "orders", "recommendations"]);
    expect(body.user).toEqual({ userId: "u-1", name: "Ada Lovelace", region: "eu-west" });
    const orders = (body.orders as { orders: Json[] }).orders;
    expect(orders.length).toBeGreaterThan(0);
    for (const order of orders) {
      expect(String(order.name)).toMatch(/^users\/u-1\/orders\//);
      expect(Object.keys(order).every((key) => ["name", "state", "total", "createTime"].includes(key))).toBe(true);
    }
    // The user's region chose the recommendations (eu-west products first), each {id, title}.
    const recommendations = (body.recommendations as { recommendations: Json[] }).recommendations;
    expect(recommendations.map((r) => r.id)).toEqual(["sku-ink", "sku-tea", "sku-slide"]);
    expect(Object.keys(recommendations[0])).toEqual(["id", "title"]);
  });

  it("a caller without orders:read gets the orders call's failure policy (partial: its 403 under errors), never the orders", async () => {
    const response = await send(gateway.url, "GET", "/api/mobile/dashboard/u-1", as(NO_ORDERS));
    expect(response.status).toBe(200);
    const body = response.json as Json;
    expect(body.orders).toBeUndefined();
    expect(body.user).toMatchObject({ userId: "u-1" });
    const error = (body.errors as Record<string, { code: number; message: string }>).orders;
    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect(error.message).toMatch(/orders:read/);
  });

  it("the aggregate's own rule: no credentials is a 401 before any call", async () => {
    const response = await send(gateway.url, "GET", "/api/mobile/dashboard/u-1");
    expect(response.status).toBe(401);
  });

  it("a call failing under fail answers the whole request with its status (an unknown user: 404)", async () => {
    const response = await send(gateway.url, "GET", "/api/mobile/dashboard/nobody", as(READER));
    expect(response.status).toBe(404);
    expect((response.json as { message: string }).message).toMatch(/nobody/);
  });

  it("the access log and metrics see it as one route: its path template and rpc /aggregate/NAME", async () => {
    const before = watch.ended.length;
    await send(gateway.url, "GET", "/api/mobile/dashboard/u-2", as(READER));
    await watch.reached(before + 1);
    const exchange = watch.ended[before];
    expect(exchange.binding).toMatchObject({ service: "aggregate", method: "mobileDashboard", rpcPath: "/aggregate/mobileDashboard", pattern: "/api/mobile/dashboard/{userId}" });
    expect(exchange.status).toBe(200);
    expect(exchange.grpcCode).toBe(0);
    expect(exchange.upstreamCode).toBe(0);
    const metrics = await fetch(`${gateway.adminUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/route="\/api\/mobile\/dashboard\/\{userId\}"/);
    expect(metrics).toMatch(/service="aggregate",rpc="mobileDashboard"/);
    const line = accessLines.find((candidate) => candidate.requestId === exchange.requestId);
    expect(line).toMatchObject({ method: "GET", route: "/api/mobile/dashboard/{userId}", rpc: "/aggregate/mobileDashboard", path: "/api/mobile/dashboard/u-2", status: 200, grpcCode: 0, consumer: "reader" });
  });
});

/** Aggregates over a backend whose calls the test answers: order, parallelism, deadlines, failures. */
describe("aggregate calls: order, parallelism, failure policies, deadlines, metadata", () => {
  let backend: HeldBackend;
  let gateway: RunningGateway;
  const clock = createFakeClock();
  const user = (policy: unknown, extra: Json = {}) => ({
    rpc: "demo.v1.UserService.GetUser",
    request: { user_id: { path: "userId" } },
    select: ["userId", "region"],
    onError: policy,
    ...extra,
  });
  const orders = (policy: unknown, extra: Json = {}) => ({
    rpc: "demo.v1.OrderService.ListOrders",
    request: { parent: { cel: "'users/' + path.userId" }, page_size: { const: 5 } },
    select: ["orders.name"],
    onError: policy,
    ...extra,
  });
  const aggregates = [
    {
      name: "dashboard",
      path: "/api/dashboard/{userId}",
      calls: {
        user: user("fail"),
        orders: orders("partial"),
        recommendations: {
          rpc: "demo.v1.RecommendationService.ListRecommendations",
          request: { user_id: { claim: "sub" }, region: { from: "user.region" }, page_size: { query: "limit" } },
        },
      },
    },
    {
      name: "chain",
      path: "/api/chain/{userId}",
      calls: {
        user: user("partial"),
        recommendations: { rpc: "demo.v1.RecommendationService.ListRecommendations", request: { user_id: { path: "userId" }, region: { cel: "user.region" } }, onError: "partial" },
      },
    },
    {
      name: "failing",
      path: "/api/failing/{userId}",
      deadlineMs: 100_000,
      calls: { user: user("fail", { deadlineMs: 100_000 }), orders: orders("fail", { deadlineMs: 30_000 }) },
    },
    // Only the orders call's deadline (30 s) falls within the 30 s the tests move the clock by.
    { name: "partial", path: "/api/partial/{userId}", deadlineMs: 100_000, calls: { user: user("fail", { deadlineMs: 100_000 }), orders: orders("partial", { deadlineMs: 30_000 }) } },
    {
      name: "defaulted",
      path: "/api/defaulted/{userId}",
      deadlineMs: 100_000,
      calls: { user: user("fail", { deadlineMs: 100_000 }), orders: orders({ default: { orders: [{ name: "none" }] } }, { deadlineMs: 30_000 }) },
    },
  ];

  beforeAll(async () => {
    backend = await startHeldBackend();
    gateway = await startTestGateway(Object.fromEntries(backend.services.map((s) => [s, backend.address])), { auth: AUTH, aggregates }, { aggregateTimers: clock });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it("independent calls run in parallel (both held at once: latency is the slowest, not the sum); a dependent call waits for its input", async () => {
    backend.log.length = 0;
    const response = send(gateway.url, "GET", "/api/dashboard/u-7?limit=2", as(READER));
    // GetUser and ListOrders are both in flight before either is answered.
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    expect(listOrders.request).toMatchObject({ parent: "users/u-7", pageSize: 5 });
    listOrders.reply({ orders: [{ ...Order.decode(new Uint8Array(0)), name: "users/u-7/orders/o-9" }] });
    getUser.reply({ userId: "u-7", region: "eu-north", displayName: "not selected" });
    const recommend = await backend.arrival("ListRecommendations");
    // The dependent call arrived only after its input was answered, with the value read from it.
    expect(backend.log.indexOf("> ListRecommendations")).toBeGreaterThan(backend.log.indexOf("< GetUser"));
    expect(recommend.request).toMatchObject({ userId: "reader", region: "eu-north", pageSize: 2 });
    recommend.reply({ recommendations: [{ ...Recommendation.decode(new Uint8Array(0)), productId: "p", title: "t", score: 0.5 }], region: "eu-north" });
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.json).toEqual({
      user: { userId: "u-7", region: "eu-north" },
      orders: { orders: [{ name: "users/u-7/orders/o-9" }] },
      recommendations: { recommendations: [{ productId: "p", title: "t", score: 0.5 }], region: "eu-north" },
    });
  });

  it("every call carries the trusted identity and the request ID, as a REST call would; client-sent identity is dropped", async () => {
    const response = send(gateway.url, "GET", "/api/dashboard/u-8", { headers: { "x-api-key": READER, "x-request-id": "agg-req-1", "grpc-metadata-x-user-id": "forged" } });
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    getUser.reply({ userId: "u-8" });
    listOrders.reply({});
    const recommend = await backend.arrival("ListRecommendations");
    recommend.reply({});
    expect((await response).status).toBe(200);
    for (const call of [getUser, listOrders, recommend]) {
      expect(call.metadata.get("x-request-id")).toEqual(["agg-req-1"]);
      expect(call.metadata.get("x-user-id")).toEqual(["reader"]);
      expect(call.metadata.get("x-auth-scopes")).toEqual(["orders:read"]);
    }
  });

  it("fail: the whole response takes the failing call's status, and the other call is cancelled", async () => {
    const response = send(gateway.url, "GET", "/api/failing/u-1", as(READER));
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    listOrders.fail(status.UNAVAILABLE, "orders are down");
    const answered = await response;
    expect(answered.status).toBe(503);
    expect((answered.json as { message: string }).message).toBe("orders are down");
    await getUser.cancelled;
  });

  it("fail: a call slow past its deadline answers the whole request 504 DEADLINE_EXCEEDED", async () => {
    const response = send(gateway.url, "GET", "/api/failing/u-1", as(READER));
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    clock.advance(30_000);
    const answered = await response;
    expect(answered.status).toBe(504);
    expect(answered.json).toMatchObject({ code: status.DEADLINE_EXCEEDED, message: expect.stringMatching(/call "orders" .* did not answer within 30000 ms/) });
    await Promise.all([getUser.cancelled, listOrders.cancelled]);
  });

  it("default: a failing call's default stands in for it", async () => {
    const response = send(gateway.url, "GET", "/api/defaulted/u-1", as(READER));
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    listOrders.fail(status.INTERNAL, "boom");
    getUser.reply({ userId: "u-1" });
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.json).toEqual({ user: { userId: "u-1" }, orders: { orders: [{ name: "none" }] } });
  });

  it("partial: HTTP 200, the failed call's google.rpc.Status under errors", async () => {
    const response = send(gateway.url, "GET", "/api/partial/u-1", as(READER));
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    listOrders.fail(status.NOT_FOUND, "no orders here");
    getUser.reply({ userId: "u-1" });
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.json).toMatchObject({ user: { userId: "u-1" }, errors: { orders: { code: status.NOT_FOUND, message: "no orders here" } } });
    expect((answered.json as Json).orders).toBeUndefined();
  });

  it("partial: a call slow past its own deadline is DEADLINE_EXCEEDED under errors (the gateway's clock, not real time)", async () => {
    const response = send(gateway.url, "GET", "/api/partial/u-1", as(READER));
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    getUser.reply({ userId: "u-1" });
    clock.advance(30_000);
    const answered = await response;
    expect(answered.status).toBe(200);
    const error = ((answered.json as Json).errors as Record<string, { code: number; message: string }>).orders;
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    expect(error.message).toMatch(/call "orders" \(demo\.v1\.OrderService\/ListOrders\) did not answer within 30000 ms/);
    listOrders.reply({});
  });

  it("default: the configured value stands in for the failed call (through its selection)", async () => {
    const response = send(gateway.url, "GET", "/api/defaulted/u-1", as(READER));
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    getUser.reply({ userId: "u-1" });
    clock.advance(30_000);
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.json).toEqual({ user: { userId: "u-1" }, orders: { orders: [{ name: "none" }] } });
    listOrders.reply({});
  });

  it("a caller lacking the scope never reaches the method's backend", async () => {
    const before = backend.calls.filter((call) => call.rpc === "ListOrders").length;
    const response = send(gateway.url, "GET", "/api/partial/u-1", as(NO_ORDERS));
    (await backend.arrival("GetUser")).reply({ userId: "u-1" });
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(((answered.json as Json).errors as Record<string, { code: number }>).orders.code).toBe(status.PERMISSION_DENIED);
    expect(backend.calls.filter((call) => call.rpc === "ListOrders").length).toBe(before);
  });

  it("partial all along: a call whose input failed does not run, and says why under errors", async () => {
    const response = send(gateway.url, "GET", "/api/chain/u-1", as(READER));
    (await backend.arrival("GetUser")).fail(status.NOT_FOUND, "no such user");
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.json).toMatchObject({
      errors: {
        user: { code: status.NOT_FOUND, message: "no such user" },
        recommendations: { code: status.FAILED_PRECONDITION, message: 'call "recommendations" did not run: it reads "user", which failed' },
      },
    });
  });

  it("a dependent call whose input failed does not run", async () => {
    const recommendCalls = () => backend.calls.filter((call) => call.rpc === "ListRecommendations").length;
    const before = recommendCalls();
    const response = send(gateway.url, "GET", "/api/dashboard/u-1", as(READER));
    const [getUser, listOrders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    listOrders.reply({});
    getUser.fail(status.NOT_FOUND, "no such user");
    const answered = await response;
    // user is `fail`: the whole answer is its 404, and the recommendations, which read it, never ran.
    expect(answered.status).toBe(404);
    expect(recommendCalls()).toBe(before);
  });
});

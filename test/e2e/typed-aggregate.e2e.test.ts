import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { Order, OrderState } from "../../generated/demo/v1/order.js";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { AggregateConfigError } from "../../src/aggregate/compile-aggregate.js";
import { ConfigError } from "../../src/config/load-config.js";
import { startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { send, startTestGateway } from "./support/gateway-harness.js";
import { startHeldBackend, type HeldBackend } from "./support/held-backend.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "typed-aggregate");
const TYPED_DASHBOARD = join(import.meta.dirname, "..", "..", "src", "demo", "typed-dashboard.ts");
const READER = "reader-key-0123456789";
const NO_ORDERS = "no-orders-key-0123456789";
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
const typedDashboard = { name: "typedDashboard", path: "/api/typed/dashboard/{userId}", module: TYPED_DASHBOARD, deadlineMs: 2000 };

type Json = Record<string, unknown>;

describe("a typed aggregate (module: defineAggregate) through the real server and the demo backends", () => {
  let backends: DemoBackends;
  let gateway: RunningGateway;
  beforeAll(async () => {
    backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
    gateway = await startTestGateway(Object.fromEntries(backends.services.map((s) => [s, backends.address])), {
      auth: AUTH,
      docs: { enabled: true },
      aggregates: [typedDashboard, { name: "echoUser", path: "/api/echo", auth: { public: true }, module: join(FIXTURES, "echo-user.mjs") }, { name: "unrouted", path: "/api/unrouted", module: join(FIXTURES, "unrouted.mjs") }, { name: "throws", path: "/api/throws", module: join(FIXTURES, "throws.mjs") }],
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await backends?.close();
  });

  it("answers what its code builds from typed responses (the orders as proto3 JSON through ctx.json)", async () => {
    const response = await send(gateway.url, "GET", "/api/typed/dashboard/u-1", as(READER));
    expect(response.status).toBe(200);
    const body = response.json as { user: Json; pendingOrders: number; orders: { orders: Json[] }; recommendations?: Json[] };
    expect(body.user).toEqual({ userId: "u-1", name: "Ada Lovelace", region: "eu-west" });
    const states = body.orders.orders.map((order) => order.state);
    expect(states.every((state) => typeof state === "string" && String(state).startsWith("ORDER_STATE_"))).toBe(true);
    expect(body.pendingOrders).toBe(states.filter((state) => state === "ORDER_STATE_PENDING").length);
    if (body.pendingOrders > 0) expect(body.recommendations?.map((r) => r.id)).toEqual(["sku-ink", "sku-tea", "sku-slide"]);
    else expect(body.recommendations).toBeUndefined();
    expect(body.pendingOrders).toBeGreaterThan(0);
  });

  it("each call goes through its method's rule: without orders:read, the partial call's 403 is under errors.orders", async () => {
    const response = await send(gateway.url, "GET", "/api/typed/dashboard/u-1", as(NO_ORDERS));
    expect(response.status).toBe(200);
    const body = response.json as { user: Json; orders?: unknown; errors: Record<string, { code: number; message: string }> };
    expect(body.orders).toBeUndefined();
    expect(body.errors.orders.code).toBe(7);
    expect(body.errors.orders.message).toMatch(/orders:read/);
  });

  it("a call failing under fail answers the request with its status; the aggregate's own rule applies first", async () => {
    expect((await send(gateway.url, "GET", "/api/typed/dashboard/nobody", as(READER))).status).toBe(404);
    expect((await send(gateway.url, "GET", "/api/typed/dashboard/u-1")).status).toBe(401);
  });

  it("a plain .mjs module loads; ctx.query and ctx.claims are the request's", async () => {
    const response = await send(gateway.url, "GET", "/api/echo?id=u-2", as(READER));
    expect(response.status).toBe(200);
    const body = response.json as { user: Json; subject: string };
    expect(body.user).toMatchObject({ userId: "u-2" });
    expect(body.subject).toBe("reader");
  });

  it.each([
    ["/api/unrouted", /PG_ERR_AGGREGATE_MODULE|not a unary method/],
    ["/api/throws", /"message":"internal error"/],
  ])("a module bug (%s) is a 500 that never shows the module's own error text", async (path, message) => {
    const response = await send(gateway.url, "GET", path, as(READER));
    expect(response.status).toBe(500);
    const status = response.json as { message: string };
    expect(status.message).not.toMatch(/secret detail/);
    expect(JSON.stringify(response.json)).toMatch(message);
  });

  it("the served OpenAPI document has the typed aggregate (an object answer, errors)", async () => {
    const document = (await send(gateway.url, "GET", "/openapi.json")).json as { paths: Record<string, { get?: { operationId: string; parameters: Json[]; responses: Record<string, Json> } }> };
    const operation = document.paths["/api/typed/dashboard/{userId}"]?.get;
    expect(operation?.operationId).toBe("Aggregate_typedDashboard");
    expect(operation?.parameters).toEqual([{ name: "userId", in: "path", required: true, schema: { type: "string" } }]);
  });
});

describe("typed aggregates: failure policies over a backend the test answers", () => {
  let backend: HeldBackend;
  let gateway: RunningGateway;
  beforeAll(async () => {
    backend = await startHeldBackend();
    gateway = await startTestGateway(Object.fromEntries(backend.services.map((s) => [s, backend.address])), { auth: { mode: "off" }, aggregates: [typedDashboard] });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it("default: a failed call resolves the default (its fields left out take their defaults); partial: the status under its key", async () => {
    const pending = send(gateway.url, "GET", "/api/typed/dashboard/u-1");
    const [user, orders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    expect(orders.request).toMatchObject({ parent: "users/u-1", pageSize: 5, newestFirst: true });
    user.reply({ userId: "u-1", displayName: "Ada", region: "eu-west" });
    orders.reply({ orders: [{ ...Order.decode(new Uint8Array()), name: "users/u-1/orders/o-1", state: OrderState.ORDER_STATE_PENDING }] });
    const recommend = await backend.arrival("ListRecommendations");
    expect(recommend.request).toMatchObject({ userId: "u-1", region: "eu-west", pageSize: 3 });
    recommend.fail(14, "recommendations down");
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ user: { name: "Ada" }, pendingOrders: 1, recommendations: [] });
    expect((response.json as Json).errors).toBeUndefined();
  });

  it("a failing fail call cancels the calls still running", async () => {
    const pending = send(gateway.url, "GET", "/api/typed/dashboard/u-1");
    const [user, orders] = await Promise.all([backend.arrival("GetUser"), backend.arrival("ListOrders")]);
    user.fail(5, "no such user");
    await orders.cancelled;
    expect((await pending).status).toBe(404);
  });
});

describe("typed aggregate config errors at start", () => {
  const user = { user: { rpc: "demo.v1.UserService.GetUser", request: { user_id: { const: "u-1" } } } };
  it.each<[string, Json, RegExp]>([
    ["a missing module", { module: join(FIXTURES, "nope.mjs") }, /aggregate "t": module .*nope\.mjs: no such file/],
    ["a module that does not load", { module: join(FIXTURES, "broken.mjs") }, /aggregate "t": module .*broken\.mjs: does not load/],
    ["a default export that is not defineAggregate", { module: join(FIXTURES, "not-defined.mjs") }, /aggregate "t": module .*not-defined\.mjs: its default export is not defineAggregate/],
  ])("%s", async (_name, aggregate, message) => {
    const started = startTestGateway({}, { aggregates: [{ name: "t", path: "/api/t", ...aggregate }] });
    await expect(started).rejects.toBeInstanceOf(AggregateConfigError);
    await expect(started).rejects.toThrow(message);
  });

  it.each<[string, Json, RegExp]>([
    ["both calls and a module", { calls: user, module: join(FIXTURES, "echo-user.mjs") }, /either calls or a module/],
    ["neither", {}, /either calls or a module/],
    ["a module that is no script", { module: "./dashboard.json" }, /expected a module file/],
  ])("%s", async (_name, aggregate, message) => {
    const started = startTestGateway({}, { aggregates: [{ name: "t", path: "/api/t", ...aggregate }] });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(message);
  });
});

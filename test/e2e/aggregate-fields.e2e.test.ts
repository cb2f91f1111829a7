import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { DASHBOARD_AGGREGATE } from "../../src/demo/dashboard-aggregate.js";
import { demoGatewayForSuite, send, startTestGateway } from "./support/gateway-harness.js";
import { startHeldBackend, type HeldBackend } from "./support/held-backend.js";

type Json = Record<string, unknown>;
const DASHBOARD = "/api/mobile/dashboard/u-1";

/** `?fields=` on an aggregate route: paths over the answer's keys, through the real server and the demo backends. */
describe("partial answers of an aggregate: ?fields=", () => {
  /** Reserved name: an aggregate whose call reads a query parameter called `fields` keeps it for the call. */
  const readsFields = { name: "byQuery", path: "/api/by-query", calls: { user: { rpc: "demo.v1.UserService.GetUser", request: { user_id: { query: "fields" } }, select: ["userId"] } } };
  const gateway = demoGatewayForSuite({ auth: { mode: "off" }, aggregates: [DASHBOARD_AGGREGATE, readsFields] });

  it("a call reading a query parameter named fields keeps it: no pruning on that aggregate", async () => {
    const response = await send(gateway.url, "GET", "/api/by-query?fields=u-2");
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ user: { userId: "u-2" } });
  });

  it("keeps the named paths: a call's renamed field, a nested path through a repeated field", async () => {
    const full = (await send(gateway.url, "GET", DASHBOARD)).json as { orders: { orders: Json[] } };
    const response = await send(gateway.url, "GET", `${DASHBOARD}?fields=user.name,orders.orders.total`);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ user: { name: "Ada Lovelace" }, orders: { orders: full.orders.orders.map((order) => ({ total: order.total })) } });
  });

  it.each<[string, Json]>([
    ["user", { user: { userId: "u-1", name: "Ada Lovelace", region: "eu-west" } }],
    ["user.userId,user", { user: { userId: "u-1", name: "Ada Lovelace", region: "eu-west" } }],
    ["user.user_id", { user: { userId: "u-1" } }],
    ["recommendations.recommendations.id", { recommendations: { recommendations: [{ id: "sku-ink" }, { id: "sku-tea" }, { id: "sku-slide" }] } }],
    ["recommendations.recommendations.id&fields=user.region", { user: { region: "eu-west" }, recommendations: { recommendations: [{ id: "sku-ink" }, { id: "sku-tea" }, { id: "sku-slide" }] } }],
  ])("fields=%s", async (fields, expected) => {
    const response = await send(gateway.url, "GET", `${DASHBOARD}?fields=${fields}`);
    expect(response.status).toBe(200);
    expect(response.json).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ["user.displayName", "user.displayName", /call "user" has no key "displayName" in the answer \(keys: userId, name, region\)/],
    ["nope", "nope", /the answer has no key "nope"/],
    ["user.region.x", "user.region.x", /"user\.region" has no subfields/],
    ["orders.orders.total.currencyCode.x", "orders.orders.total.currencyCode.x", /"orders\.orders\.total\.currencyCode" has no subfields/],
    ["orders.orders.email", "orders.orders.email", /"orders\.orders" has no key "email"/],
    ["", "", /names no field/],
  ])("fields=%s is a 400 INVALID_ARGUMENT naming the path (PG_ERR_BAD_QUERY, a BadRequest detail)", async (fields, bad, message) => {
    const response = await send(gateway.url, "GET", `${DASHBOARD}?fields=${fields}`);
    expect(response.status).toBe(400);
    const status = response.json as { code: number; message: string; details: Json[] };
    expect(status.code).toBe(3);
    expect(status.message).toContain(JSON.stringify(bad));
    expect(status.message).toMatch(message);
    const errorInfo = status.details.find((detail) => detail["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
    expect(errorInfo).toMatchObject({ reason: "PG_ERR_BAD_QUERY" });
    const badRequest = status.details.find((detail) => detail["@type"] === "type.googleapis.com/google.rpc.BadRequest") as { fieldViolations: Array<{ field: string; description: string }> };
    expect(badRequest.fieldViolations[0]).toMatchObject({ field: "fields" });
    expect(badRequest.fieldViolations[0]!.description).toMatch(message);
  });
});

/** Which calls run under `fields`: over a backend whose calls the test answers. */
describe("aggregate ?fields=: calls whose key is pruned away, and that no kept call reads, are not made", () => {
  let backend: HeldBackend;
  let gateway: RunningGateway;
  const aggregates = [
    {
      ...DASHBOARD_AGGREGATE,
      calls: { ...DASHBOARD_AGGREGATE.calls, orders: { ...DASHBOARD_AGGREGATE.calls.orders, onError: "partial" } },
    },
  ];
  const count = (rpc: string) => backend.calls.filter((call) => call.rpc === rpc).length;

  beforeAll(async () => {
    backend = await startHeldBackend();
    gateway = await startTestGateway(Object.fromEntries(backend.services.map((s) => [s, backend.address])), { auth: { mode: "off" }, aggregates });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it("fields=user: only GetUser is called", async () => {
    const before = { orders: count("ListOrders"), recommendations: count("ListRecommendations") };
    const pending = send(gateway.url, "GET", `${DASHBOARD}?fields=user.name`);
    (await backend.arrival("GetUser")).reply({ userId: "u-1", displayName: "Ada", region: "eu-west" });
    const response = await pending;
    expect(response.json).toEqual({ user: { name: "Ada" } });
    expect({ orders: count("ListOrders"), recommendations: count("ListRecommendations") }).toEqual(before);
  });

  it("fields=recommendations: GetUser still runs (recommendations reads its region), ListOrders does not; user is not in the answer", async () => {
    const before = count("ListOrders");
    const pending = send(gateway.url, "GET", `${DASHBOARD}?fields=recommendations`);
    (await backend.arrival("GetUser")).reply({ userId: "u-1", region: "us-east" });
    const recommend = await backend.arrival("ListRecommendations");
    expect(recommend.request).toMatchObject({ region: "us-east" });
    recommend.reply({ recommendations: [{ productId: "sku-1", title: "One" }] });
    const response = await pending;
    expect(response.json).toEqual({ recommendations: { recommendations: [{ id: "sku-1", title: "One" }] } });
    expect(count("ListOrders")).toBe(before);
  });

  it("errors is always kept: a partial call that failed under a kept key", async () => {
    const pending = send(gateway.url, "GET", `${DASHBOARD}?fields=orders.orders.name`);
    (await backend.arrival("ListOrders")).fail(14, "orders down");
    const response = await pending;
    expect(response.status).toBe(200);
    const body = response.json as { orders?: unknown; errors: Record<string, { code: number; message: string }> };
    expect(body.orders).toBeUndefined();
    expect(body.errors.orders).toMatchObject({ code: 14, message: "orders down" });
  });
});

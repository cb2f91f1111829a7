import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OrderState, type CreateOrderRequest, type LineItem, type ListOrdersResponse, type Order } from "../../generated/demo/v1/order.js";
import { FIXED_NOW, fail, ok, startDemoHarness, violatedFields, type DemoHarness } from "./support/demo-harness.js";

let demo: DemoHarness;
beforeEach(async () => {
  demo = await startDemoHarness();
});
afterEach(async () => {
  await demo.close();
});

function item(sku: string, quantity: number, currencyCode: string, units: string, nanos = 0): LineItem {
  return { sku, quantity, unitPrice: { currencyCode, units, nanos } };
}

function newOrder(overrides: Partial<Order> = {}): Order {
  return {
    name: "",
    state: OrderState.ORDER_STATE_UNSPECIFIED,
    items: [item("BOOK-001", 2, "EUR", "12", 500_000_000), item("PEN", 1, "EUR", "0", 990_000_000)],
    total: undefined,
    createTime: undefined,
    deliveryWindow: { seconds: "3600", nanos: 0 },
    pickupStore: "Soho",
    note: Buffer.from([0, 255, 7]),
    discountRate: 0.25,
    userId: "",
    ...overrides,
  };
}

const createOrder = (request: CreateOrderRequest) => ok<Order>((md, cb) => demo.orders.createOrder(request, md, cb));
const getOrder = (name: string) => ok<Order>((md, cb) => demo.orders.getOrder({ name }, md, cb));
const cancel = (name: string) => ok<Order>((md, cb) => demo.orders.cancelOrder({ name, reason: "changed my mind" }, md, cb));
const names = (orders: Order[]) => orders.map((order) => order.name);

describe("GetOrder", () => {
  it("finds an order by resource name and by bare order id", async () => {
    const byName = await getOrder("users/u-1/orders/o-1");
    expect(byName).toMatchObject({ name: "users/u-1/orders/o-1", state: OrderState.ORDER_STATE_PENDING, shippingAddress: "12 St James's Square, London" });
    expect(byName.total).toEqual({ currencyCode: "EUR", units: "25", nanos: 0 });
    expect(byName.note).toEqual(Buffer.from("gift wrap, please"));
    expect(await getOrder("o-1")).toEqual(byName);
    expect((await getOrder("o-2")).pickupStore).toBe("London Bridge");
  });

  it.each([
    { name: "", code: status.INVALID_ARGUMENT },
    { name: "users/u-1/orders", code: status.INVALID_ARGUMENT },
    { name: "users/u-1/orders/o-1/extra", code: status.INVALID_ARGUMENT },
    { name: "users/u-1/orders/o-3", code: status.NOT_FOUND },
    { name: "o-404", code: status.NOT_FOUND },
  ])("answers $code for '$name'", async ({ name, code }) => {
    const error = await fail((md, cb) => demo.orders.getOrder({ name }, md, cb));
    expect(error.code).toBe(code);
    if (code === status.INVALID_ARGUMENT) expect(violatedFields(error)).toEqual(["name"]);
    else expect(error.details).toContain(name);
  });
});

describe("GetOrderItems", () => {
  it("returns the whole order (the gateway picks `items`)", async () => {
    const order = await ok<Order>((md, cb) => demo.orders.getOrderItems({ name: "users/u-1/orders/o-1" }, md, cb));
    expect(order.items).toEqual([item("BOOK-001", 2, "EUR", "12", 500_000_000)]);
  });
});

describe("ListOrders", () => {
  it.each([
    { parent: "users/u-1", states: [], pageSize: 0, expected: ["users/u-1/orders/o-1", "users/u-1/orders/o-2"] },
    { parent: "users/u-1", states: [OrderState.ORDER_STATE_PAID], pageSize: 0, expected: ["users/u-1/orders/o-2"] },
    { parent: "users/u-1", states: [OrderState.ORDER_STATE_PAID, OrderState.ORDER_STATE_PENDING], pageSize: 0, expected: ["users/u-1/orders/o-1", "users/u-1/orders/o-2"] },
    { parent: "users/u-1", states: [], pageSize: 1, expected: ["users/u-1/orders/o-1"] },
    { parent: "users/u-1", states: [], pageSize: 0, newestFirst: true, expected: ["users/u-1/orders/o-2", "users/u-1/orders/o-1"] },
    { parent: "users/u-1", states: [], pageSize: 1, newestFirst: true, expected: ["users/u-1/orders/o-2"] },
    { parent: "users/u-2", states: [OrderState.ORDER_STATE_PENDING], pageSize: 0, expected: [] },
    { parent: "users/u-3", states: [], pageSize: 0, expected: [] },
  ])("lists $parent with states $states, page size $pageSize, newest first: $newestFirst", async ({ parent, states, pageSize, newestFirst, expected }) => {
    const response = await ok<ListOrdersResponse>((md, cb) => demo.orders.listOrders({ parent, states, pageSize, newestFirst: newestFirst ?? false }, md, cb));
    expect(names(response.orders)).toEqual(expected);
  });

  it.each([
    { parent: "u-1", states: [], code: status.INVALID_ARGUMENT, field: "parent" },
    { parent: "users/u-1", states: [42 as OrderState], code: status.INVALID_ARGUMENT, field: "states[0]" },
    { parent: "users/u-9", states: [], code: status.NOT_FOUND, field: undefined },
  ])("answers $code for parent '$parent' and states $states", async ({ parent, states, code, field }) => {
    const error = await fail((md, cb) => demo.orders.listOrders({ parent, states, pageSize: 0, newestFirst: false }, md, cb));
    expect(error.code).toBe(code);
    if (field) expect(violatedFields(error)).toEqual([field]);
  });
});

describe("CreateOrder", () => {
  it("names the order, sets its user from the parent, computes the total and makes it pending", async () => {
    const created = await createOrder({ parent: "users/u-3", order: newOrder({ name: "ignored", state: OrderState.ORDER_STATE_PAID, userId: "u-9" }), requestId: "" });
    expect(created).toMatchObject({ name: "users/u-3/orders/o-4", state: OrderState.ORDER_STATE_PENDING, pickupStore: "Soho", discountRate: 0.25, userId: "u-3" });
    expect(created.total).toEqual({ currencyCode: "EUR", units: "25", nanos: 990_000_000 });
    expect(created.createTime).toEqual({ seconds: String(Math.floor(FIXED_NOW.getTime() / 1000)), nanos: 890_000_000 });
    expect(created.note).toEqual(Buffer.from([0, 255, 7]));
    expect(await getOrder("users/u-3/orders/o-4")).toEqual(created);
  });

  it("carries the nanos of the total into units", async () => {
    const created = await createOrder({ parent: "users/u-3", order: newOrder({ items: [item("X", 3, "USD", "1", 700_000_000)] }), requestId: "" });
    expect(created.total).toEqual({ currencyCode: "USD", units: "5", nanos: 100_000_000 });
  });

  it("replays a request id instead of creating a second order", async () => {
    const request = { parent: "users/u-2", order: newOrder(), requestId: "req-42" };
    const first = await createOrder(request);
    const second = await createOrder(request);
    expect(second).toEqual(first);
    const other = await createOrder({ ...request, requestId: "req-43" });
    expect(other.name).not.toBe(first.name);
    const listed = await ok<ListOrdersResponse>((md, cb) => demo.orders.listOrders({ parent: "users/u-2", states: [OrderState.ORDER_STATE_PENDING], pageSize: 0, newestFirst: false }, md, cb));
    expect(names(listed.orders)).toEqual([first.name, other.name]);
  });

  it.each([
    { name: "no order", order: undefined, fields: ["order"] },
    { name: "no items", order: newOrder({ items: [] }), fields: ["order.items"] },
    { name: "an empty sku and no quantity", order: newOrder({ items: [item("", 0, "EUR", "1")] }), fields: ["order.items[0].sku", "order.items[0].quantity"] },
    { name: "a missing unit price", order: newOrder({ items: [{ sku: "A", quantity: 1, unitPrice: undefined }] }), fields: ["order.items[0].unit_price"] },
    { name: "mixed currencies", order: newOrder({ items: [item("A", 1, "EUR", "1"), item("B", 1, "USD", "1")] }), fields: ["order.items[1].unit_price.currency_code"] },
    { name: "a bad currency code", order: newOrder({ items: [item("A", 1, "euro", "1")] }), fields: ["order.items[0].unit_price.currency_code"] },
    { name: "a negative price", order: newOrder({ items: [item("A", 1, "EUR", "-1")] }), fields: ["order.items[0].unit_price"] },
    { name: "a discount of 100%", order: newOrder({ discountRate: 1 }), fields: ["order.discount_rate"] },
    { name: "a NaN discount", order: newOrder({ discountRate: Number.NaN }), fields: ["order.discount_rate"] },
  ])("rejects $name with a BadRequest detail", async ({ order, fields }) => {
    const error = await fail((md, cb) => demo.orders.createOrder({ parent: "users/u-1", order, requestId: "" }, md, cb));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual(fields);
  });

  it.each([
    { parent: "users/u-9", code: status.NOT_FOUND },
    { parent: "customers/u-1", code: status.INVALID_ARGUMENT },
  ])("answers $code for parent $parent", async ({ parent, code }) => {
    expect((await fail((md, cb) => demo.orders.createOrder({ parent, order: newOrder(), requestId: "" }, md, cb))).code).toBe(code);
  });
});

describe("CancelOrder", () => {
  it("cancels a pending order, and cancelling again changes nothing", async () => {
    const cancelled = await cancel("users/u-1/orders/o-1");
    expect(cancelled.state).toBe(OrderState.ORDER_STATE_CANCELLED);
    expect((await getOrder("o-1")).state).toBe(OrderState.ORDER_STATE_CANCELLED);
    expect(await cancel("users/u-1/orders/o-1")).toEqual(cancelled);
  });

  it("refuses to cancel a paid order with FAILED_PRECONDITION naming the payment", async () => {
    const error = await fail((md, cb) => demo.orders.cancelOrder({ name: "users/u-1/orders/o-2", reason: "" }, md, cb));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain("p-1");
    expect((await getOrder("o-2")).state).toBe(OrderState.ORDER_STATE_PAID);
  });

  it.each([
    { name: "o-1", code: status.INVALID_ARGUMENT },
    { name: "users/u-1/orders/o-8", code: status.NOT_FOUND },
  ])("answers $code for '$name'", async ({ name, code }) => {
    expect((await fail((md, cb) => demo.orders.cancelOrder({ name, reason: "" }, md, cb))).code).toBe(code);
  });
});

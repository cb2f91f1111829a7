import {
  OrderState,
  type CancelOrderRequest,
  type CreateOrderRequest,
  type ListOrdersRequest,
  type ListOrdersResponse,
  type Money,
  type Order,
  type OrderServiceServer,
} from "../../generated/demo/v1/order.js";
import type { DemoStore } from "./demo-store.js";
import { formatOrderName, parseOrderName, parseUserParent } from "./resource-names.js";
import { assertNoViolations, failedPrecondition, invalidArgument, notFound, type FieldViolation } from "./rpc-error.js";
import { toTimestamp } from "./timestamps.js";
import { unaryHandler } from "./unary-handler.js";
import { effectivePageSize, enumValueNames, isKnownEnumValue, requireMessage } from "./validation.js";

const NANOS_PER_UNIT = 1_000_000_000n;
const MAX_ITEMS = 100;

/** demo.v1.OrderService over a demo store. */
export function createOrderService(store: DemoStore): OrderServiceServer {
  return {
    getOrder: unaryHandler((request) => findOrder(store, request.name)),
    listOrders: unaryHandler((request) => listOrders(store, request)),
    createOrder: unaryHandler((request) => createOrder(store, request)),
    cancelOrder: unaryHandler((request) => cancelOrder(store, request)),
    getOrderItems: unaryHandler((request) => findOrder(store, request.name)),
  };
}

/** An order by resource name, or by bare order id (the `/v1/orders/{name}` binding). */
function findOrder(store: DemoStore, name: string): Order {
  if (name === "") throw invalidArgument([{ field: "name", description: "must not be empty" }]);
  if (name.includes("/")) {
    if (!parseOrderName(name)) throw invalidArgument([{ field: "name", description: `"${name}" is neither users/{user}/orders/{order} nor an order id` }]);
    const order = store.orders.get(name);
    if (!order) throw notFound(`order "${name}" not found`);
    return order;
  }
  for (const order of store.orders.values()) if (parseOrderName(order.name)?.orderId === name) return order;
  throw notFound(`order "${name}" not found (order ids look like "o-1")`);
}

/** AIP-159: `-` stands for every parent in a collection read. */
const ALL_USERS = "users/-";

function requireParentUser(store: DemoStore, parent: string): string {
  const userId = parseUserParent(parent);
  if (userId === undefined) throw invalidArgument([{ field: "parent", description: `must be users/{user}, got "${parent}"` }]);
  if (!store.users.has(userId)) throw notFound(`user "${userId}" (the parent "${parent}") not found`);
  return userId;
}

function listOrders(store: DemoStore, request: ListOrdersRequest): ListOrdersResponse {
  const violations: FieldViolation[] = [];
  const pageSize = effectivePageSize(request.pageSize, "page_size", violations);
  request.states.forEach((state, index) => {
    if (!isKnownEnumValue(OrderState, state)) violations.push({ field: `states[${index}]`, description: `unknown state ${state}; expected one of ${enumValueNames(OrderState, false)}` });
  });
  assertNoViolations(violations);
  // `users/-` lists every user's orders (AIP-159's wildcard collection read).
  const prefix = request.parent === ALL_USERS ? "users/" : `users/${requireParentUser(store, request.parent)}/orders/`;
  const placed = [...store.orders.values()].filter((order) => order.name.startsWith(prefix) && (request.states.length === 0 || request.states.includes(order.state)));
  // The store keeps orders in the order they were placed.
  const orders = (request.newestFirst ? placed.reverse() : placed).slice(0, pageSize);
  return { orders };
}

function createOrder(store: DemoStore, request: CreateOrderRequest): Order {
  const userId = requireParentUser(store, request.parent);
  const idempotencyKey = `${request.parent} ${request.requestId}`;
  const replayed = request.requestId === "" ? undefined : store.orderRequestIds.get(idempotencyKey);
  const previous = replayed === undefined ? undefined : store.orders.get(replayed);
  if (previous) return previous;

  const input = requireMessage(request.order, "order");
  const violations = validateOrder(input);
  assertNoViolations(violations);
  const created: Order = {
    ...input,
    name: formatOrderName(userId, store.nextId("o")),
    userId,
    state: OrderState.ORDER_STATE_PENDING,
    total: orderTotal(input),
    createTime: toTimestamp(store.now()),
  };
  store.orders.set(created.name, created);
  if (request.requestId !== "") store.orderRequestIds.set(idempotencyKey, created.name);
  return created;
}

function validateOrder(order: Order): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (order.items.length === 0) violations.push({ field: "order.items", description: "must hold at least one line item" });
  if (order.items.length > MAX_ITEMS) violations.push({ field: "order.items", description: `must hold at most ${MAX_ITEMS} line items` });
  const currency = order.items[0]?.unitPrice?.currencyCode;
  order.items.forEach((item, index) => {
    const at = `order.items[${index}]`;
    if (item.sku.trim() === "") violations.push({ field: `${at}.sku`, description: "must not be empty" });
    if (item.quantity === 0) violations.push({ field: `${at}.quantity`, description: "must be at least 1" });
    const price = item.unitPrice;
    if (!price) {
      violations.push({ field: `${at}.unit_price`, description: "is required" });
      return;
    }
    if (!/^[A-Z]{3}$/.test(price.currencyCode)) violations.push({ field: `${at}.unit_price.currency_code`, description: "must be a 3-letter ISO 4217 code such as EUR" });
    else if (price.currencyCode !== currency) violations.push({ field: `${at}.unit_price.currency_code`, description: `must match the first item's currency ${currency}` });
    if (BigInt(price.units) < 0n || price.nanos < 0 || price.nanos >= Number(NANOS_PER_UNIT)) {
      violations.push({ field: `${at}.unit_price`, description: "must be a non-negative amount with nanos in [0, 999999999]" });
    }
  });
  if (!(order.discountRate >= 0 && order.discountRate < 1)) violations.push({ field: "order.discount_rate", description: "must be in [0, 1)" });
  return violations;
}

/** The sum of the line items (validated: one currency, non-negative prices). */
function orderTotal(order: Order): Money {
  let nanos = 0n;
  for (const item of order.items) {
    const price = item.unitPrice as Money;
    nanos += (BigInt(price.units) * NANOS_PER_UNIT + BigInt(price.nanos)) * BigInt(item.quantity);
  }
  return { currencyCode: order.items[0].unitPrice?.currencyCode ?? "", units: String(nanos / NANOS_PER_UNIT), nanos: Number(nanos % NANOS_PER_UNIT) };
}

function cancelOrder(store: DemoStore, request: CancelOrderRequest): Order {
  if (!parseOrderName(request.name)) throw invalidArgument([{ field: "name", description: `must be users/{user}/orders/{order}, got "${request.name}"` }]);
  const order = store.orders.get(request.name);
  if (!order) throw notFound(`order "${request.name}" not found`);
  if (order.state === OrderState.ORDER_STATE_CANCELLED) return order;
  if (order.state === OrderState.ORDER_STATE_PAID) {
    const payment = [...store.payments.values()].find((p) => p.orderName === order.name);
    throw failedPrecondition(`order "${order.name}" is already paid${payment ? ` (payment ${payment.paymentId})` : ""}; a paid order cannot be cancelled`);
  }
  const cancelled: Order = { ...order, state: OrderState.ORDER_STATE_CANCELLED };
  store.orders.set(cancelled.name, cancelled);
  return cancelled;
}

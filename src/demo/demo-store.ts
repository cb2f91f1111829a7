import type { Order } from "../../generated/demo/v1/order.js";
import type { Payment } from "../../generated/demo/v1/payment.js";
import type { User } from "../../generated/demo/v1/user.js";
import { seedOrders, seedPayments, seedUsers } from "./seed-data.js";

/** A document uploaded to a payment. */
export interface StoredAttachment {
  readonly contentType: string;
  readonly data: Buffer;
}

/**
 * The in-memory state of one demo instance. Records are replaced, never mutated in place, so an
 * object already handed to grpc-js for a reply never changes under it.
 */
export interface DemoStore {
  /** By user id, in creation order. */
  readonly users: Map<string, User>;
  /** By resource name `users/{user}/orders/{order}`, in creation order. */
  readonly orders: Map<string, Order>;
  /** By payment id. */
  readonly payments: Map<string, Payment>;
  /** By payment id. */
  readonly attachments: Map<string, StoredAttachment>;
  /** `{parent} {request_id}` -> order name, for idempotent CreateOrder. */
  readonly orderRequestIds: Map<string, string>;
  /** The current time (injectable for tests). */
  now(): Date;
  /** The next free id with a prefix: "u" -> "u-5", "o" -> "o-4", "p" -> "p-2". */
  nextId(prefix: IdPrefix): string;
}

export type IdPrefix = "u" | "o" | "p";

/** Creates a store holding a fresh copy of the seed data. */
export function createDemoStore(options: { now?: () => Date } = {}): DemoStore {
  const users = new Map(seedUsers().map((user) => [user.userId, user]));
  const orders = new Map(seedOrders().map((order) => [order.name, order]));
  const payments = new Map(seedPayments().map((payment) => [payment.paymentId, payment]));
  const counters: Record<IdPrefix, number> = {
    u: highestSequence(users.keys()),
    o: highestSequence([...orders.keys()].map((name) => name.slice(name.lastIndexOf("/") + 1))),
    p: highestSequence(payments.keys()),
  };
  return {
    users,
    orders,
    payments,
    attachments: new Map(),
    orderRequestIds: new Map(),
    now: options.now ?? (() => new Date()),
    nextId: (prefix) => `${prefix}-${++counters[prefix]}`,
  };
}

/** The numeric suffix of an id like "u-12", or undefined for ids of another shape. */
export function idSequence(id: string): number | undefined {
  const match = /^[a-z]+-(\d{1,9})$/.exec(id);
  return match ? Number(match[1]) : undefined;
}

function highestSequence(ids: Iterable<string>): number {
  let highest = 0;
  for (const id of ids) highest = Math.max(highest, idSequence(id) ?? 0);
  return highest;
}

import { OrderState, type Order } from "../../generated/demo/v1/order.js";
import { PaymentMethod, type Payment } from "../../generated/demo/v1/payment.js";
import { Role, type User } from "../../generated/demo/v1/user.js";
import { toTimestamp } from "./timestamps.js";

// Fresh objects on every call: each demo instance owns (and may replace) its own records.

/** The seeded users u-1..u-4 (u-4's balance does not fit a double, on purpose). */
export function seedUsers(): User[] {
  return [
    {
      userId: "u-1",
      displayName: "Ada Lovelace",
      email: "ada@analytical.example",
      role: Role.ROLE_ADMIN,
      createTime: toTimestamp(new Date("2026-01-05T09:30:00Z")),
      labels: new Map([["team", "engines"], ["tier", "gold"]]),
      tags: ["founder", "math"],
      balanceCents: "12500",
      profile: { city: "London", languages: ["en", "fr"], newsletter: true },
      nickname: "Enchantress of Numbers",
      region: "eu-west",
    },
    {
      userId: "u-2",
      displayName: "Grace Hopper",
      email: "grace@cobol.example",
      role: Role.ROLE_MEMBER,
      createTime: toTimestamp(new Date("2026-02-11T14:00:00Z")),
      labels: new Map([["team", "compilers"]]),
      tags: ["compilers", "navy"],
      balanceCents: "-4200",
      profile: undefined,
      nickname: "Amazing Grace",
      region: "us-east",
    },
    {
      userId: "u-3",
      displayName: "Alan Turing",
      email: "alan@bletchley.example",
      role: Role.ROLE_MEMBER,
      createTime: toTimestamp(new Date("2026-03-20T08:15:30.250Z")),
      labels: new Map(),
      tags: ["math", "crypto"],
      balanceCents: "0",
      profile: { city: "Manchester" },
      nickname: undefined,
      region: "eu-west",
    },
    {
      userId: "u-4",
      displayName: "Katherine Johnson",
      email: "katherine@orbits.example",
      role: Role.ROLE_MEMBER,
      createTime: toTimestamp(new Date("2026-04-02T17:45:00Z")),
      labels: new Map([["team", "flight-research"]]),
      tags: ["math", "orbits"],
      balanceCents: "9007199254740993",
      profile: undefined,
      nickname: undefined,
      region: "us-east",
    },
  ];
}

/** The seeded orders: o-1 pending and o-2 paid (both u-1's), o-3 cancelled (u-2's). */
export function seedOrders(): Order[] {
  return [
    {
      name: "users/u-1/orders/o-1",
      state: OrderState.ORDER_STATE_PENDING,
      items: [{ sku: "BOOK-001", quantity: 2, unitPrice: { currencyCode: "EUR", units: "12", nanos: 500_000_000 } }],
      total: { currencyCode: "EUR", units: "25", nanos: 0 },
      createTime: toTimestamp(new Date("2026-11-02T12:00:00Z")),
      deliveryWindow: { seconds: "172800", nanos: 0 },
      shippingAddress: "12 St James's Square, London",
      note: Buffer.from("gift wrap, please"),
      discountRate: 0,
      userId: "u-1",
    },
    {
      name: "users/u-1/orders/o-2",
      state: OrderState.ORDER_STATE_PAID,
      items: [{ sku: "LAMP-7", quantity: 1, unitPrice: { currencyCode: "EUR", units: "49", nanos: 990_000_000 } }],
      total: { currencyCode: "EUR", units: "49", nanos: 990_000_000 },
      createTime: toTimestamp(new Date("2026-11-03T10:00:00Z")),
      deliveryWindow: undefined,
      pickupStore: "London Bridge",
      note: Buffer.alloc(0),
      discountRate: 0.1,
      userId: "u-1",
    },
    {
      name: "users/u-2/orders/o-3",
      state: OrderState.ORDER_STATE_CANCELLED,
      items: [{ sku: "COBOL-MANUAL", quantity: 1, unitPrice: { currencyCode: "USD", units: "30", nanos: 0 } }],
      total: { currencyCode: "USD", units: "30", nanos: 0 },
      createTime: toTimestamp(new Date("2026-10-15T16:20:00Z")),
      deliveryWindow: { seconds: "86400", nanos: 0 },
      shippingAddress: "Arlington, VA",
      note: Buffer.alloc(0),
      discountRate: 0,
      userId: "u-2",
    },
  ];
}

/** The seeded payment p-1, which paid o-2 (its receipt is archived at 2026/11/receipt-p-1.txt). */
export function seedPayments(): Payment[] {
  return [
    {
      paymentId: "p-1",
      orderName: "users/u-1/orders/o-2",
      amountMinor: "4999",
      currencyCode: "EUR",
      method: PaymentMethod.PAYMENT_METHOD_CARD,
      createTime: toTimestamp(new Date("2026-11-03T10:15:00Z")),
      fingerprint: Buffer.from("9f86d081884c7d659a2feaa0c55ad015", "hex"),
    },
  ];
}

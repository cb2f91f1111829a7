import { createHash } from "node:crypto";
import type { HttpBody } from "../../generated/google/api/httpbody.js";
import { OrderState, type Money } from "../../generated/demo/v1/order.js";
import {
  PaymentMethod,
  type Attachment,
  type CreatePaymentRequest,
  type Payment,
  type PaymentServiceServer,
  type UploadAttachmentRequest,
} from "../../generated/demo/v1/payment.js";
import type { DemoStore } from "./demo-store.js";
import { parseOrderName } from "./resource-names.js";
import { alreadyExists, assertNoViolations, failedPrecondition, invalidArgument, notFound, type FieldViolation } from "./rpc-error.js";
import { toTimestamp, timestampToMillis } from "./timestamps.js";
import { unaryHandler } from "./unary-handler.js";
import { enumValueNames, isKnownEnumValue, requireMessage } from "./validation.js";

const MAX_ATTACHMENT_BYTES = 1024 * 1024;
const MAX_ARCHIVE_PATH = 512;
const RECEIPT_PATH = /^(\d{4})\/(\d{2})\/receipt-([^/]+)\.txt$/;
const ATTACHMENT_PATH = /^attachments\/([^/]+)$/;

/** demo.v1.PaymentService over a demo store. */
export function createPaymentService(store: DemoStore): PaymentServiceServer {
  return {
    createPayment: unaryHandler((request) => createPayment(store, request)),
    getPayment: unaryHandler((request) => requirePayment(store, request.paymentId)),
    getReceipt: unaryHandler((request) => receipt(requirePayment(store, request.paymentId))),
    uploadAttachment: unaryHandler((request) => uploadAttachment(store, request)),
    getArchiveFile: unaryHandler((request) => archiveFile(store, request.path)),
  };
}

function requirePayment(store: DemoStore, paymentId: string): Payment {
  if (paymentId === "") throw invalidArgument([{ field: "payment_id", description: "must not be empty" }]);
  const payment = store.payments.get(paymentId);
  if (!payment) throw notFound(`payment "${paymentId}" not found (payment ids look like "p-1")`);
  return payment;
}

function createPayment(store: DemoStore, request: CreatePaymentRequest): Payment {
  const violations: FieldViolation[] = [];
  if (!parseOrderName(request.orderName)) violations.push({ field: "order_name", description: `must be users/{user}/orders/{order}, got "${request.orderName}"` });
  if (BigInt(request.amountMinor) === 0n) violations.push({ field: "amount_minor", description: "must be positive" });
  if (!/^[A-Z]{3}$/.test(request.currencyCode)) violations.push({ field: "currency_code", description: "must be a 3-letter ISO 4217 code such as EUR" });
  if (request.method === PaymentMethod.PAYMENT_METHOD_UNSPECIFIED || !isKnownEnumValue(PaymentMethod, request.method)) {
    violations.push({ field: "method", description: `must be one of ${enumValueNames(PaymentMethod)}` });
  }
  assertNoViolations(violations);

  const order = store.orders.get(request.orderName);
  if (!order) throw notFound(`order "${request.orderName}" not found`);
  if (order.state === OrderState.ORDER_STATE_PAID) {
    const existing = [...store.payments.values()].find((p) => p.orderName === order.name);
    throw alreadyExists(`order "${order.name}" is already paid${existing ? ` by payment ${existing.paymentId}` : ""}`);
  }
  if (order.state !== OrderState.ORDER_STATE_PENDING) throw failedPrecondition(`order "${order.name}" is ${OrderState[order.state]}; only pending orders can be paid`);
  const total = order.total as Money;
  const due = minorUnits(total);
  const mismatch: FieldViolation[] = [];
  if (request.currencyCode !== total.currencyCode) mismatch.push({ field: "currency_code", description: `must be the order's currency ${total.currencyCode}` });
  if (BigInt(request.amountMinor) !== due) mismatch.push({ field: "amount_minor", description: `must equal the order total, ${due} minor units` });
  assertNoViolations(mismatch);

  const payment: Payment = {
    paymentId: store.nextId("p"),
    orderName: order.name,
    amountMinor: request.amountMinor,
    currencyCode: request.currencyCode,
    method: request.method,
    createTime: toTimestamp(store.now()),
    fingerprint: createHash("sha256").update(`${request.method}:${order.name}`).digest().subarray(0, 16),
  };
  store.payments.set(payment.paymentId, payment);
  store.orders.set(order.name, { ...order, state: OrderState.ORDER_STATE_PAID });
  return payment;
}

/** Money in minor units, assuming a currency with two decimals (true of every seeded currency). */
function minorUnits(money: Money): bigint {
  return BigInt(money.units) * 100n + BigInt(Math.round(money.nanos / 10_000_000));
}

function receipt(payment: Payment): HttpBody {
  const amount = BigInt(payment.amountMinor);
  const text = [
    `Receipt for payment ${payment.paymentId}`,
    `Order: ${payment.orderName}`,
    `Amount: ${amount / 100n}.${String(amount % 100n).padStart(2, "0")} ${payment.currencyCode}`,
    `Method: ${PaymentMethod[payment.method] ?? payment.method}`,
    `Paid at: ${payment.createTime ? new Date(timestampToMillis(payment.createTime)).toISOString() : "unknown"}`,
    "",
  ].join("\n");
  return { contentType: "text/plain; charset=utf-8", data: Buffer.from(text, "utf8"), extensions: [] };
}

function uploadAttachment(store: DemoStore, request: UploadAttachmentRequest): Attachment {
  const payment = requirePayment(store, request.paymentId);
  const file = requireMessage(request.file, "file");
  const violations: FieldViolation[] = [];
  if (file.contentType === "") violations.push({ field: "file.content_type", description: "must not be empty" });
  if (file.data.length > MAX_ATTACHMENT_BYTES) violations.push({ field: "file.data", description: `must be at most ${MAX_ATTACHMENT_BYTES} bytes (got ${file.data.length})` });
  assertNoViolations(violations);
  store.attachments.set(payment.paymentId, { contentType: file.contentType, data: file.data });
  return { paymentId: payment.paymentId, contentType: file.contentType, sizeBytes: String(file.data.length) };
}

/**
 * The archive: `YYYY/MM/receipt-{payment}.txt` (the month the payment was made) and
 * `attachments/{payment}` (the uploaded document, with its own content type).
 */
function archiveFile(store: DemoStore, path: string): HttpBody {
  const segments = path.split("/");
  if (path === "") throw invalidArgument([{ field: "path", description: "must not be empty" }]);
  if (path.length > MAX_ARCHIVE_PATH) throw invalidArgument([{ field: "path", description: `must be at most ${MAX_ARCHIVE_PATH} characters` }]);
  if (segments.some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw invalidArgument([{ field: "path", description: `"${path}" has an empty, "." or ".." segment` }]);
  }
  const receiptMatch = RECEIPT_PATH.exec(path);
  if (receiptMatch) {
    const payment = store.payments.get(receiptMatch[3]);
    const paidAt = payment?.createTime ? new Date(timestampToMillis(payment.createTime)) : undefined;
    if (payment && paidAt && paidAt.getUTCFullYear() === Number(receiptMatch[1]) && paidAt.getUTCMonth() + 1 === Number(receiptMatch[2])) return receipt(payment);
  }
  const attachmentMatch = ATTACHMENT_PATH.exec(path);
  const attachment = attachmentMatch ? store.attachments.get(attachmentMatch[1]) : undefined;
  if (attachment) return { contentType: attachment.contentType, data: attachment.data, extensions: [] };
  throw notFound(`no archive file at "${path}" (receipts are at YYYY/MM/receipt-{payment}.txt, uploads at attachments/{payment})`);
}

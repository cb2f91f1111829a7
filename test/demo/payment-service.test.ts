import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HttpBody } from "../../generated/google/api/httpbody.js";
import { OrderState, type Order } from "../../generated/demo/v1/order.js";
import { PaymentMethod, type CreatePaymentRequest, type Payment } from "../../generated/demo/v1/payment.js";
import { FIXED_NOW, fail, ok, startDemoHarness, violatedFields, type DemoHarness } from "./support/demo-harness.js";

let demo: DemoHarness;
beforeEach(async () => {
  demo = await startDemoHarness();
});
afterEach(async () => {
  await demo.close();
});

const P1_RECEIPT = [
  "Receipt for payment p-1",
  "Order: users/u-1/orders/o-2",
  "Amount: 49.99 EUR",
  "Method: PAYMENT_METHOD_CARD",
  "Paid at: 2026-11-03T10:15:00.000Z",
  "",
].join("\n");

function payO1(overrides: Partial<CreatePaymentRequest> = {}): CreatePaymentRequest {
  return { orderName: "users/u-1/orders/o-1", amountMinor: "2500", currencyCode: "EUR", method: PaymentMethod.PAYMENT_METHOD_BANK_TRANSFER, ...overrides };
}

const archive = (path: string) => ok<HttpBody>((md, cb) => demo.payments.getArchiveFile({ path }, md, cb));

describe("GetPayment and GetReceipt", () => {
  it("returns the seeded payment", async () => {
    const payment = await ok<Payment>((md, cb) => demo.payments.getPayment({ paymentId: "p-1" }, md, cb));
    expect(payment).toMatchObject({ paymentId: "p-1", orderName: "users/u-1/orders/o-2", amountMinor: "4999", currencyCode: "EUR", method: PaymentMethod.PAYMENT_METHOD_CARD });
    expect(payment.fingerprint).toHaveLength(16);
  });

  it("renders the receipt as text/plain", async () => {
    const receipt = await ok<HttpBody>((md, cb) => demo.payments.getReceipt({ paymentId: "p-1" }, md, cb));
    expect(receipt.contentType).toBe("text/plain; charset=utf-8");
    expect(receipt.data.toString("utf8")).toBe(P1_RECEIPT);
  });

  it.each([
    { paymentId: "", code: status.INVALID_ARGUMENT },
    { paymentId: "p-404", code: status.NOT_FOUND },
  ])("answers $code for payment '$paymentId'", async ({ paymentId, code }) => {
    expect((await fail((md, cb) => demo.payments.getPayment({ paymentId }, md, cb))).code).toBe(code);
    expect((await fail((md, cb) => demo.payments.getReceipt({ paymentId }, md, cb))).code).toBe(code);
  });
});

describe("CreatePayment", () => {
  it("pays a pending order, which then cannot be cancelled", async () => {
    const payment = await ok<Payment>((md, cb) => demo.payments.createPayment(payO1(), md, cb));
    expect(payment).toMatchObject({ paymentId: "p-2", orderName: "users/u-1/orders/o-1", amountMinor: "2500", method: PaymentMethod.PAYMENT_METHOD_BANK_TRANSFER });
    expect(payment.createTime).toEqual({ seconds: String(Math.floor(FIXED_NOW.getTime() / 1000)), nanos: 890_000_000 });
    const order = await ok<Order>((md, cb) => demo.orders.getOrder({ name: "o-1" }, md, cb));
    expect(order.state).toBe(OrderState.ORDER_STATE_PAID);
    const cancel = await fail((md, cb) => demo.orders.cancelOrder({ name: "users/u-1/orders/o-1", reason: "" }, md, cb));
    expect(cancel.code).toBe(status.FAILED_PRECONDITION);
    expect(cancel.details).toContain("p-2");
  });

  it.each([
    { name: "a malformed order name", request: payO1({ orderName: "o-1" }), fields: ["order_name"] },
    { name: "a zero amount", request: payO1({ amountMinor: "0" }), fields: ["amount_minor"] },
    { name: "no method and a bad currency", request: payO1({ method: PaymentMethod.PAYMENT_METHOD_UNSPECIFIED, currencyCode: "eur" }), fields: ["currency_code", "method"] },
    { name: "the wrong amount", request: payO1({ amountMinor: "2499" }), fields: ["amount_minor"] },
    { name: "the wrong currency", request: payO1({ currencyCode: "USD" }), fields: ["currency_code"] },
  ])("rejects $name with a BadRequest detail", async ({ request, fields }) => {
    const error = await fail((md, cb) => demo.payments.createPayment(request, md, cb));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual(fields);
  });

  it.each([
    { name: "an unknown order", request: payO1({ orderName: "users/u-1/orders/o-99" }), code: status.NOT_FOUND },
    { name: "a paid order", request: payO1({ orderName: "users/u-1/orders/o-2", amountMinor: "4999" }), code: status.ALREADY_EXISTS },
    { name: "a cancelled order", request: payO1({ orderName: "users/u-2/orders/o-3", amountMinor: "3000", currencyCode: "USD" }), code: status.FAILED_PRECONDITION },
  ])("answers $code for $name", async ({ request, code }) => {
    expect((await fail((md, cb) => demo.payments.createPayment(request, md, cb))).code).toBe(code);
  });
});

describe("UploadAttachment and GetArchiveFile", () => {
  it("stores an upload and serves it back from the archive with its content type", async () => {
    const data = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]);
    const attachment = await ok((md, cb) => demo.payments.uploadAttachment({ paymentId: "p-1", file: { contentType: "application/pdf", data, extensions: [] } }, md, cb));
    expect(attachment).toEqual({ paymentId: "p-1", contentType: "application/pdf", sizeBytes: "6" });
    const file = await archive("attachments/p-1");
    expect(file.contentType).toBe("application/pdf");
    expect(file.data).toEqual(data);
  });

  it.each([
    { name: "no file", paymentId: "p-1", file: undefined, code: status.INVALID_ARGUMENT, fields: ["file"] },
    { name: "no content type", paymentId: "p-1", file: { contentType: "", data: Buffer.from("x"), extensions: [] }, code: status.INVALID_ARGUMENT, fields: ["file.content_type"] },
    { name: "an unknown payment", paymentId: "p-9", file: { contentType: "text/plain", data: Buffer.from("x"), extensions: [] }, code: status.NOT_FOUND, fields: undefined },
  ])("answers $code for $name", async ({ paymentId, file, code, fields }) => {
    const error = await fail((md, cb) => demo.payments.uploadAttachment({ paymentId, file }, md, cb));
    expect(error.code).toBe(code);
    if (fields) expect(violatedFields(error)).toEqual(fields);
  });

  it("serves a receipt for a multi-segment path", async () => {
    const file = await archive("2026/11/receipt-p-1.txt");
    expect(file.contentType).toBe("text/plain; charset=utf-8");
    expect(file.data.toString("utf8")).toBe(P1_RECEIPT);
  });

  it.each([
    { path: "2026/12/receipt-p-1.txt", code: status.NOT_FOUND },
    { path: "2026/11/receipt-p-2.txt", code: status.NOT_FOUND },
    { path: "attachments/p-1", code: status.NOT_FOUND },
    { path: "", code: status.INVALID_ARGUMENT },
    { path: "2026/../receipt-p-1.txt", code: status.INVALID_ARGUMENT },
    { path: "2026//11/receipt-p-1.txt", code: status.INVALID_ARGUMENT },
    { path: `${"a/".repeat(300)}b`, code: status.INVALID_ARGUMENT },
  ])("answers $code for path '$path'", async ({ path, code }) => {
    const error = await fail((md, cb) => demo.payments.getArchiveFile({ path }, md, cb));
    expect(error.code).toBe(code);
    if (code === status.INVALID_ARGUMENT) expect(violatedFields(error)).toEqual(["path"]);
  });
});

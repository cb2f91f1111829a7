import { describe, expect, it } from "vitest";
import { demoGatewayForSuite, send, sendJson } from "./support/gateway-harness.js";

/** Every HttpRule feature the demo protos use, through the real server to the real demo backends. */
describe("transcoding through the gateway to the demo services", () => {
  const gateway = demoGatewayForSuite();

  it("GET with a path variable: JSON names, int64 as string, enum names, timestamp, map, struct, wrapper", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.json).toMatchObject({
      userId: "u-1",
      role: "ROLE_ADMIN",
      createTime: "2026-01-05T09:30:00Z",
      labels: { team: "engines" },
      balanceCents: "12500",
      profile: { city: "London", languages: ["en", "fr"], newsletter: true },
      nickname: "Enchantress of Numbers",
    });
  });

  it("64-bit integers beyond 2^53 survive exactly", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-4");
    const balance = (response.json as { balanceCents: string }).balanceCents;
    expect(typeof balance).toBe("string");
    expect(BigInt(balance) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(response.text).toContain(`"balanceCents":"${balance}"`);
  });

  it("a bare JSON number above 2^53 for an int64 field arrives exactly", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users", '{"displayName":"Big","email":"big@example.com","balanceCents":9007199254740993}');
    expect(response.status).toBe(201);
    expect(response.text).toContain('"balanceCents":"9007199254740993"');
  });

  it("query parameters: int, enum by name and by number, repeated, timestamp, proto names", async () => {
    const byName = await send(gateway.url, "GET", "/v1/users?pageSize=10&role=ROLE_MEMBER&tags=math");
    expect((byName.json as { users: Array<{ userId: string }> }).users.map((u) => u.userId)).toEqual(["u-3", "u-4"]);
    const byNumber = await send(gateway.url, "GET", "/v1/users?page_size=10&role=1&tags=math");
    expect(byNumber.json).toEqual(byName.json);
    const repeated = await send(gateway.url, "GET", "/v1/users?tags=math&tags=founder");
    expect((repeated.json as { users: Array<{ userId: string }> }).users.map((u) => u.userId)).toEqual(["u-1"]);
    const since = await send(gateway.url, "GET", `/v1/users?createdAfter=${encodeURIComponent("2026-03-01T00:00:00+01:00")}`);
    expect((since.json as { users: Array<{ userId: string }> }).users.map((u) => u.userId)).not.toContain("u-1");
  });

  it("`+` in a query value is a space", async () => {
    // With a + decoded as a space the timestamp has a bad offset separator; as "+" it is valid.
    const plusAsSpace = await send(gateway.url, "GET", "/v1/users?createdAfter=2026-03-01T00:00:00+01:00");
    expect(plusAsSpace.status).toBe(400);
    expect((plusAsSpace.json as { message: string }).message).toContain("createdAfter");
    const encodedPlus = await send(gateway.url, "GET", "/v1/users?createdAfter=2026-03-01T00:00:00%2B01:00");
    expect(encodedPlus.status).toBe(200);
  });

  it("POST with body: field; PATCH with a nested path variable and a FieldMask query parameter", async () => {
    const created = await sendJson(gateway.url, "POST", "/v1/users", { displayName: "Edsger", email: "ew@example.com", tags: ["go-to"], labels: { k: "v" } });
    expect(created.status).toBe(201);
    const id = (created.json as { userId: string }).userId;
    const patched = await sendJson(gateway.url, "PATCH", `/v1/users/${id}?updateMask=displayName,labels`, { displayName: "E. W. Dijkstra", email: "ignored@example.com", labels: { a: "b" } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ userId: id, displayName: "E. W. Dijkstra", email: "ew@example.com", labels: { a: "b" } });
  });

  it("writes map entries and Struct keys sorted, whatever order the backend holds them in", async () => {
    const created = await sendJson(gateway.url, "POST", "/v1/users", { displayName: "Order", email: "order@example.com", labels: { zone: "z", alpha: "a", mid: "m" }, profile: { zeta: 1, alpha: { y: 2, b: 3 } } });
    expect(created.status).toBe(201);
    const id = (created.json as { userId: string }).userId;
    const fetched = await send(gateway.url, "GET", `/v1/users/${id}`);
    expect(fetched.text).toContain('"labels":{"alpha":"a","mid":"m","zone":"z"}');
    expect(fetched.text).toContain('"profile":{"alpha":{"b":3,"y":2},"zeta":1}');
    expect((await send(gateway.url, "GET", `/v1/users/${id}`)).text).toBe(fetched.text);
  });

  it("DELETE answers 204 without a body ((protogate.v1.success) on DeleteUser)", async () => {
    const created = await sendJson(gateway.url, "POST", "/v1/users", { displayName: "Temp", email: "temp@example.com" });
    const id = (created.json as { userId: string }).userId;
    const deleted = await send(gateway.url, "DELETE", `/v1/users/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect((await send(gateway.url, "GET", `/v1/users/${id}`)).status).toBe(404);
  });

  it("custom verb with body: '*'", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users:search", { query: "grace", pageSize: 5 });
    expect(response.status).toBe(200);
    expect((response.json as { users: Array<{ userId: string }> }).users.map((u) => u.userId)).toEqual(["u-2"]);
  });

  it("multi-segment resource names, additional_bindings and response_body", async () => {
    const byName = await send(gateway.url, "GET", "/v1/users/u-1/orders/o-1");
    expect(byName.status).toBe(200);
    expect(byName.json).toMatchObject({ name: "users/u-1/orders/o-1", state: "ORDER_STATE_PENDING", deliveryWindow: "172800s" });
    const items = await send(gateway.url, "GET", "/v1/users/u-1/orders/o-1/items");
    expect(items.json).toEqual((byName.json as { items: unknown[] }).items);
    const list = await send(gateway.url, "GET", "/v1/users/u-1/orders?states=ORDER_STATE_PAID");
    expect((list.json as { orders: Array<{ name: string }> }).orders.map((o) => o.name)).toEqual(["users/u-1/orders/o-2"]);
  });

  it("an additional binding whose variable is one segment gets %2F decoded", async () => {
    const response = await send(gateway.url, "GET", "/v1/orders/users%2Fu-1%2Forders%2Fo-1");
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ name: "users/u-1/orders/o-1" });
  });

  it("POST with body field into a path-scoped parent, oneof, bytes and double", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users/u-2/orders", {
      items: [{ sku: "PEN-9", quantity: 3, unitPrice: { currencyCode: "EUR", units: "2", nanos: 0 } }],
      pickupStore: "Berlin Mitte",
      note: Buffer.from("fragile").toString("base64url"),
      discountRate: 0.1,
    });
    expect(response.status).toBe(201);
    const order = response.json as Record<string, unknown>;
    expect(order.name).toMatch(/^users\/u-2\/orders\//);
    expect(order).toMatchObject({ pickupStore: "Berlin Mitte", note: Buffer.from("fragile").toString("base64"), discountRate: 0.1 });
    expect(order).not.toHaveProperty("shippingAddress");
  });

  it("setting two members of a oneof is a 400 naming the field", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users/u-2/orders", { shippingAddress: "a", pickupStore: "b" });
    expect(response.status).toBe(400);
    expect((response.json as { message: string }).message).toMatch(/pickupStore|shippingAddress|delivery/);
  });

  it("an upstream FAILED_PRECONDITION is a 400 with its details", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users/u-1/orders/o-2:cancel", { reason: "too late" });
    expect(response.status).toBe(400);
    expect((response.json as { code: number }).code).toBe(9);
  });

  it("upstream INVALID_ARGUMENT details are decoded into JSON Any values", async () => {
    // Set (so the gateway's REQUIRED check passes), but not an address: the backend refuses it.
    const response = await sendJson(gateway.url, "POST", "/v1/users", { displayName: "No Mail", email: "not-an-address" });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      code: 3,
      details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field: "user.email" }] }],
    });
  });

  it("google.api.HttpBody: raw response with its content type, raw upload of any content type", async () => {
    const receipt = await send(gateway.url, "GET", "/v1/payments/p-1/receipt");
    expect(receipt.status).toBe(200);
    expect(receipt.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(receipt.text).toContain("Receipt for payment p-1");

    const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x10]);
    const upload = await send(gateway.url, "PUT", "/v1/payments/p-1/attachment", { headers: { "content-type": "application/pdf" }, body: pdf });
    expect(upload.status).toBe(200);
    expect(upload.json).toEqual({ paymentId: "p-1", contentType: "application/pdf", sizeBytes: String(pdf.length) });
    const back = await fetch(`${gateway.url}/v1/archive/attachments/p-1`);
    expect(back.headers.get("content-type")).toBe("application/pdf");
    expect(Buffer.from(await back.arrayBuffer())).toEqual(pdf);
  });

  it("a ** variable binds several segments and keeps %2F encoded", async () => {
    const ok = await send(gateway.url, "GET", "/v1/archive/2026/11/receipt-p-1.txt");
    expect(ok.status).toBe(200);
    const encoded = await send(gateway.url, "GET", "/v1/archive/2026%2F11/receipt-p-1.txt");
    // The backend receives "2026%2F11/receipt-p-1.txt", which is not an archive path.
    expect(encoded.status).toBe(404);
    expect((encoded.json as { message: string }).message).toContain("2026%2F11/receipt-p-1.txt");
  });

  it("404 for no route and 405 with Allow for a wrong method", async () => {
    const missing = await send(gateway.url, "GET", "/v2/nothing");
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 5, details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "PG_ERR_ROUTE_NOT_FOUND", domain: "protogate" }] });
    const wrongMethod = await send(gateway.url, "PUT", "/v1/users/u-1");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("DELETE, GET, PATCH");
  });

  it("a trailing slash is ignored", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1/");
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ userId: "u-1" });
  });
});

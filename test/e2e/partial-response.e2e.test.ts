import { describe, expect, it } from "vitest";
import { demoGatewayForSuite, send } from "./support/gateway-harness.js";

/** The `fields` query parameter (partial responses) through the real server to the demo services. */
describe("partial responses: ?fields=", () => {
  const gateway = demoGatewayForSuite();

  it("keeps only the named fields, in the message's order, proto or JSON names alike", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1?fields=role,userId,display_name");
    expect(response.status).toBe(200);
    expect(response.text).toBe('{"userId":"u-1","displayName":"Ada Lovelace","role":"ROLE_ADMIN"}');
  });

  it("nested paths inside a Struct-free message and repeated paths element by element", async () => {
    const response = await send(gateway.url, "GET", "/v1/users?fields=users.userId,users.role,nextPageToken&pageSize=2");
    expect(response.status).toBe(200);
    const users = (response.json as { users: Array<Record<string, unknown>> }).users;
    expect(users).toHaveLength(2);
    for (const user of users) expect(Object.keys(user).sort()).toEqual(["role", "userId"].filter((key) => key in user).sort());
    expect(users.map((user) => user.userId)).toEqual(["u-1", "u-2"]);
  });

  it("nested message paths (an order's total inside each line item list)", async () => {
    const full = await send(gateway.url, "GET", "/v1/users/u-1/orders/o-1");
    const order = full.json as { items: Array<{ sku: string; unitPrice?: unknown }>; total: { currencyCode: string } };
    const response = await send(gateway.url, "GET", "/v1/users/u-1/orders/o-1?fields=total.currencyCode,items.sku");
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ items: order.items.map((item) => ({ sku: item.sku })), total: { currencyCode: order.total.currencyCode } });
  });

  it("several fields parameters add up", async () => {
    const { email } = (await send(gateway.url, "GET", "/v1/users/u-1")).json as { email: string };
    const response = await send(gateway.url, "GET", "/v1/users/u-1?fields=userId&fields=email");
    expect(response.json).toEqual({ userId: "u-1", email });
  });

  it("applies to a repeated response_body element by element", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1/orders/o-1/items?fields=sku");
    expect(response.status).toBe(200);
    const items = response.json as Array<Record<string, unknown>>;
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(Object.keys(item)).toEqual(["sku"]);
  });

  it.each([
    ["/v1/users/u-1?fields=userId,nope", "nope", /demo\.v1\.User has no field "nope"/],
    ["/v1/users/u-1?fields=profile.city", "profile.city", /"profile" has no subfields/],
    ["/v1/users?fields=users.nope.x", "users.nope.x", /demo\.v1\.User has no field "nope"/],
    ["/v1/users/u-1?fields=", "", /names no field/],
  ])("%s is a 400 INVALID_ARGUMENT naming the path, with a BadRequest detail, before any backend call", async (path, bad, message) => {
    const response = await send(gateway.url, "GET", path);
    expect(response.status).toBe(400);
    const status = response.json as { code: number; message: string; details: Array<Record<string, unknown>> };
    expect(status.code).toBe(3);
    expect(status.message).toMatch(message);
    expect(status.message).toContain(JSON.stringify(bad));
    const badRequest = status.details.find((detail) => detail["@type"] === "type.googleapis.com/google.rpc.BadRequest") as { fieldViolations: Array<{ field: string; description: string }> };
    expect(badRequest.fieldViolations[0]).toMatchObject({ field: "fields" });
    expect(badRequest.fieldViolations[0]!.description).toMatch(message);
  });

  it("a raw (HttpBody) response has no fields to select: 400 saying so", async () => {
    const response = await send(gateway.url, "GET", "/v1/payments/p-1/receipt?fields=data");
    expect(response.status).toBe(400);
    expect((response.json as { message: string }).message).toMatch(/has no fields to select/);
  });

  it("without fields the response is unchanged", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1");
    expect(Object.keys(response.json as object).length).toBeGreaterThan(3);
  });
});

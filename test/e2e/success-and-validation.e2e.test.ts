import { status as grpcStatus, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { demoGatewayForSuite, send, sendJson, startTestGateway, startUserBackend } from "./support/gateway-harness.js";

const BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";

/** The BadRequest detail's field paths of an error body. */
function violations(json: unknown): string[] {
  const details = (json as { details: Array<{ "@type": string; fieldViolations?: Array<{ field: string }> }> }).details;
  return details.filter((d) => d["@type"] === BAD_REQUEST).flatMap((d) => (d.fieldViolations ?? []).map((v) => v.field));
}

function reason(json: unknown): string | undefined {
  const details = (json as { details: Array<{ "@type": string; reason?: string }> }).details;
  return details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo")?.reason;
}

const ITEM = { sku: "PEN-9", quantity: 3, unitPrice: { currencyCode: "EUR", units: "2", nanos: 0 } };

/** (protogate.v1.success) and field behaviors, through the real server to the real demo backends. */
describe("success statuses and request validation against the demo services", () => {
  const gateway = demoGatewayForSuite();

  it("CreateOrder answers 201 with the Location of the created order", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users/u-2/orders", { items: [ITEM] });
    expect(response.status).toBe(201);
    const name = (response.json as { name: string }).name;
    expect(name).toMatch(/^users\/u-2\/orders\/o-\d+$/);
    expect(response.headers.get("location")).toBe(`/v1/${name}`);
    // The Location names what was created: following it finds the order.
    const fetched = await send(gateway.url, "GET", response.headers.get("location") ?? "");
    expect(fetched.status).toBe(200);
    expect((fetched.json as { name: string }).name).toBe(name);
  });

  it("CreateUser answers 201 with /v1/users/{user_id}; DeleteUser answers 204 without body or Content-Type", async () => {
    const created = await sendJson(gateway.url, "POST", "/v1/users", { displayName: "Temp", email: "temp-201@example.com" });
    expect(created.status).toBe(201);
    const id = (created.json as { userId: string }).userId;
    expect(created.headers.get("location")).toBe(`/v1/users/${id}`);
    const deleted = await send(gateway.url, "DELETE", `/v1/users/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect(deleted.headers.get("content-type")).toBeNull();
    expect((await send(gateway.url, "DELETE", `/v1/users/${id}`)).status).toBe(404);
  });

  it("lists every missing REQUIRED field, nested and repeated, by JSON name, before the backend is called", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users/u-2/orders", { items: [ITEM, { quantity: 1 }, { sku: "X", quantity: 0, unitPrice: {} }] });
    expect(response.status).toBe(400);
    expect(reason(response.json)).toBe("PG_ERR_REQUIRED_FIELD");
    expect(violations(response.json)).toEqual(["order.items[1].sku", "order.items[1].unitPrice", "order.items[2].quantity"]);
    expect((response.json as { message: string }).message).toContain("order.items[1].sku");
    // An empty body still sets `order` (an empty message): its own REQUIRED field is missing.
    const empty = await sendJson(gateway.url, "POST", "/v1/users/u-2/orders", {});
    expect(violations(empty.json)).toEqual(["order.items"]);
  });

  it("a REQUIRED message field that is absent is reported, its own fields are not", async () => {
    const response = await send(gateway.url, "POST", "/v1/users", { headers: { "content-type": "application/json" } });
    // No body: `user` is set to an empty message by the body rule, so its fields are missing.
    expect(violations(response.json)).toEqual(["user.displayName", "user.email"]);
  });

  it("drops OUTPUT_ONLY fields from input: the server's values win", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users/u-2/orders", { items: [ITEM], name: "users/u-2/orders/mine", state: "ORDER_STATE_PAID", total: { currencyCode: "EUR", units: "1" } });
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({ state: "ORDER_STATE_PENDING", total: { currencyCode: "EUR", units: "6" } });
    expect((response.json as { name: string }).name).not.toBe("users/u-2/orders/mine");
  });

  it("the PATCH of a resource is a partial update: the resource's REQUIRED fields are not demanded", async () => {
    const response = await sendJson(gateway.url, "PATCH", "/v1/users/u-3", { nickname: "Gee" });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ userId: "u-3", nickname: "Gee" });
  });
});

describe("OUTPUT_ONLY fields rejected by config", () => {
  const gateway = demoGatewayForSuite({ transcoding: { outputOnlyFields: "reject" } });

  it("is a 400 naming each output-only field the request sets", async () => {
    const response = await sendJson(gateway.url, "POST", "/v1/users/u-2/orders", { items: [{ ...ITEM }], name: "x", createTime: "2026-01-01T00:00:00Z" });
    expect(response.status).toBe(400);
    expect(reason(response.json)).toBe("PG_ERR_OUTPUT_ONLY_FIELD");
    expect(violations(response.json)).toEqual(["order.name", "order.createTime"]);
    expect((await sendJson(gateway.url, "POST", "/v1/users/u-2/orders", { items: [ITEM] })).status).toBe(201);
  });
});

describe("PATCH with an empty FieldMask", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;

  beforeAll(async () => {
    const echo = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const { user } = call.request as { user?: Record<string, unknown> };
      if (user === undefined) return callback({ code: grpcStatus.INVALID_ARGUMENT, details: "no user" });
      callback(null, user);
    };
    backend = await startUserBackend({ updateUser: echo, deleteUser: (_call, callback) => callback(null, {}) });
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  /** The update_mask paths the backend received on its last call. */
  const lastMask = (): string[] | undefined => (backend.calls.at(-1)?.request as { updateMask?: string[] }).updateMask;

  it("is filled from the body's fields: nested paths, proto names; maps, lists, Struct and wrappers as leaves; path-bound and output-only fields left out", async () => {
    const response = await sendJson(gateway.url, "PATCH", "/v1/users/u-1", {
      userId: "u-other",
      displayName: "Ada",
      labels: { team: "x" },
      tags: [],
      profile: { city: { name: "London" } },
      nickname: "Countess",
      createTime: "2026-01-01T00:00:00Z",
    });
    expect(response.status).toBe(200);
    expect(lastMask()).toEqual(["display_name", "labels", "nickname", "profile", "tags"]);
    // The path names the resource, whatever the body said.
    expect((backend.calls.at(-1)?.request as { user: { userId: string } }).user.userId).toBe("u-1");
  });

  it("is left as the client sent it when not empty", async () => {
    await sendJson(gateway.url, "PATCH", "/v1/users/u-1?updateMask=email", { displayName: "Ada", email: "a@example.com" });
    expect(lastMask()).toEqual(["email"]);
  });

  it("stays empty for an empty body", async () => {
    await sendJson(gateway.url, "PATCH", "/v1/users/u-1", {});
    expect(lastMask() ?? []).toEqual([]);
  });

  it("a 204 from a recorded backend has no body either", async () => {
    const response = await send(gateway.url, "DELETE", "/v1/users/u-1");
    expect(response.status).toBe(204);
    expect(response.text).toBe("");
  });
});

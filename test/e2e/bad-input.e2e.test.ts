import { status } from "@grpc/grpc-js";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { send, sendJson, startTestGateway, startUserBackend, type TestResponse } from "./support/gateway-harness.js";

/** Every error body is a google.rpc.Status naming what was wrong. */
function expectStatus(response: TestResponse, httpStatus: number, grpcCode: number, messagePart: string | RegExp): void {
  expect(response.status, response.text).toBe(httpStatus);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = response.json as { code: number; message: string; details: unknown[] };
  expect(body.code).toBe(grpcCode);
  if (typeof messagePart === "string") expect(body.message).toContain(messagePart);
  else expect(body.message).toMatch(messagePart);
  expect(Array.isArray(body.details)).toBe(true);
}

describe("bad input gets a clear error and the gateway keeps serving", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;
  let base: string;

  beforeAll(async () => {
    backend = await startUserBackend({
      getUser: (call, callback) => {
        const { userId } = call.request as { userId: string };
        if (userId === "hang") return; // never answers: the deadline must fire
        callback(null, { userId, displayName: "Ada", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0", createTime: undefined, profile: undefined, nickname: undefined });
      },
      listUsers: (call, callback) => {
        if ((call.request as { pageToken: string }).pageToken === "hang") return;
        callback(null, { users: [], nextPageToken: "" });
      },
      createUser: (call, callback) => callback(null, (call.request as { user: unknown }).user ?? {}),
    });
    gateway = await startTestGateway(
      { "demo.v1.UserService": backend.address, "demo.v1.OrderService": "127.0.0.1:1" },
      { deadlines: { defaultMs: 5_000, rules: [{ selector: "demo.v1.UserService.GetUser", ms: 400 }] }, server: { bodyLimitBytes: 1024 * 1024 } },
    );
    base = gateway.url;
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it.each([
    // POST /v1/users has `body: "user"`: the body is the User message itself.
    ["malformed JSON", "{\"displayName\": ", /JSON/i],
    ["a JSON array where an object is expected", "[1,2]", /object/i],
    ["JSON nested 10,000 deep", `{"profile":{"a":${"[".repeat(10_000)}${"]".repeat(10_000)}}}`, /depth|nest|deep/i],
    ["an unknown field", JSON.stringify({ displayName: "x", shoeSize: 42 }), "shoeSize"],
    ["a 64-bit integer out of range", JSON.stringify({ balanceCents: "9223372036854775808" }), "balanceCents"],
    ["a fractional 64-bit integer", JSON.stringify({ balanceCents: 1.5 }), "balanceCents"],
    ["an impossible timestamp", JSON.stringify({ createTime: "2026-02-30T10:00:00Z" }), "createTime"],
    ["a bad enum name", JSON.stringify({ role: "ROLE_EMPEROR" }), "role"],
    ["a string where a list is expected", JSON.stringify({ tags: "not-a-list" }), "tags"],
    ["a number where a string is expected", JSON.stringify({ email: 42 }), "email"],
  ])("POST with %s -> 400 naming the problem", async (_name, body, message) => {
    const response = await sendJson(base, "POST", "/v1/users", body);
    expectStatus(response, 400, status.INVALID_ARGUMENT, message);
  });

  it("bad base64 in a bytes field -> 400 naming the field", async () => {
    const response = await sendJson(base, "POST", "/v1/users/u-1/orders", { note: "***not base64***" });
    // OrderService has a dead upstream, but the request is rejected before any call.
    expectStatus(response, 400, status.INVALID_ARGUMENT, "note");
  });

  it("a body route without a JSON content type -> 415", async () => {
    const response = await send(base, "POST", "/v1/users", { headers: { "content-type": "text/plain" }, body: "{}" });
    expectStatus(response, 415, status.INVALID_ARGUMENT, /content-type|media type/i);
  });

  it("a 50 MiB body -> 413, and the gateway still serves", async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x20);
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${base}/v1/users`);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": big.length } }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      // The gateway may answer and close before the whole body is written.
      req.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
      req.end(big);
    });
    expect(response.status).toBe(413);
    expect((JSON.parse(response.body) as { code: number }).code).toBe(status.RESOURCE_EXHAUSTED);
    const after = await send(base, "GET", "/v1/users/u-1");
    expect(after.status).toBe(200);
  });

  it("invalid percent-encoding in the path -> 400", async () => {
    const response = await send(base, "GET", "/v1/users/%zz");
    expectStatus(response, 400, status.INVALID_ARGUMENT, /percent|encod/i);
  });

  it("a repeated query parameter for a singular field -> 400 naming it", async () => {
    const response = await send(base, "GET", "/v1/users?pageSize=1&pageSize=2");
    expectStatus(response, 400, status.INVALID_ARGUMENT, "pageSize");
  });

  it("a query parameter that names no field -> 400 naming it", async () => {
    const response = await send(base, "GET", "/v1/users?colour=blue");
    expectStatus(response, 400, status.INVALID_ARGUMENT, "colour");
  });

  it("a query parameter for a path-bound field never overwrites it -> 400", async () => {
    const response = await send(base, "GET", "/v1/users/u-1?userId=u-2");
    expect(response.status).toBe(400);
    expect(backend.calls.filter((c) => (c.request as { userId?: string }).userId === "u-2")).toEqual([]);
  });

  it("an upstream that is down -> 503 UNAVAILABLE", async () => {
    const response = await send(base, "GET", "/v1/users/u-1/orders/o-1");
    expectStatus(response, 503, status.UNAVAILABLE, "unavailable");
  });

  it("an upstream that hangs -> 504 after the route's deadline", async () => {
    const response = await send(base, "GET", "/v1/users/hang");
    expectStatus(response, 504, status.DEADLINE_EXCEEDED, "deadline");
  });

  it("a client grpc-timeout shorter than the route's deadline is honoured", async () => {
    // ListUsers has the 5 s default; the client's 100 ms must win by far.
    const started = Date.now();
    const response = await send(base, "GET", "/v1/users?pageToken=hang", { headers: { "grpc-timeout": "100m" } });
    expectStatus(response, 504, status.DEADLINE_EXCEEDED, "deadline of 100 ms");
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("a malformed grpc-timeout -> 400", async () => {
    const response = await send(base, "GET", "/v1/users/u-1", { headers: { "grpc-timeout": "soon" } });
    expectStatus(response, 400, status.INVALID_ARGUMENT, /timeout/i);
  });

  it("a request line that is not HTTP is refused without harming the server", async () => {
    const url = new URL(base);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.end("THIS IS NOT HTTP\r\n\r\n"));
      let text = "";
      socket.setEncoding("utf8").on("data", (c: string) => (text += c)).on("close", () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await send(base, "GET", "/v1/users/u-1")).status).toBe(200);
  });

  it("still serves after all of the above", async () => {
    const response = await send(base, "GET", "/v1/users/u-1");
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ userId: "u-1", displayName: "Ada" });
  });
});

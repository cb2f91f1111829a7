import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { send, startTestGateway, startUserBackend, getUserOrNotFound } from "./support/gateway-harness.js";
import { sendRaw } from "./support/raw-http.js";
import { watchExchanges } from "./support/exchange-watch.js";

describe("request IDs and the exchange record, end to end", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;
  const observed = watchExchanges();
  let nextId = 0;

  beforeAll(async () => {
    backend = await startUserBackend({
      getUser: getUserOrNotFound,
    });
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address }, {}, { observe: { observers: [observed.observer], newRequestId: () => `gen-${++nextId}` } });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  const requestIdsSeenUpstream = () => backend.calls.at(-1)?.metadata.get("x-request-id");

  it("a sane client x-request-id is kept: in the response, sent upstream once, on the exchange", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1", { headers: { "x-request-id": "req-42" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("req-42");
    expect(requestIdsSeenUpstream()).toEqual(["req-42"]);
    const [exchange] = await observed.next(1);
    expect({ id: exchange.requestId, status: exchange.status, code: exchange.grpcCode, upstreamCode: exchange.upstreamCode, rpc: exchange.binding?.rpcPath, route: exchange.binding?.pattern }).toEqual({
      id: "req-42",
      status: 200,
      code: 0,
      upstreamCode: 0,
      rpc: "/demo.v1.UserService/GetUser",
      route: "/v1/users/{user_id}",
    });
    expect(exchange.bytesOut).toBe(Buffer.byteLength(response.text));
    expect(exchange.upstreamMs).toBeGreaterThanOrEqual(0);
    expect(exchange.durationMs).toBeGreaterThanOrEqual(exchange.upstreamMs ?? Infinity);
  });

  it.each([
    ["with a space", "bad id"],
    ["too long", "x".repeat(129)],
    ["with a comma", "a,b"],
  ])("a client x-request-id %s is replaced by a generated one, everywhere", async (_name, header) => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1", { headers: { "x-request-id": header } });
    const generated = response.headers.get("x-request-id");
    expect(generated).toMatch(/^gen-\d+$/);
    expect(requestIdsSeenUpstream()).toEqual([generated]);
    expect((await observed.next(1))[0].requestId).toBe(generated);
  });

  it("two x-request-id headers are not a sane one: a generated ID, neither of the client's", async () => {
    const response = await sendRaw(gateway.url, "GET", "/v1/users/u-1", [["x-request-id", "one"], ["x-request-id", "two"]]);
    expect(response.headers.get("x-request-id")).toMatch(/^gen-\d+$/);
    expect(requestIdsSeenUpstream()).toEqual([response.headers.get("x-request-id")]);
    await observed.next(1);
  });

  it("an error the gateway raises (no route): the ID in the header and the body's RequestInfo, the outcome on the exchange", async () => {
    const response = await send(gateway.url, "GET", "/v1/nowhere", { headers: { "x-request-id": "req-404" } });
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text).details.at(-1)).toEqual({ "@type": "type.googleapis.com/google.rpc.RequestInfo", requestId: "req-404" });
    const [exchange] = await observed.next(1);
    expect({ status: exchange.status, code: exchange.grpcCode, reason: exchange.error?.reason, binding: exchange.binding, upstream: exchange.upstreamStartedAt }).toEqual({
      status: 404,
      code: 5,
      reason: "PG_ERR_ROUTE_NOT_FOUND",
      binding: undefined,
      upstream: undefined,
    });
  });

  it("an upstream's error: its code is the upstream's and the exchange's, the body names the request", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/missing", { headers: { "x-request-id": "req-missing" } });
    expect(response.status).toBe(404);
    expect(response.json).toEqual({ code: 5, message: "no such user", details: [] });
    const [exchange] = await observed.next(1);
    expect({ status: exchange.status, code: exchange.grpcCode, upstreamCode: exchange.upstreamCode, id: exchange.requestId }).toEqual({ status: 404, code: 5, upstreamCode: 5, id: "req-missing" });
  });

  it("a request refused before the pipeline (a malformed path) is an exchange too, with its ID", async () => {
    const response = await sendRaw(gateway.url, "GET", "/v1/users/%zz", [["x-request-id", "req-bad-path"]]);
    expect(response.status).toBe(400);
    expect(response.headers.get("x-request-id")).toBe("req-bad-path");
    const [exchange] = await observed.next(1);
    expect({ status: exchange.status, code: exchange.grpcCode, reason: exchange.error?.reason }).toEqual({ status: 400, code: 3, reason: "PG_ERR_BAD_PATH" });
  });

  it("a request Node's parser refuses (headers too large) is an exchange too: the recorder's request ID, a RequestInfo", async () => {
    const response = await sendRaw(gateway.url, "GET", "/v1/users/u-1", [["x-big", "y".repeat(20_000)]]);
    expect(response.status).toBe(431);
    // sendRaw checked that the body's RequestInfo names the header's ID.
    const id = response.headers.get("x-request-id");
    expect(id).toMatch(/^gen-\d+$/);
    const [exchange] = await observed.next(1);
    expect({ id: exchange.requestId, status: exchange.status, reason: exchange.error?.reason }).toEqual({ id, status: 431, reason: "PG_ERR_HEADERS_TOO_LARGE" });
  });
});

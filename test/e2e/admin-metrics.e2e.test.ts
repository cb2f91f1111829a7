import { status, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { message, startChatBackend } from "./support/chat-backend.js";
import { send, startTestGateway, startUserBackend } from "./support/gateway-harness.js";
import { runProtogate, waitForListening, waitForOutput } from "./support/processes.js";
import { watchExchanges } from "./support/exchange-watch.js";

const KEY = "metrics-test-key-0123456789";
const AUTH_CONFIG = {
  mode: "on",
  apiKeys: { keys: [{ sha256: hashApiKey(KEY), consumer: "tester", scopes: [] }] },
  rules: [
    { selector: "demo.v1.UserService.*", public: false },
    { selector: "demo.v1.ChatService.*", public: true },
  ],
};
/** ListUsers: 3 requests, then 429. */
const LIMITS = { limits: [{ name: "list-users", key: "global", requests: 3, periodSeconds: 3600, methods: ["demo.v1.UserService.ListUsers"] }] };
const STREAMED = 5;
const user = (userId: string) => ({ userId, displayName: "User", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });

/** The samples of one metric family in a Prometheus text page: `name{labels} value` lines, sorted. */
function family(page: string, name: string): string[] {
  return page
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .sort();
}

async function scrape(gateway: RunningGateway): Promise<string> {
  const response = await fetch(`${gateway.adminUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

let release: (() => void) | undefined;
let slowCallArrived: (() => void) | undefined;
const users = await startUserBackend({
  getUser: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const id = (call.request as { userId: string }).userId;
    if (id === "missing") return callback({ code: status.NOT_FOUND, details: "no such user" });
    if (id === "slow") {
      release = () => callback(null, user(id));
      slowCallArrived?.();
      return;
    }
    callback(null, user(id));
  },
  listUsers: (_call, callback) => callback(null, { users: [], nextPageToken: "" }),
});
const chat = await startChatBackend({
  subscribe: (call) => {
    for (let i = 1; i <= STREAMED; i++) call.write(message(i));
    call.end();
  },
});
const upstreams = { "demo.v1.UserService": users.address, "demo.v1.ChatService": chat.address };
afterAll(async () => {
  await users.close();
  await chat.close();
});

describe("metrics after a known sequence of requests", () => {
  let gateway: RunningGateway;
  const ended = watchExchanges();
  beforeAll(async () => {
    gateway = await startTestGateway(upstreams, { auth: AUTH_CONFIG, rateLimits: LIMITS }, { observe: { observers: [ended.observer] } });
  });
  afterAll(() => gateway.close());

  it("counts every request, upstream call, refusal, limit decision and stream message exactly", async () => {
    const auth = { headers: { "x-api-key": KEY } };
    const statuses: number[] = [];
    const call = async (path: string, init: { headers: Record<string, string> } = auth) => statuses.push((await send(gateway.url, "GET", path, init)).status);
    await call("/v1/users/u-1");
    await call("/v1/users/u-2");
    await call("/v1/users/missing"); // upstream NOT_FOUND
    await call("/no/such/route"); // unmatched
    await call("/v1/users/u-1", { headers: {} }); // 401: no credential
    for (let i = 0; i < 4; i++) await call("/v1/users"); // 3 admitted, then 429
    const stream = await send(gateway.url, "GET", "/v1/rooms/lobby/messages:subscribe");
    statuses.push(stream.status);
    expect(statuses).toEqual([200, 200, 404, 404, 401, 200, 200, 200, 429, 200]);
    expect(stream.text.trim().split("\n")).toHaveLength(STREAMED);
    await ended.reached(statuses.length);

    const page = await scrape(gateway);
    expect(family(page, "protogate_http_requests_total")).toEqual(
      [
        'protogate_http_requests_total{method="GET",route="/v1/users/{user_id}",status="200",grpc_code="OK"} 2',
        'protogate_http_requests_total{method="GET",route="/v1/users/{user_id}",status="404",grpc_code="NOT_FOUND"} 1',
        'protogate_http_requests_total{method="GET",route="/v1/users/{user_id}",status="401",grpc_code="UNAUTHENTICATED"} 1',
        'protogate_http_requests_total{method="GET",route="unmatched",status="404",grpc_code="NOT_FOUND"} 1',
        'protogate_http_requests_total{method="GET",route="/v1/users",status="200",grpc_code="OK"} 3',
        'protogate_http_requests_total{method="GET",route="/v1/users",status="429",grpc_code="RESOURCE_EXHAUSTED"} 1',
        'protogate_http_requests_total{method="GET",route="/v1/rooms/{room}/messages:subscribe",status="200",grpc_code="OK"} 1',
      ].sort(),
    );
    expect(family(page, "protogate_upstream_requests_total")).toEqual(
      [
        'protogate_upstream_requests_total{service="demo.v1.UserService",rpc="GetUser",grpc_code="OK"} 2',
        'protogate_upstream_requests_total{service="demo.v1.UserService",rpc="GetUser",grpc_code="NOT_FOUND"} 1',
        'protogate_upstream_requests_total{service="demo.v1.UserService",rpc="ListUsers",grpc_code="OK"} 3',
        'protogate_upstream_requests_total{service="demo.v1.ChatService",rpc="Subscribe",grpc_code="OK"} 1',
      ].sort(),
    );
    expect(family(page, "protogate_auth_failures_total")).toEqual(['protogate_auth_failures_total{reason="missing"} 1']);
    expect(family(page, "protogate_rate_limit_decisions_total")).toEqual(
      ['protogate_rate_limit_decisions_total{policy="list-users",decision="admitted"} 3', 'protogate_rate_limit_decisions_total{policy="list-users",decision="limited"} 1'].sort(),
    );
    expect(family(page, "protogate_stream_messages_total")).toEqual(
      [
        'protogate_stream_messages_total{route="/v1/rooms/{room}/messages:subscribe",direction="sent"} 1',
        `protogate_stream_messages_total{route="/v1/rooms/{room}/messages:subscribe",direction="received"} ${STREAMED}`,
      ].sort(),
    );
    expect(family(page, "protogate_http_request_duration_seconds_count")).toEqual(
      [
        'protogate_http_request_duration_seconds_count{method="GET",route="/v1/users/{user_id}"} 4',
        'protogate_http_request_duration_seconds_count{method="GET",route="unmatched"} 1',
        'protogate_http_request_duration_seconds_count{method="GET",route="/v1/users"} 4',
        'protogate_http_request_duration_seconds_count{method="GET",route="/v1/rooms/{room}/messages:subscribe"} 1',
      ].sort(),
    );
    expect(family(page, "protogate_upstream_request_duration_seconds_count")).toEqual(
      [
        'protogate_upstream_request_duration_seconds_count{service="demo.v1.UserService",rpc="GetUser"} 3',
        'protogate_upstream_request_duration_seconds_count{service="demo.v1.UserService",rpc="ListUsers"} 3',
        'protogate_upstream_request_duration_seconds_count{service="demo.v1.ChatService",rpc="Subscribe"} 1',
      ].sort(),
    );
    // Every request in the +Inf bucket of its histogram.
    expect(page).toContain('protogate_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/users"} 4');
    expect(family(page, "protogate_http_requests_in_flight")).toEqual(["protogate_http_requests_in_flight 0"]);
    expect(family(page, "protogate_streams_open")).toEqual(["protogate_streams_open 0"]);
    expect(family(page, "protogate_rate_limit_store_up")).toEqual(["protogate_rate_limit_store_up 1"]);
    // prom-client's process metrics, from this gateway's registry.
    expect(page).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(page).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it("a flood of random paths and methods keeps the number of series bounded", async () => {
    const before = family(await scrape(gateway), "protogate_http_requests_total").length;
    const methods = ["GET", "POST", "PROPFIND", "BREW", "DELETE"];
    for (let i = 0; i < 200; i++) {
      const path = `/random/${i}/${(i * 7919).toString(36)}`;
      await send(gateway.url, methods[i % methods.length], path);
    }
    const lines = family(await scrape(gateway), "protogate_http_requests_total");
    // At most one new series per method label and status: GET/POST/DELETE 404, other 501.
    expect(lines.length - before).toBeLessThanOrEqual(4);
    expect(lines.every((line) => !line.includes("/random/"))).toBe(true);
    expect(lines.some((line) => line.includes('method="other",route="unmatched",status="501"'))).toBe(true);
  });

  it.each([
    { method: "GET", path: "/nope", status: 404, code: 5 },
    { method: "GET", path: "/metrics/x", status: 404, code: 5 },
    { method: "POST", path: "/metrics", status: 405, code: 12 },
    { method: "DELETE", path: "/readyz", status: 405, code: 12 },
  ])("the admin port answers $method $path with a Status body ($status)", async ({ method, path, status: expected, code }) => {
    const response = await send(gateway.adminUrl!, method, path);
    expect(response.status).toBe(expected);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.json).toMatchObject({ code, message: expect.any(String), details: expect.any(Array) });
  });

  it("/healthz answers 200; the public port does not serve the admin endpoints", async () => {
    expect((await fetch(`${gateway.adminUrl}/healthz`)).status).toBe(200);
    expect(gateway.adminUrl).not.toBe(gateway.url);
    const publicMetrics = await send(gateway.url, "GET", "/metrics");
    expect(publicMetrics.status).toBe(404);
    expect(publicMetrics.text).not.toContain("protogate_http_requests_total");
  });
});

describe("readiness", () => {
  let gateway: RunningGateway | undefined;
  afterEach(async () => {
    release?.();
    await gateway?.close();
    gateway = undefined;
  });

  it("is 200 while serving, with each upstream's state; 503 once close() starts draining, while a request is in flight", async () => {
    gateway = await startTestGateway(upstreams);
    await send(gateway.url, "GET", "/v1/users/u-1"); // connects the UserService upstream
    const ready = await fetch(`${gateway.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { ready: boolean; phase: string; upstreams: Array<{ service: string; address: string; state: string }> };
    expect(body).toMatchObject({ ready: true, phase: "serving" });
    expect(body.upstreams).toEqual(
      expect.arrayContaining([
        { service: "demo.v1.UserService", address: users.address, state: "ready" },
        { service: "demo.v1.ChatService", address: chat.address, state: "idle" },
      ]),
    );

    const arrived = new Promise<void>((resolve) => (slowCallArrived = resolve));
    const inFlight = send(gateway.url, "GET", "/v1/users/slow");
    await arrived;
    const closing = gateway.close();
    const draining = await fetch(`${gateway.adminUrl}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ ready: false, phase: "draining" });
    release!();
    expect((await inFlight).status).toBe(200);
    await closing;
    // Once closed, the admin listener is gone too.
    await expect(fetch(`${gateway.adminUrl}/healthz`)).rejects.toThrow();
  });

  it.each(["wire", "http2", "grpc-js"])("reports a %s upstream idle before its first call and ready after it", async (transport) => {
    gateway = await startTestGateway({}, { upstreams: { "demo.v1.UserService": { address: users.address, transport } } });
    const state = async () => ((await (await fetch(`${gateway!.adminUrl}/readyz`)).json()) as { upstreams: Array<{ state: string }> }).upstreams.map((u) => u.state);
    expect(await state()).toEqual(["idle"]);
    expect((await send(gateway.url, "GET", "/v1/users/u-1")).status).toBe(200);
    expect(await state()).toEqual(["ready"]);
  });

  it("admin.enabled: false starts no admin listener", async () => {
    gateway = await startTestGateway(upstreams, { admin: { enabled: false } });
    expect(gateway.adminUrl).toBeUndefined();
    expect((await send(gateway.url, "GET", "/v1/users/u-1")).status).toBe(200);
  });
});

describe("protogate serve --admin-port", () => {
  it("prints a second ready line with the admin URL, which serves /healthz and /metrics", async () => {
    const proc = runProtogate(["serve", "--generated", "generated", "--upstream", `demo.v1.UserService=${users.address}`, "--port", "0", "--admin-port", "0", "--auth", "off"]);
    try {
      const base = await waitForListening(proc);
      const [, admin] = await waitForOutput(proc, /protogate admin on (http:\/\/\S+)\n/);
      expect(proc.stdout()).toMatch(/^protogate listening on http:\/\/127\.0\.0\.1:\d+\nprotogate admin on http:\/\/127\.0\.0\.1:\d+\n/);
      expect(admin).not.toBe(base);
      expect((await fetch(`${admin}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/v1/users/u-1`)).status).toBe(200);
      const page = await (await fetch(`${admin}/metrics`)).text();
      expect(page).toContain('protogate_http_requests_total{method="GET",route="/v1/users/{user_id}",status="200",grpc_code="OK"} 1');
    } finally {
      proc.child.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    }
  });

  it("an admin port in use stops the start with a message naming --admin-port", async () => {
    const { createServer } = await import("node:net");
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const proc = runProtogate(["serve", "--generated", "generated", "--upstream", `demo.v1.UserService=${users.address}`, "--port", "0", "--admin-port", String(port), "--auth", "off"]);
      expect(await proc.exited).toBe(1);
      expect(proc.stderr()).toContain(`protogate: admin listener: cannot listen on 127.0.0.1:${port}: the port is in use; pick another with --admin-port`);
    } finally {
      holder.close();
    }
  });

  it("rejects a bad --admin-port", async () => {
    const proc = runProtogate(["serve", "--generated", "generated", "--admin-port", "99999"]);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toMatch(/--admin-port.*expected a port number/);
  });
});

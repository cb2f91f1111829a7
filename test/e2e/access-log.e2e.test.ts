import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerWritableStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { ChatMessage, SubscribeRequest } from "../../generated/demo/v1/chat.js";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { message, startChatBackend } from "./support/chat-backend.js";
import { send, startTestGateway, startUserBackend, getUserOrNotFound } from "./support/gateway-harness.js";
import { watchExchanges } from "./support/exchange-watch.js";
import { rawRequest } from "../attack/support/raw-socket.js";

/*
 * The access log end to end: a real gateway in front of real grpc-js backends, writing its log to
 * a temporary file that is read back after close() (which flushes it). A known sequence of
 * requests gives exactly one line each, with the right fields, and no secret anywhere in the file.
 */

const API_KEY = "pgk_access_log_e2e_key_0001";
const API_KEY_HEADER = "x-gateway-key";
const HMAC_SECRET = "access-log-e2e-hmac-secret-0123456789abcdef";
const WRONG_SECRET = "not-the-issuers-secret-0123456789abcdef0123";
const PROTOCOL_PREFIX = "base64url.bearer.authorization.protogate.";
const QUERY_SECRET = "qs-secret-5f4e3d2c1b";
const COOKIE_SECRET = "cookie-secret-9a8b7c6d";
const CREATE_BODY = JSON.stringify({ displayName: "Bo", email: "bo@example.com" });

const auth = {
  mode: "on",
  apiKeys: { header: API_KEY_HEADER, keys: [{ sha256: hashApiKey(API_KEY), consumer: "acme", scopes: ["users:write"] }] },
  jwt: { issuers: [{ issuer: "https://logs.test", audiences: ["protogate"], algorithms: ["HS256"], hmacSecret: HMAC_SECRET }] },
  tokenSources: [{ header: "authorization" }, { webSocketProtocol: PROTOCOL_PREFIX }],
};
const rateLimits = { limits: [{ name: "one-list", key: "caller", requests: 1, periodSeconds: 3600, methods: ["demo.v1.UserService.ListUsers"] }] };

async function token(secret: string): Promise<string> {
  const { SignJWT } = await import("jose");
  return new SignJWT({ sub: "ada" }).setProtectedHeader({ alg: "HS256" }).setIssuer("https://logs.test").setAudience("protogate").setIssuedAt().setExpirationTime("5m").sign(new TextEncoder().encode(secret));
}

type Line = Record<string, unknown>;

let users: Awaited<ReturnType<typeof startUserBackend>>;
let chat: Awaited<ReturnType<typeof startChatBackend>>;

beforeAll(async () => {
  users = await startUserBackend({
    getUser: getUserOrNotFound,
    listUsers: (_call, callback) => callback(null, { users: [], nextPageToken: "" }),
  });
  chat = await startChatBackend({
    subscribe: (call: ServerWritableStream<SubscribeRequest, ChatMessage>) => {
      call.write(message(1));
      call.write(message(2));
      call.end();
    },
  });
});
afterAll(async () => {
  await users?.close();
  await chat?.close();
});

/** A gateway whose access log goes to a fresh temporary file; `finish()` closes it and returns the file's text. */
async function loggedGateway(accessLog: Record<string, unknown>, random?: () => number) {
  const file = join(mkdtempSync(join(tmpdir(), "pg-access-log-")), "access.log");
  const counter = watchExchanges();
  const gateway: RunningGateway = await startTestGateway(
    { "demo.v1.UserService": users.address, "demo.v1.ChatService": chat.address },
    { auth, rateLimits, accessLog: { destination: file, ...accessLog } },
    { observe: { observers: [counter.observer] }, accessLog: { random } },
  );
  const key = { [API_KEY_HEADER]: API_KEY };
  return {
    gateway,
    file,
    key,
    /** Waits for `requests` exchanges to end, closes the gateway (flushing the log) and reads it. */
    async finish(requests: number): Promise<{ text: string; lines: Line[] }> {
      await counter.reached(requests);
      await gateway.close();
      const text = existsSync(file) ? readFileSync(file, "utf8") : "";
      return { text, lines: text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Line) };
    },
  };
}

const byId = (lines: readonly Line[]) => new Map(lines.map((line) => [line.requestId, line]));

describe("access log, mode all", () => {
  let text: string;
  let lines: Line[];
  let goodToken: string;
  let badToken: string;

  beforeAll(async () => {
    goodToken = await token(HMAC_SECRET);
    badToken = await token(WRONG_SECRET);
    const logged = await loggedGateway({ mode: "all" });
    const { gateway, key } = logged;
    const id = (requestId: string) => ({ "x-request-id": requestId });
    const statuses = [
      (await send(gateway.url, "GET", "/v1/users/u-1", { headers: { ...key, ...id("ok"), "user-agent": "e2e-agent/1", cookie: `session=${COOKIE_SECRET}` } })).status,
      (await send(gateway.url, "GET", `/v1/nowhere?api_key=${QUERY_SECRET}`, { headers: id("no-route") })).status,
      (await send(gateway.url, "GET", "/v1/users/u-1", { headers: { ...id("bad-token"), authorization: `Bearer ${badToken}` } })).status,
      (await send(gateway.url, "GET", "/v1/users", { headers: { ...key, ...id("list-1") } })).status,
      (await send(gateway.url, "GET", "/v1/users", { headers: { ...key, ...id("list-2") } })).status,
      (await send(gateway.url, "GET", "/v1/users/missing", { headers: { ...key, ...id("upstream-error") } })).status,
      (await send(gateway.url, "GET", `/v1/users/u-2?access_token=${QUERY_SECRET}`, { headers: { ...id("jwt-ok"), authorization: `Bearer ${goodToken}` } })).status,
      (await send(gateway.url, "GET", "/v1/rooms/lobby/messages:subscribe", { headers: { ...key, ...id("stream") } })).status,
      (await send(gateway.url, "POST", "/v1/users", { headers: { ...key, ...id("create"), "content-type": "application/json" }, body: CREATE_BODY })).status,
    ];
    expect(statuses).toEqual([200, 404, 401, 200, 429, 404, 400, 200, 501]);
    // A WebSocket call of the same server stream, its token in the subprotocol (as browsers send it).
    const ws = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/v1/rooms/lobby/messages:subscribe`, [`${PROTOCOL_PREFIX}${Buffer.from(goodToken).toString("base64url")}`, "protogate"], {
      headers: id("websocket"),
    });
    const received: string[] = [];
    ws.on("message", (data) => received.push(String(data)));
    expect(await new Promise<number>((resolve) => ws.once("close", resolve))).toBe(1000);
    expect(received).toHaveLength(2);
    ({ text, lines } = await logged.finish(10));
  });

  it("writes exactly one line per request", () => {
    expect(lines.map((line) => line.requestId).sort()).toEqual(["bad-token", "create", "jwt-ok", "list-1", "list-2", "no-route", "ok", "stream", "upstream-error", "websocket"]);
    for (const line of lines) expect(line.log).toBe("access");
  });

  it("each line says what happened", () => {
    const line = byId(lines);
    const view = (id: string) => {
      const { requestId, method, route, path, status, grpcCode, consumer, error } = line.get(id) ?? {};
      return { requestId, method, route, path, status, grpcCode, consumer, error };
    };
    expect(["ok", "no-route", "bad-token", "list-1", "list-2", "upstream-error", "jwt-ok", "stream", "websocket", "create"].map(view)).toEqual([
      { requestId: "ok", method: "GET", route: "/v1/users/{user_id}", path: "/v1/users/u-1", status: 200, grpcCode: 0, consumer: "acme", error: null },
      { requestId: "no-route", method: "GET", route: null, path: "/v1/nowhere", status: 404, grpcCode: 5, consumer: null, error: "PG_ERR_ROUTE_NOT_FOUND" },
      { requestId: "bad-token", method: "GET", route: "/v1/users/{user_id}", path: "/v1/users/u-1", status: 401, grpcCode: 16, consumer: null, error: "PG_ERR_UNAUTHENTICATED" },
      { requestId: "list-1", method: "GET", route: "/v1/users", path: "/v1/users", status: 200, grpcCode: 0, consumer: "acme", error: null },
      { requestId: "list-2", method: "GET", route: "/v1/users", path: "/v1/users", status: 429, grpcCode: 8, consumer: "acme", error: "PG_ERR_RATE_LIMITED" },
      { requestId: "upstream-error", method: "GET", route: "/v1/users/{user_id}", path: "/v1/users/missing", status: 404, grpcCode: 5, consumer: "acme", error: "PG_ERR_UPSTREAM" },
      { requestId: "jwt-ok", method: "GET", route: "/v1/users/{user_id}", path: "/v1/users/u-2", status: 400, grpcCode: 3, consumer: "ada", error: "PG_ERR_BAD_QUERY" },
      { requestId: "stream", method: "GET", route: "/v1/rooms/{room}/messages:subscribe", path: "/v1/rooms/lobby/messages:subscribe", status: 200, grpcCode: 0, consumer: "acme", error: null },
      { requestId: "websocket", method: "GET", route: "/v1/rooms/{room}/messages:subscribe", path: "/v1/rooms/lobby/messages:subscribe", status: 101, grpcCode: 0, consumer: "ada", error: null },
      { requestId: "create", method: "POST", route: "/v1/users", path: "/v1/users", status: 501, grpcCode: 12, consumer: "acme", error: "PG_ERR_UPSTREAM" },
    ]);
  });

  it("timings, sizes and the client are there", () => {
    const line = byId(lines);
    const ok = line.get("ok") ?? {};
    expect(ok).toMatchObject({ clientIp: "127.0.0.1", userAgent: "e2e-agent/1", bytesIn: null, traceId: null, rpc: "/demo.v1.UserService/GetUser" });
    expect(ok.durationMs).toBeGreaterThanOrEqual(ok.upstreamMs as number);
    expect(ok.upstreamMs).toBeGreaterThanOrEqual(0);
    expect(ok.bytesOut).toBeGreaterThan(0);
    // Refused before the upstream: no upstream time.
    for (const id of ["no-route", "bad-token", "list-2"]) expect(line.get(id)?.upstreamMs).toBeNull();
    expect(line.get("upstream-error")?.upstreamMs).toBeGreaterThanOrEqual(0);
    expect(line.get("create")?.bytesIn).toBe(Buffer.byteLength(CREATE_BODY));
    expect(line.get("stream")?.bytesOut).toBeGreaterThan(0);
    expect(new Date(ok.time as string).getTime()).not.toBeNaN();
  });

  it("no secret is anywhere in the file", () => {
    for (const secret of [API_KEY, goodToken, badToken, Buffer.from(goodToken).toString("base64url"), QUERY_SECRET, COOKIE_SECRET, HMAC_SECRET]) expect(text).not.toContain(secret);
    // And no header is logged whole.
    expect(text).not.toMatch(/authorization|cookie|x-gateway-key|sec-websocket/i);
  });
});

describe("access log, other modes", () => {
  it("errors: only the failures", async () => {
    const logged = await loggedGateway({ mode: "errors" });
    const { gateway, key } = logged;
    await send(gateway.url, "GET", "/v1/users/u-1", { headers: { ...key, "x-request-id": "ok" } });
    await send(gateway.url, "GET", "/v1/nowhere", { headers: { "x-request-id": "no-route" } });
    await send(gateway.url, "GET", "/v1/rooms/lobby/messages:subscribe", { headers: { ...key, "x-request-id": "stream" } });
    // CreateUser is not public: without credentials, 401.
    await send(gateway.url, "POST", "/v1/users", { headers: { "x-request-id": "anonymous", "content-type": "application/json" }, body: CREATE_BODY });
    const { lines } = await logged.finish(4);
    expect(lines.map((line) => [line.requestId, line.status])).toEqual([
      ["no-route", 404],
      ["anonymous", 401],
    ]);
  });

  // Regression: requests the Node server answers itself (before Fastify) had no line and no metric.
  it("errors: requests the HTTP server refuses itself get their line, with the request ID they were answered with", async () => {
    const logged = await loggedGateway({ mode: "errors" });
    const port = Number(new URL(logged.gateway.url).port);
    const answers = [
      await rawRequest(port, "GET /v1/users/u-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
      await rawRequest(port, "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n"),
      await rawRequest(port, "GET /v1/users/u-1 HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n"),
    ];
    for (const answer of answers) answer.connection.socket.destroy();
    const { lines } = await logged.finish(3);
    expect(answers.map((a) => a.status)).toEqual([400, 501, 417]);
    expect(lines.map(({ requestId, method, path, status, error, route }) => ({ requestId, method, path, status, error, route }))).toEqual([
      { requestId: answers[0].headers["x-request-id"], method: "", path: "", status: 400, error: "PG_ERR_BAD_REQUEST", route: null },
      { requestId: answers[1].headers["x-request-id"], method: "CONNECT", path: "example.test:443", status: 501, error: "PG_ERR_METHOD_NOT_IMPLEMENTED", route: null },
      { requestId: answers[2].headers["x-request-id"], method: "GET", path: "/v1/users/u-1", status: 417, error: "PG_ERR_EXPECTATION_FAILED", route: null },
    ]);
  });

  it("all with sampling: successes kept when the injected draw is below the rate, failures always", async () => {
    const draws = [0.2, 0.7, 0.49];
    const logged = await loggedGateway({ mode: "all", successSampleRate: 0.5 }, () => draws.shift() ?? 1);
    const { gateway, key } = logged;
    for (const id of ["s-1", "s-2", "s-3"]) await send(gateway.url, "GET", "/v1/users/u-1", { headers: { ...key, "x-request-id": id } });
    await send(gateway.url, "GET", "/v1/nowhere", { headers: { "x-request-id": "no-route" } });
    const { lines } = await logged.finish(4);
    expect(lines.map((line) => line.requestId).sort()).toEqual(["no-route", "s-1", "s-3"]);
    expect(draws).toEqual([]);
  });

  it("off: no line, no file", async () => {
    const logged = await loggedGateway({ mode: "off" });
    await send(logged.gateway.url, "GET", "/v1/nowhere");
    await send(logged.gateway.url, "GET", "/v1/users/u-1", { headers: logged.key });
    const { text } = await logged.finish(2);
    expect(text).toBe("");
    expect(existsSync(logged.file)).toBe(false);
  });

  it("a destination that cannot be opened fails the start with its error", async () => {
    await expect(
      startTestGateway({ "demo.v1.UserService": users.address }, { accessLog: { mode: "all", destination: join(tmpdir(), "no-such-dir-pg-al", "x", "access.log") } }),
    ).rejects.toThrow(/ENOENT/);
  });
});

import { status as grpcStatus, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { send, startTestGateway, startUserBackend } from "../e2e/support/gateway-harness.js";
import { RawConnection, rawRequest, statusBody } from "./support/raw-socket.js";

// HTTP-level attacks through the real server over raw sockets: slow clients, connection caps,
// Expect, Host, methods, URL and header sizes, smuggling. Each case checks the exact status, the
// google.rpc.Status body, and that the gateway still serves afterwards.

const KEY = "pgk_attack_writer_0123456789";
const user = (userId: string) => ({ userId, displayName: "Edge", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
type Handler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;
const handlers: Record<string, Handler> = {
  getUser: (call, callback) => callback(null, user((call.request as { userId: string }).userId)),
  createUser: (_call, callback) => callback(null, user("new")),
};

const INVALID_ARGUMENT = grpcStatus.INVALID_ARGUMENT;
const createUser = (headers: string, body = '{"displayName":"Ada"}') =>
  `POST /v1/users HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`;

describe("HTTP edge attacks (end to end, raw sockets)", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;
  let port: number;

  beforeAll(async () => {
    backend = await startUserBackend(handlers);
    gateway = await startTestGateway(
      { "demo.v1.UserService": backend.address },
      {
        auth: { mode: "on", apiKeys: { header: "x-api-key", keys: [{ sha256: hashApiKey(KEY), consumer: "writer", scopes: ["users:write"] }] } },
        // Small limits so that the slow-client cases take a fraction of a second of real I/O.
        server: { headersTimeoutMs: 300, minBodyBytesPerSecond: 2000, minBodyRateGraceMs: 300, bodyIdleTimeoutMs: 5000, maxConnectionsPerIp: 16 },
      },
    );
    port = Number(new URL(gateway.url).port);
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  async function stillServes(): Promise<void> {
    expect((await send(gateway.url, "GET", "/v1/users/u-1")).status).toBe(200);
  }

  describe("slow clients", () => {
    it("regression: after an early 401 the gateway kept reading a trickled chunked body; now it answers and closes the connection", async () => {
      const connection = await RawConnection.open(port);
      connection.write("POST /v1/users HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n");
      const trickle = setInterval(() => connection.write("1\r\n \r\n"), 20);
      try {
        const response = await connection.response();
        expect(response.status).toBe(401);
        expect(response.json).toEqual(statusBody(grpcStatus.UNAUTHENTICATED, "PG_ERR_UNAUTHENTICATED"));
        expect(response.headers.connection).toBe("close");
        await connection.closed; // closed by the gateway while the client is still sending
      } finally {
        clearInterval(trickle);
      }
      await stillServes();
    });

    it("an early 401 to a small declared body that never completes: drained for a moment, then the connection is closed", async () => {
      const connection = await RawConnection.open(port);
      connection.write("POST /v1/users HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
      const trickle = setInterval(() => connection.write(" "), 50);
      try {
        const response = await connection.response();
        expect(response.status).toBe(401);
        const answered = Date.now();
        await connection.closed;
        expect(Date.now() - answered).toBeLessThan(4_000);
      } finally {
        clearInterval(trickle);
      }
    });

    it("regression: a body trickled a byte at a time was never cut off; now 408 once it is below the minimum rate", async () => {
      const connection = await RawConnection.open(port);
      connection.write(`POST /v1/users HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
      const trickle = setInterval(() => connection.write(" "), 20);
      try {
        const response = await connection.response();
        expect(response.status).toBe(408);
        expect(response.json).toEqual(statusBody(grpcStatus.DEADLINE_EXCEEDED, "PG_ERR_REQUEST_TIMEOUT"));
        expect(response.headers.connection).toBe("close");
        await connection.closed;
      } finally {
        clearInterval(trickle);
      }
      expect(backend.calls.some((call) => call.method === "createUser")).toBe(false);
      await stillServes();
    });

    it("regression: slow headers answered 400; now 408 with a Status body", async () => {
      const connection = await RawConnection.open(port);
      connection.write("GET /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\n");
      const response = await connection.response();
      expect(response.status).toBe(408);
      expect(response.json).toEqual(statusBody(grpcStatus.DEADLINE_EXCEEDED, "PG_ERR_REQUEST_TIMEOUT"));
      await connection.closed;
      await stillServes();
    });
  });

  describe("connection caps", () => {
    it("regression: one client's crowd of slow-body connections locked everyone out; now it is capped, cut off, and others are served", async () => {
      const slowBody = `POST /v1/users HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`;
      const crowd = await Promise.all(Array.from({ length: 40 }, () => RawConnection.open(port, "127.0.0.9")));
      for (const connection of crowd) connection.write(slowBody);
      const trickle = setInterval(() => crowd.forEach((connection) => connection.write(" ")), 50);
      try {
        // Meanwhile another client is served.
        await stillServes();
        const answers = await Promise.all(crowd.map((connection) => connection.response()));
        const counts = answers.reduce<Record<number, number>>((tally, answer) => ({ ...tally, [answer.status]: (tally[answer.status] ?? 0) + 1 }), {});
        // 16 admitted (the per-address cap), each cut off by the minimum body rate; the rest refused.
        expect(counts).toEqual({ 408: 16, 503: 24 });
        await Promise.all(crowd.map((connection) => connection.closed));
      } finally {
        clearInterval(trickle);
      }
      await stillServes();
    });

    it("refuses connections over the per-address cap with a 503 Status, and accepts again when one closes", async () => {
      // The gateway's side of each connection, by the client's port (watched after the connection guard's own listeners).
      const serverSides = new Map<number, Socket>();
      const watch = (socket: Socket) => void serverSides.set(socket.remotePort ?? 0, socket);
      gateway.app.server.on("connection", watch);
      // A loopback address of its own, so other tests' connections do not count.
      const held = await Promise.all(Array.from({ length: 16 }, () => RawConnection.open(port, "127.0.0.7")));
      const refused = await RawConnection.open(port, "127.0.0.7");
      const response = await refused.response();
      expect(response.status).toBe(503);
      expect(response.json).toEqual(statusBody(grpcStatus.UNAVAILABLE, "PG_ERR_TOO_MANY_CONNECTIONS"));
      expect(response.headers["retry-after"]).toBe("1");
      await refused.closed;
      // Another address is not affected.
      const other = await rawRequest(port, "GET /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\n\r\n");
      expect(other.status).toBe(200);
      other.connection.destroy();
      gateway.app.server.off("connection", watch);
      // Once the gateway has seen one of them close, the address may connect again.
      const serverSide = serverSides.get(held[0].socket.localPort ?? 0);
      if (serverSide === undefined) throw new Error("the gateway's side of the first held connection was not seen");
      const gone = new Promise((resolve) => serverSide.once("close", resolve));
      held[0].destroy();
      await gone;
      const retry = await RawConnection.open(port, "127.0.0.7");
      retry.write("GET /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\n\r\n");
      expect((await retry.response()).status).toBe(200);
      retry.destroy();
      for (const connection of held) connection.destroy();
    });
  });

  describe("Expect", () => {
    it("regression: Expect: 100-continue was answered 100 before the edge checks; an unauthenticated upload now gets its 401 instead", async () => {
      const connection = await RawConnection.open(port);
      connection.write("POST /v1/users HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 21\r\nExpect: 100-continue\r\n\r\n");
      const response = await connection.response();
      expect(response.status).toBe(401);
      expect(connection.text()).not.toContain("100 Continue");
      expect(response.json).toEqual(statusBody(grpcStatus.UNAUTHENTICATED, "PG_ERR_UNAUTHENTICATED"));
      connection.destroy();
    });

    it("an admitted upload gets 100 Continue, then its answer", async () => {
      const connection = await RawConnection.open(port);
      const body = '{"displayName":"Ada","email":"ada@example.com"}';
      connection.write(`POST /v1/users HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
      expect((await connection.response()).status).toBe(100);
      connection.write(body);
      const response = await connection.response();
      expect(response.status).toBe(201);
      expect(response.json).toMatchObject({ userId: "new" });
      connection.destroy();
    });

    it("regression: an unknown expectation got an empty 417; now a Status body", async () => {
      const response = await rawRequest(port, "GET /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\nExpect: something-else\r\n\r\n");
      expect(response.status).toBe(417);
      expect(response.json).toEqual(statusBody(grpcStatus.FAILED_PRECONDITION, "PG_ERR_EXPECTATION_FAILED"));
      response.connection.destroy();
    });
  });

  describe("Host", () => {
    it.each([
      ["regression: two Host headers were accepted", "GET /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\nHost: evil\r\n\r\n"],
      ["regression: an HTTP/1.1 request without Host got an empty 400", "GET /v1/users/u-1 HTTP/1.1\r\n\r\n"],
      ["a Host with userinfo", "GET /v1/users/u-1 HTTP/1.1\r\nHost: user@gw\r\n\r\n"],
    ])("%s: 400 Status", async (_name, request) => {
      const response = await rawRequest(port, request);
      expect(response.status).toBe(400);
      expect(response.json).toEqual(statusBody(INVALID_ARGUMENT, "PG_ERR_BAD_HOST"));
      expect(backend.calls.length).toBeGreaterThanOrEqual(0);
      response.connection.destroy();
    });

    it("HTTP/1.0 without Host is served", async () => {
      const response = await rawRequest(port, "GET /v1/users/u-1 HTTP/1.0\r\n\r\n");
      expect(response.status).toBe(200);
      response.connection.destroy();
    });
  });

  describe("methods", () => {
    it.each([
      ["regression: PROPFIND got Fastify's own 404 body", "PROPFIND /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\n\r\n"],
      ["TRACE", "TRACE /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\n\r\n"],
      ["a method Node's parser does not know", "FROB /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\n\r\n"],
      ["regression: CONNECT got no answer at all", "CONNECT gw:443 HTTP/1.1\r\nHost: gw:443\r\n\r\n"],
    ])("%s: 501 Status", async (_name, request) => {
      const response = await rawRequest(port, request);
      expect(response.status).toBe(501);
      expect(response.json).toEqual(statusBody(grpcStatus.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_IMPLEMENTED"));
      response.connection.destroy();
      await stillServes();
    });

    it("a standard method no route uses on a known path is still 405 with Allow", async () => {
      const response = await rawRequest(port, "PUT /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n");
      expect(response.status).toBe(405);
      expect(response.headers.allow).toContain("GET");
      response.connection.destroy();
    });

    it("a request line that is not HTTP: 400 Status", async () => {
      const response = await rawRequest(port, "THIS IS NOT HTTP\r\n\r\n");
      expect(response.status).toBe(400);
      expect(response.json).toEqual(statusBody(INVALID_ARGUMENT, "PG_ERR_BAD_REQUEST"));
    });
  });

  describe("sizes", () => {
    it.each([
      ["regression: a 10 KB URL answered 400 or 431", 10_000],
      ["a URL over Node's whole header limit", 20_000],
    ])("%s: now 414 Status", async (_name, length) => {
      const response = await rawRequest(port, `GET /v1/users/${"u".repeat(length)} HTTP/1.1\r\nHost: gw\r\n\r\n`);
      expect(response.status).toBe(414);
      expect(response.json).toEqual(statusBody(INVALID_ARGUMENT, "PG_ERR_URL_TOO_LONG"));
      response.connection.destroy();
      await stillServes();
    });

    it("headers over the limit: 431 Status", async () => {
      const response = await rawRequest(port, `GET /v1/users/u-1 HTTP/1.1\r\nHost: gw\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`);
      expect(response.status).toBe(431);
      expect(response.json).toEqual(statusBody(grpcStatus.RESOURCE_EXHAUSTED, "PG_ERR_HEADERS_TOO_LARGE"));
    });

    it("a declared body over the limit is refused before it is read, and the connection closed", async () => {
      const connection = await RawConnection.open(port);
      connection.write(`POST /v1/users HTTP/1.1\r\nHost: gw\r\nx-api-key: ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{`);
      const response = await connection.response();
      expect(response.status).toBe(413);
      expect(response.json).toEqual(statusBody(grpcStatus.RESOURCE_EXHAUSTED, "PG_ERR_BODY_TOO_LARGE"));
      await connection.closed;
    });
  });

  describe("framing", () => {
    it.each([
      ["Content-Length with Transfer-Encoding (request smuggling)", "POST /v1/users HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
      ["two different Content-Lengths", "POST /v1/users HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"],
      ["a bad chunk size", "POST /v1/users HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"],
    ])("%s: 400 Status and the connection is closed", async (_name, request) => {
      const response = await rawRequest(port, request);
      expect(response.status).toBe(400);
      expect(response.json).toEqual(statusBody(INVALID_ARGUMENT, "PG_ERR_BAD_REQUEST"));
      await response.connection.closed;
      await stillServes();
    });

    it("pipelined requests are answered in order on one connection", async () => {
      const connection = await RawConnection.open(port);
      connection.write("GET /v1/users/one HTTP/1.1\r\nHost: gw\r\n\r\nGET /v1/users/two HTTP/1.1\r\nHost: gw\r\n\r\n");
      expect((await connection.response()).json).toMatchObject({ userId: "one" });
      expect((await connection.response()).json).toMatchObject({ userId: "two" });
      connection.destroy();
    });

    it("a complete body on an early error keeps the connection alive", async () => {
      const connection = await RawConnection.open(port);
      connection.write(createUser(""));
      expect((await connection.response()).status).toBe(401);
      connection.write("GET /v1/users/again HTTP/1.1\r\nHost: gw\r\n\r\n");
      expect((await connection.response()).json).toMatchObject({ userId: "again" });
      connection.destroy();
    });
  });
});

describe("shutting down (end to end, raw sockets)", () => {
  it("regression: a request arriving while the gateway drains got Fastify's own 503 body; now a Status body, and the in-flight one completes", async () => {
    let release: () => void = () => undefined;
    let arrive: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const backend = await startUserBackend({
      getUser: (call, callback) => {
        release = () => callback(null, user((call.request as { userId: string }).userId));
        arrive();
      },
    });
    const gateway = await startTestGateway({ "demo.v1.UserService": backend.address });
    try {
      const connection = await RawConnection.open(Number(new URL(gateway.url).port));
      connection.write("GET /v1/users/slow HTTP/1.1\r\nHost: gw\r\n\r\n");
      await arrived;
      expect(backend.calls.length).toBe(1);
      const closing = gateway.close();
      connection.write("GET /v1/users/late HTTP/1.1\r\nHost: gw\r\n\r\n");
      await new Promise((resolve) => setImmediate(resolve));
      release();
      expect((await connection.response()).json).toMatchObject({ userId: "slow" });
      const late = await connection.response();
      expect(late.status).toBe(503);
      expect(late.json).toEqual(statusBody(grpcStatus.UNAVAILABLE, "PG_ERR_SHUTTING_DOWN"));
      expect(late.headers.connection).toBe("close");
      await closing;
      expect(backend.calls.length).toBe(1);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

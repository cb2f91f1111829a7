import { status as grpcStatus } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { connect, constants, type ClientHttp2Session, type OutgoingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { startTestGateway, startUserBackend } from "../e2e/support/gateway-harness.js";
import { statusBody } from "./support/raw-socket.js";
import { withoutRequestInfo } from "../e2e/support/request-info.js";

// HTTP/2 attacks through the real TLS listener: pseudo-header abuse, rapid reset, early answers
// to unread bodies. Each case checks the answer and that the gateway still serves.

const TLS = join(import.meta.dirname, "../fixtures/tls");
const ca = readFileSync(join(TLS, "ca.pem"));
const KEY = "pgk_h2_writer_0123456789";
const user = (userId: string) => ({ userId, displayName: "H2", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });

interface H2Response {
  status: number;
  json: unknown;
  rstCode: number;
}

function request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let requestId: string | null = null;
    let text = "";
    stream.on("response", (response) => {
      status = Number(response[":status"]);
      requestId = String(response["x-request-id"] ?? "") || null;
    });
    stream.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    stream.on("close", () => resolve({ status, json: text === "" ? undefined : withoutRequestInfo(JSON.parse(text), status, requestId), rstCode: stream.rstCode ?? 0 }));
    stream.on("error", () => undefined);
    session.on("error", reject);
    if (body !== undefined) stream.end(body);
  });
}

describe("HTTP/2 attacks (end to end, TLS listener)", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backend = await startUserBackend({ getUser: (call, callback) => callback(null, user((call.request as { userId: string }).userId)) });
    gateway = await startTestGateway(
      { "demo.v1.UserService": backend.address },
      {
        server: { tls: { certFile: join(TLS, "server.pem"), keyFile: join(TLS, "server.key") } },
        auth: { mode: "on", apiKeys: { header: "x-api-key", keys: [{ sha256: hashApiKey(KEY), consumer: "writer", scopes: ["users:write"] }] } },
      },
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  const open = async (): Promise<ClientHttp2Session> => {
    const session = connect(gateway.url, { ca });
    session.on("error", () => undefined);
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    return session;
  };
  const openConnections = () => new Promise<number>((resolve) => gateway.app.server.getConnections((_error, count) => resolve(count)));

  async function stillServes(): Promise<void> {
    const session = await open();
    expect((await request(session, { ":path": "/v1/users/u-1" })).status).toBe(200);
    session.close();
  }

  it("advertises a cap on concurrent streams and on the header list size", async () => {
    const session = await open();
    expect(session.remoteSettings).toMatchObject({ maxConcurrentStreams: 100, maxHeaderListSize: 16 * 1024 });
    session.close();
  });

  it("regression: an :authority with userinfo was accepted; now 400 Status", async () => {
    const session = await open();
    const response = await request(session, { ":path": "/v1/users/u-1", ":authority": "user:pw@localhost" });
    expect(response.status).toBe(400);
    expect(response.json).toEqual(statusBody(grpcStatus.INVALID_ARGUMENT, "PG_ERR_BAD_HOST"));
    session.close();
  });

  it("regression: a Host that differs from :authority was accepted; now 400 Status", async () => {
    const session = await open();
    const response = await request(session, { ":path": "/v1/users/u-1", ":authority": "localhost", host: "evil.example.com" });
    expect(response.status).toBe(400);
    expect(response.json).toEqual(statusBody(grpcStatus.INVALID_ARGUMENT, "PG_ERR_BAD_HOST"));
    session.close();
  });

  it("rapid reset (CVE-2023-44487): a flood of opened-and-cancelled streams gets the session closed, not a wedged connection", async () => {
    const before = await openConnections();
    // The gateway's side of the connection (the next one it accepts).
    const serverSide = new Promise<Socket>((resolve) => gateway.app.server.once("connection", resolve));
    const session = await open();
    const serverSideClosed = serverSide.then((socket) => new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once("close", resolve))));
    let goaway: number | undefined;
    session.on("goaway", (code: number) => (goaway = code));
    for (let index = 0; index < 5_000 && !session.destroyed && goaway === undefined; index++) {
      const stream = session.request({ ":path": "/v1/users/u-1" });
      stream.on("error", () => undefined);
      stream.close(constants.NGHTTP2_CANCEL);
      if (index % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    session.destroy();
    // The server's side of the connection is gone too (on Node 20, nghttp2's own flood limit
    // would leave it open and unread for good).
    await serverSideClosed;
    expect(await openConnections()).toBeLessThanOrEqual(before);
    if (goaway !== undefined) expect(goaway).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await stillServes();
  });

  it("an early 401 to a request whose body is still coming ends the stream (RST_STREAM NO_ERROR), not the session", async () => {
    const session = await open();
    const stream = session.request({ ":path": "/v1/users", ":method": "POST", "content-type": "application/json" }, { endStream: false });
    stream.write("{");
    const trickle = setInterval(() => stream.write(" "), 20);
    const response = await new Promise<H2Response>((resolve) => {
      let status = 0;
      let requestId: string | null = null;
      let text = "";
      stream.on("response", (headers) => {
        status = Number(headers[":status"]);
        requestId = String(headers["x-request-id"] ?? "") || null;
      });
      stream.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      stream.on("error", () => undefined);
      stream.on("close", () => resolve({ status, json: withoutRequestInfo(JSON.parse(text), status, requestId), rstCode: stream.rstCode ?? -1 }));
    });
    clearInterval(trickle);
    expect(response.status).toBe(401);
    expect(response.json).toEqual(statusBody(grpcStatus.UNAUTHENTICATED, "PG_ERR_UNAUTHENTICATED"));
    expect(response.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    // The session itself still serves.
    expect((await request(session, { ":path": "/v1/users/u-2" })).status).toBe(200);
    session.close();
  });
});

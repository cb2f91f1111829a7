import { Agent } from "node:http";
import { connect } from "node:http2";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerDuplexStream, ServerWritableStream, sendUnaryData } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { ChatMessage, PostMessageRequest, SubscribeRequest } from "../../generated/demo/v1/chat.js";
import type { RunningGateway } from "../../src/app.js";
import { createFakeClock } from "../support/fake-clock.js";
import { message, startChatBackend, whenCancelled } from "./support/chat-backend.js";
import { watchExchanges } from "./support/exchange-watch.js";
import { startTestGateway, startUserBackend } from "./support/gateway-harness.js";
import { getOnNewConnection, getWith, type Answered } from "./support/load.js";
import { openStream } from "./support/open-stream.js";
import { statusWithoutRequestInfo } from "./support/request-info.js";

// SIGTERM's drain (RunningGateway.close), with the shutdown's clock in the test's hands: the
// pre-stop delay and the drain deadline pass only when the test advances it.

const SUBSCRIBE = "/v1/rooms/lobby/messages:subscribe";
const TLS = join(import.meta.dirname, "../fixtures/tls");
const SHUTTING_DOWN = { code: 14, message: "the gateway is shutting down; retry on another instance" };

/**
 * Resolves when the gateway stops accepting: Fastify calls its Node server's close(), which closes
 * the listening socket before it returns (the server's 'close' event waits for the connections
 * still open, so it comes too late to tell).
 */
function whenListenerCloses(gateway: RunningGateway): Promise<void> {
  const server = gateway.app.server;
  const close = server.close;
  return new Promise((resolve) => {
    // Boundary: the server's own close, wrapped on this instance only to see when it is called.
    server.close = function (this: typeof server, ...args: Parameters<typeof close>) {
      const result = close.apply(this, args);
      resolve();
      return result;
    } as typeof close;
  });
}

describe("graceful shutdown", () => {
  /** Calls of GetUser for "slow" wait here until the test answers them. */
  const slowCalls: Array<() => void> = [];
  let slowCallArrived: () => void = () => undefined;
  const subscriptions: Array<ServerWritableStream<SubscribeRequest, ChatMessage>> = [];
  const chats: Array<ServerDuplexStream<PostMessageRequest, ChatMessage>> = [];
  let users: Awaited<ReturnType<typeof startUserBackend>>;
  let chat: Awaited<ReturnType<typeof startChatBackend>>;

  beforeAll(async () => {
    users = await startUserBackend({
      getUser: (call, callback: sendUnaryData<unknown>) => {
        const { userId } = call.request as { userId: string };
        const reply = () => callback(null, { userId, displayName: "Slow", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
        if (userId !== "slow") return reply();
        slowCalls.push(reply);
        slowCallArrived();
      },
    });
    // Streams that stay open until the gateway ends them (each sends one message first).
    chat = await startChatBackend({
      subscribe: (call) => {
        subscriptions.push(call);
        call.write(message(1));
      },
      chat: (call) => {
        chats.push(call);
        call.write(message(1));
      },
    });
  });
  afterAll(async () => {
    await users?.close();
    await chat?.close();
  });

  const start = (server: Record<string, unknown>, clock: ReturnType<typeof createFakeClock>, watch = watchExchanges()): Promise<RunningGateway> =>
    startTestGateway({ "demo.v1.UserService": users.address, "demo.v1.ChatService": chat.address }, { server }, { timers: clock, observe: { observers: [watch.observer] } });

  const slowCall = async (gateway: RunningGateway): Promise<{ response: Promise<Response>; release: () => void }> => {
    const arrived = new Promise<void>((resolve) => (slowCallArrived = resolve));
    const response = fetch(`${gateway.url}/v1/users/slow`);
    await arrived;
    const release = slowCalls.shift()!;
    return { response, release };
  };

  it("/readyz turns 503 at once; new connections are served through the pre-stop delay, and refused after it", async () => {
    const clock = createFakeClock();
    const gateway = await start({ preStopDelayMs: 5_000, drainTimeoutMs: 10_000 }, clock);
    const inFlight = await slowCall(gateway);
    const closed = gateway.close();

    const ready = await fetch(`${gateway.adminUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, phase: "draining" });
    // The load balancer has not noticed yet: a new client is still served.
    expect(await getOnNewConnection(`${gateway.url}/v1/users/u-1`)).toBe(200);

    const listenerClosed = whenListenerCloses(gateway);
    clock.advance(5_000);
    await listenerClosed;
    expect(await getOnNewConnection(`${gateway.url}/v1/users/u-1`)).toBe("ECONNREFUSED");
    // The request in flight since before SIGTERM still gets its answer.
    inFlight.release();
    const answered = await inFlight.response;
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ userId: "slow" });
    await closed;
  });

  it("through the pre-stop delay every response ends its connection (HTTP/1.1 Connection: close), so kept-alive clients reconnect elsewhere before the listener closes", async () => {
    const clock = createFakeClock();
    const gateway = await start({ preStopDelayMs: 5_000, drainTimeoutMs: 10_000 }, clock);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = async (path: string): Promise<Answered> => {
      const answer = await getWith(`${gateway.url}${path}`, agent);
      if (typeof answer === "string") throw new Error(`GET ${path} failed: ${answer}`);
      return answer;
    };
    try {
      const first = await get("/v1/users/u-1");
      const second = await get("/v1/users/u-1");
      expect([first.status, first.headers.connection, second.socket === first.socket]).toEqual([200, "keep-alive", true]);
      // Began before SIGTERM, answered after it: judged when the response is written.
      const inFlight = await slowCall(gateway);
      const closed = gateway.close();
      inFlight.release();
      expect((await inFlight.response).headers.get("connection")).toBe("close");

      const during = await get("/v1/users/u-1");
      expect([during.status, during.headers.connection]).toEqual([200, "close"]);
      const next = await get("/v1/users/u-1");
      expect([next.status, next.headers.connection, next.socket === during.socket]).toEqual([200, "close", false]);
      clock.advance(5_000);
      await closed;
    } finally {
      agent.destroy();
    }
  });

  it("through the pre-stop delay an HTTP/2 session is sent GOAWAY after its next response", async () => {
    const clock = createFakeClock();
    const gateway = await startTestGateway(
      { "demo.v1.UserService": users.address },
      { server: { preStopDelayMs: 5_000, drainTimeoutMs: 10_000, tls: { certFile: join(TLS, "server.pem"), keyFile: join(TLS, "server.key") } } },
      { timers: clock },
    );
    const session = connect(gateway.url, { ca: readFileSync(join(TLS, "ca.pem")) });
    let goaway = false;
    const goawayReceived = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    session.on("goaway", () => (goaway = true));
    const status = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const stream = session.request({ ":path": "/v1/users/u-1" });
        let code = 0;
        stream.on("response", (headers) => (code = Number(headers[":status"])));
        stream.resume().on("end", () => resolve(code)).on("error", reject);
        stream.end();
      });
    try {
      expect(await status()).toBe(200);
      expect(goaway).toBe(false);
      const closed = gateway.close();
      expect(await status()).toBe(200);
      await goawayReceived;
      expect(goaway).toBe(true);
      clock.advance(5_000);
      await closed;
    } finally {
      session.destroy();
    }
  });

  it("a request in flight completes; streams still open at the drain deadline end cleanly: a last NDJSON error line, an SSE error event, WebSocket close 1001", async () => {
    const clock = createFakeClock();
    const watch = watchExchanges();
    const gateway = await start({ drainTimeoutMs: 10_000 }, clock, watch);
    const ndjson = await openStream(gateway.url, SUBSCRIBE);
    const sse = await openStream(gateway.url, SUBSCRIBE, { accept: "text/event-stream" });
    const ws = new WebSocket(`${gateway.url.replace("http", "ws")}/v1/rooms/lobby:chat`);
    const wsClosed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    const wsFirst = new Promise<string>((resolve) => ws.once("message", (data) => resolve(data.toString())));
    await Promise.all([ndjson.firstData, sse.firstData]);
    expect(JSON.parse(await wsFirst)).toMatchObject({ sequence: "1" });
    const inFlight = await slowCall(gateway);

    const closed = gateway.close();
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(503);
    inFlight.release();
    const answered = await inFlight.response;
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ userId: "slow", displayName: "Slow" });

    clock.advance(10_000);
    await Promise.all([ndjson.done, sse.done]);
    const lines = ndjson.text().trimEnd().split("\n").map((line) => JSON.parse(line) as { result?: ChatMessage; error?: unknown });
    expect(lines).toHaveLength(2);
    expect(lines[0].result?.sequence).toBe("1");
    expect(statusWithoutRequestInfo(lines[1].error, ndjson.response.headers["x-request-id"] as string)).toMatchObject(SHUTTING_DOWN);
    expect(ndjson.response.complete).toBe(true);
    const events = sse.text().split("\n\n").filter(Boolean);
    expect(events).toHaveLength(2);
    expect(events[1].startsWith("event: error\ndata: ")).toBe(true);
    expect(statusWithoutRequestInfo(JSON.parse(events[1].slice("event: error\ndata: ".length)), sse.response.headers["x-request-id"] as string)).toMatchObject(SHUTTING_DOWN);
    expect(sse.response.complete).toBe(true);
    expect(await wsClosed).toBe(1001);
    await closed;
    // Every exchange ended before close() resolved, each stream cancelled upstream.
    expect(watch.ended.map((exchange) => [exchange.binding?.pattern, exchange.status, exchange.grpcCode]).sort()).toEqual(
      [
        ["/v1/rooms/{room}/messages:subscribe", 200, 14],
        ["/v1/rooms/{room}/messages:subscribe", 200, 14],
        ["/v1/rooms/{room}:chat", 101, 1],
        ["/v1/users/{user_id}", 200, 0],
      ].sort(),
    );
    const calls = [...subscriptions.splice(0), ...chats.splice(0)];
    expect(calls).toHaveLength(3);
    await Promise.all(calls.map(whenCancelled));
    expect(calls.map((call) => call.cancelled)).toEqual([true, true, true]);
  });

  it("a stream that ends on its own during the drain ends normally (no error line), and close() does not wait for the deadline", async () => {
    const clock = createFakeClock();
    const gateway = await start({ drainTimeoutMs: 10_000 }, clock);
    const ndjson = await openStream(gateway.url, SUBSCRIBE);
    await ndjson.firstData;
    const closed = gateway.close();
    const call = subscriptions.shift()!;
    call.write(message(2));
    call.end();
    await ndjson.done;
    expect(ndjson.text().trimEnd().split("\n").map((line) => (JSON.parse(line) as { result: ChatMessage }).result.sequence)).toEqual(["1", "2"]);
    await closed;
    // The deadline never came (the clock did not move), and its timer is gone.
    expect(clock.pending()).toBe(0);
  });
});

import { status as grpcStatus, type ServerDuplexStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { ChatMessage, PostMessageRequest } from "../../generated/demo/v1/chat.js";
import type { RunningGateway } from "../../src/app.js";
import { atRest } from "../support/at-rest.js";
import { message, startChatBackend, writeMessages, type ChatHandlers, type WriteStats } from "./support/chat-backend.js";
import { send, startTestGateway } from "./support/gateway-harness.js";
import { openStream } from "./support/open-stream.js";
import { statusWithoutRequestInfo } from "./support/request-info.js";

// Streaming methods end to end: the real gateway over real sockets, in front of a grpc-js
// ChatService backend, through every upstream transport.

const SUBSCRIBE = "/v1/rooms/lobby/messages:subscribe";

describe.each(["http2", "wire", "grpc-js"] as const)("streaming end to end (%s transport)", (transport) => {
  let handlers: ChatHandlers = {};
  let backend: Awaited<ReturnType<typeof startChatBackend>>;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backend = await startChatBackend({
      subscribe: (call) => handlers.subscribe?.(call),
      postMessages: (call, callback) => handlers.postMessages?.(call, callback),
      chat: (call) => handlers.chat?.(call),
    });
    gateway = await startTestGateway({}, { upstreams: { "demo.v1.ChatService": { address: backend.address, transport } } });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  const subscribeWith = (count: number, text?: (n: number) => string) => void subscribed(count, text);
  /** Subscriptions write `count` messages; resolves with the writer of the next one. Batches are `barrier`'s (below). */
  const subscribed = (count: number, text?: (n: number) => string): Promise<WriteStats> =>
    new Promise((resolve) => {
      handlers = { subscribe: (call) => resolve(writeMessages(call, count, text)), postMessages: refuseOnceRead };
    });
  /** Refuses a batch once the gateway has sent all of it (a status-only answer: no DATA, and our side already ended). */
  const refuseOnceRead: ChatHandlers["postMessages"] = (call, callback) => {
    call.resume();
    call.on("end", () => callback({ code: grpcStatus.NOT_FOUND, details: "no such room" }));
  };
  /**
   * A batch the backend refuses once read, through the gateway and the upstream connection the
   * calls before it use: its answer comes after the backend read (and acted on) what the gateway
   * sent before it, such as a WINDOW_UPDATE.
   */
  const barrier = async () =>
    expect((await send(gateway.url, "POST", "/v1/rooms/barrier/messages:batch", { headers: { "content-type": "application/x-ndjson" }, body: '{"author":"test","text":"barrier"}' })).status).toBe(404);

  it("10,000 messages arrive complete and in order as NDJSON", async () => {
    subscribeWith(10_000);
    const response = await send(gateway.url, "GET", SUBSCRIBE);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = response.text.trimEnd().split("\n");
    expect(lines).toHaveLength(10_000);
    lines.forEach((line, index) => expect((JSON.parse(line) as { result: ChatMessage }).result.sequence).toBe(String(index + 1)));
  });

  it("10,000 messages arrive complete and in order as Server-Sent Events", async () => {
    subscribeWith(10_000);
    const response = await send(gateway.url, "GET", SUBSCRIBE, { headers: { accept: "text/event-stream" } });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const events = response.text.split("\n\n").filter(Boolean);
    expect(events).toHaveLength(10_000);
    events.forEach((event, index) => expect((JSON.parse(event.slice("data: ".length)) as ChatMessage).sequence).toBe(String(index + 1)));
  });

  it("a failure after the first messages is a last NDJSON error line (not a complete-looking 200)", async () => {
    handlers = {
      subscribe: (call) => {
        call.write(message(1));
        call.write(message(2));
        call.emit("error", { code: grpcStatus.UNAVAILABLE, details: "room closed" });
      },
    };
    const response = await send(gateway.url, "GET", SUBSCRIBE);
    expect(response.status).toBe(200);
    const lines = response.text.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(statusWithoutRequestInfo((lines[2] as { error: unknown }).error, response.headers.get("x-request-id"))).toEqual({ code: 14, message: "room closed", details: [] });
  });

  it("a failure before the first message is an ordinary HTTP error with a Status body", async () => {
    handlers = { subscribe: (call) => call.emit("error", { code: grpcStatus.NOT_FOUND, details: "no room lobby" }) };
    const response = await send(gateway.url, "GET", SUBSCRIBE);
    expect(response.status).toBe(404);
    expect(response.json).toEqual({ code: 5, message: "no room lobby", details: [] });
  });

  it("a slow reader makes the gateway stop reading the upstream (the backend is paused), with bounded memory", async () => {
    // 200 MB in messages of 10 KB: the few MB the buffers hold fill in few round trips (below).
    const flood = subscribed(20_000, () => "x".repeat(10_000));
    const before = process.memoryUsage();
    const stream = await openStream(gateway.url, SUBSCRIBE);
    stream.response.pause();
    const writer = await flood;
    await writer.firstPause;
    // The socket buffers between the client and the gateway fill up (a few MB on loopback), then
    // the backend stops: neither its writes nor their completions move across round trips through
    // the gateway to it (on the same upstream connection) while the client does not read.
    await atRest(() => writer.written + writer.flushed, barrier, 2);
    const writtenWhilePaused = writer.written;
    expect(writtenWhilePaused).toBeLessThan(10_000); // measured: about 450 (4.5 MB)
    const grown = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before.heapUsed - before.arrayBuffers;
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    // Reading again resumes the upstream.
    stream.response.resume();
    await writer.writtenPast(writtenWhilePaused);
    stream.response.destroy();
  });

  it("a client that disconnects cancels the upstream call within a second", async () => {
    const endless = subscribed(Number.MAX_SAFE_INTEGER);
    const stream = await openStream(gateway.url, SUBSCRIBE);
    await stream.firstData;
    const writer = await endless;
    const gone = Date.now();
    stream.response.destroy();
    await writer.cancellation;
    expect(writer.cancelledAt! - gone).toBeLessThan(1_000);
  });

  it("client streaming: 5,000 messages in an NDJSON body, each sent as it arrives", async () => {
    const seen: PostMessageRequest[] = [];
    handlers = {
      postMessages: (call, callback) => {
        call.on("data", (request: PostMessageRequest) => seen.push(request));
        call.on("end", () => callback(null, { count: seen.length, lastSequence: String(seen.length) }));
      },
    };
    const body = Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ author: "ada", text: `line ${i}` })).join("\n");
    const response = await send(gateway.url, "POST", "/v1/rooms/lobby/messages:batch", { headers: { "content-type": "application/x-ndjson" }, body });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ count: 5_000, lastSequence: "5000" });
    expect(seen.map((m) => m.text)).toEqual(Array.from({ length: 5_000 }, (_, i) => `line ${i}`));
    expect(seen.every((m) => m.room === "lobby")).toBe(true);
  });

  it("client streaming: a bad message in the middle is a 400 naming its index", async () => {
    let received = 0;
    handlers = {
      postMessages: (call, callback) => {
        call.on("data", () => received++);
        call.on("end", () => callback(null, { count: received, lastSequence: "0" }));
        call.on("error", () => undefined);
      },
    };
    const lines = Array.from({ length: 5_000 }, (_, i) => JSON.stringify(i === 2_500 ? { author: "ada", txt: "typo" } : { author: "ada", text: `line ${i}` }));
    const response = await send(gateway.url, "POST", "/v1/rooms/lobby/messages:batch", { headers: { "content-type": "application/x-ndjson" }, body: lines.join("\n") });
    expect(response.status).toBe(400);
    expect((response.json as { message: string }).message).toMatch(/^request message 2500: .*"txt"/);
  });

  describe("bidirectional streaming over WebSocket", () => {
    const chatEcho = (call: ServerDuplexStream<PostMessageRequest, ChatMessage>) => {
      let sequence = 0;
      call.on("data", (request: PostMessageRequest) => call.write({ ...message(++sequence, request.text), author: request.author, room: request.room }));
      call.on("end", () => call.end());
    };
    const wsUrl = (path: string) => `${gateway.url.replace(/^http/, "ws")}${path}`;
    const nextMessage = (ws: WebSocket) => new Promise<string>((resolve) => ws.once("message", (data) => resolve(data.toString())));
    const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));

    it("each message's echo arrives before the next message is sent (full duplex), then half-close ends with 1000", async () => {
      handlers = { chat: chatEcho };
      const ws = new WebSocket(wsUrl("/v1/rooms/lobby:chat"));
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      for (let i = 0; i < 20; i++) {
        const echo = nextMessage(ws);
        ws.send(JSON.stringify({ author: "ada", text: `hello ${i}` }));
        expect(JSON.parse(await echo)).toMatchObject({ room: "lobby", author: "ada", text: `hello ${i}`, sequence: String(i + 1) });
      }
      const end = closed(ws);
      ws.send(""); // half-close
      expect(await end).toEqual({ code: 1000, reason: "" });
    });

    it("a gRPC error closes the socket with 4000 + the code and the status message", async () => {
      handlers = { chat: (call) => call.emit("error", { code: grpcStatus.PERMISSION_DENIED, details: "read-only room" }) };
      const ws = new WebSocket(wsUrl("/v1/rooms/lobby:chat"));
      expect(await closed(ws)).toEqual({ code: 4007, reason: "read-only room" });
    });

    it("a client that closes cancels the upstream call", async () => {
      let cancel: () => void = () => undefined;
      const cancelled = new Promise<void>((resolve) => (cancel = resolve));
      handlers = { chat: (call) => call.on("cancelled", () => cancel()) };
      const ws = new WebSocket(wsUrl("/v1/rooms/lobby:chat"));
      await new Promise((resolve) => ws.once("open", resolve));
      ws.terminate();
      await cancelled;
    });

    it("a server-streaming method over WebSocket: every reply a text frame, then 1000", async () => {
      subscribeWith(100);
      const ws = new WebSocket(wsUrl(`${SUBSCRIBE}?replay=1`));
      const frames: string[] = [];
      ws.on("message", (data) => frames.push(data.toString()));
      expect((await closed(ws)).code).toBe(1000);
      expect(frames.map((frame) => (JSON.parse(frame) as ChatMessage).sequence)).toEqual(Array.from({ length: 100 }, (_, i) => String(i + 1)));
    });
  });
});

describe("WebSocket upgrades are checked at the edge before they are accepted", () => {
  let backend: Awaited<ReturnType<typeof startChatBackend>>;
  let gateway: RunningGateway;
  const SECRET = "ws-e2e-hmac-secret-0123456789abcdef01234567";

  beforeAll(async () => {
    backend = await startChatBackend({ chat: (call: ServerDuplexStream<PostMessageRequest, ChatMessage>) => call.on("end", () => call.end()) });
    gateway = await startTestGateway(
      { "demo.v1.ChatService": backend.address },
      {
        auth: {
          mode: "on",
          jwt: { issuers: [{ issuer: "https://ws.test", audiences: ["protogate"], algorithms: ["HS256"], hmacSecret: SECRET }] },
          tokenSources: [{ header: "authorization" }, { webSocketProtocol: "base64url.bearer.authorization.protogate." }],
          rules: [{ selector: "demo.v1.ChatService.*", public: false, scopes: [] }],
        },
        rateLimits: { limits: [{ name: "per-ip", key: "ip", requests: 4, periodSeconds: 3600, methods: ["demo.v1.ChatService.Chat"] }] },
        streaming: { maxMessageBytes: 4096, webSocket: { pingIntervalMs: 100 } },
      },
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  const token = async () => {
    const { SignJWT } = await import("jose");
    return new SignJWT({ sub: "ada" }).setProtectedHeader({ alg: "HS256" }).setIssuer("https://ws.test").setAudience("protogate").setIssuedAt().setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
  };
  /** The HTTP answer to an upgrade the gateway refused. */
  const refusal = (ws: WebSocket) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      ws.once("open", () => reject(new Error("the upgrade was accepted")));
      ws.once("unexpected-response", (_req, res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
    });
  const url = () => `${gateway.url.replace(/^http/, "ws")}/v1/rooms/lobby:chat`;

  it("no credentials: the upgrade is refused with 401 and a Status body", async () => {
    const { status, body } = await refusal(new WebSocket(url()));
    expect(status).toBe(401);
    expect(body).toMatchObject({ code: 16 });
  });

  it("a token in Sec-WebSocket-Protocol (browsers) is accepted, and only the other protocol is echoed", async () => {
    const encoded = Buffer.from(await token()).toString("base64url");
    const ws = new WebSocket(url(), [`base64url.bearer.authorization.protogate.${encoded}`, "protogate"]);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    expect(ws.protocol).toBe("protogate");
    ws.close();
  });

  it("a frame over streaming.maxMessageBytes closes the connection with 1009", async () => {
    const ws = new WebSocket(url(), { headers: { authorization: `Bearer ${await token()}` } });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send(JSON.stringify({ author: "ada", text: "x".repeat(5_000) }));
    expect(await closed).toBe(1009);
  });

  it("a peer that does not answer pings is disconnected", async () => {
    const ws = new WebSocket(url(), { headers: { authorization: `Bearer ${await token()}` }, autoPong: false });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    // Two ping intervals (100 ms each) without a pong: the gateway terminates the connection.
    expect(await new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)))).toBe(1006);
  });

  it("rate limits apply at the upgrade: the fifth from this address gets 429 with Retry-After", async () => {
    const bearer = { headers: { authorization: `Bearer ${await token()}` } };
    // The protocol, frame-size and ping tests above counted three times already.
    const third = new WebSocket(url(), bearer);
    await new Promise((resolve, reject) => third.once("open", resolve).once("error", reject));
    third.close();
    const fourth = await refusal(new WebSocket(url(), bearer));
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ code: 8 });
  });

  it("an upgrade on a path with no streaming method is a 404 Status", async () => {
    const { status } = await refusal(new WebSocket(`${gateway.url.replace(/^http/, "ws")}/v1/users/u-1`));
    expect(status).toBe(404);
    expect((await send(gateway.url, "GET", "/v1/nothing")).status).toBe(404);
  });
});


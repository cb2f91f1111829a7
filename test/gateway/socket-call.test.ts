import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChatMessage, PostMessageRequest, SubscribeRequest } from "../../generated/demo/v1/chat.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import type { Admission, MessageSocket, SocketFrame } from "../../src/gateway/pipeline.js";
import type { Exchange } from "../../src/observe/exchange.js";
import { truncateUtf8 } from "../../src/gateway/socket-call.js";
import { createFakeClock } from "../support/fake-clock.js";
import { createPipelineHarness, gatewayRequest, type PipelineHarness } from "./support/pipeline-harness.js";

// WebSocket calls through the framework-neutral pipeline: a fake socket, a scripted upstream.

const chat = (sequence: number, text: string) => ChatMessage.encode({ room: "lobby", sequence: String(sequence), author: "ada", text, postTime: undefined }).finish();

/** A socket the test plays the client of: `receive` frames, read what was `sent`, see how it closed. */
class FakeSocket implements MessageSocket {
  readonly sent: string[] = [];
  closedWith: { code: number; reason: string } | undefined;
  private readonly incoming: Array<SocketFrame | null> = [];
  private waiter: (() => void) | undefined;
  private sentWaiter: (() => void) | undefined;

  receive(frame: SocketFrame | null): void {
    this.incoming.push(frame);
    this.waiter?.();
  }

  async *frames(): AsyncGenerator<SocketFrame> {
    for (;;) {
      const frame = this.incoming.shift();
      if (frame === null) return;
      if (frame !== undefined) {
        yield frame;
        continue;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  async send(data: string | Buffer): Promise<void> {
    this.sent.push(data.toString());
    this.sentWaiter?.();
  }

  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
    this.receive(null);
  }

  /** Waits until `count` frames have been sent. */
  async sentCount(count: number): Promise<void> {
    while (this.sent.length < count) await new Promise<void>((resolve) => (this.sentWaiter = resolve));
  }
}

describe("WebSocket calls in the pipeline", () => {
  let harness: PipelineHarness;
  let clock: ReturnType<typeof createFakeClock>;

  beforeEach(async () => {
    clock = createFakeClock();
    harness = await createPipelineHarness({ deadlines: { streams: { idleTimeoutMs: 60_000 } } }, clock);
  });
  afterEach(() => harness.close());

  async function open(url: string): Promise<{ socket: FakeSocket; done: Promise<void>; controller: AbortController; exchange: Exchange }> {
    const { exchange } = gatewayRequest("GET", url, { headers: { upgrade: "websocket" } });
    const admitted = await harness.pipeline.admitUpgrade(exchange);
    if ("status" in admitted) throw new Error(`refused: ${admitted.status} ${String(admitted.body)}`);
    const socket = new FakeSocket();
    const controller = new AbortController();
    const done = harness.pipeline.runSocket(exchange, admitted as Admission, socket, controller.signal);
    return { socket, done, controller, exchange };
  }

  it("finds the streaming route at the path whatever the rule's verb (the chat rule is a POST)", async () => {
    const admitted = await harness.pipeline.admitUpgrade(gatewayRequest("GET", "/v1/rooms/lobby:chat").exchange);
    expect("route" in admitted && admitted.route.binding.method).toBe("Chat");
  });

  it("refuses an upgrade on a path with no streaming method: an ordinary 404 Status", async () => {
    const refused = await harness.pipeline.admitUpgrade(gatewayRequest("GET", "/v1/users/u-1").exchange);
    expect("status" in refused && refused.status).toBe(404);
  });

  it("bidi: each text frame goes upstream as it arrives, each reply comes back as one text frame, full duplex", async () => {
    const opened = harness.upstream.nextStream();
    const { socket, done } = await open("/v1/rooms/lobby:chat");
    const stream = await opened;
    socket.receive({ text: '{"author":"ada","text":"ping"}' });
    await settle();
    expect(stream.written.map((bytes) => PostMessageRequest.decode(bytes))).toEqual([{ room: "lobby", author: "ada", text: "ping" }]);
    stream.reply(chat(1, "pong"));
    await socket.sentCount(1);
    expect(JSON.parse(socket.sent[0])).toMatchObject({ text: "pong", sequence: "1" });
    // The echo arrived before the next message was sent: not buffered until half-close.
    socket.receive({ text: '{"author":"ada","text":"again"}' });
    await settle();
    expect(stream.written).toHaveLength(2);
    socket.receive({ text: "" }); // half-close
    await settle();
    expect(stream.ended).toBe(true);
    stream.reply(chat(2, "last")).finish();
    await done;
    expect(socket.sent).toHaveLength(2);
    expect(socket.closedWith).toEqual({ code: 1000, reason: "" });
  });

  it("a gRPC error closes with 4000 + its code and the status message", async () => {
    const opened = harness.upstream.nextStream();
    const { socket, done } = await open("/v1/rooms/lobby:chat");
    (await opened).fail(GrpcCode.NOT_FOUND, "no room lobby");
    await done;
    expect(socket.closedWith).toEqual({ code: 4005, reason: "no room lobby" });
  });

  it("a binary frame closes with 1003 and cancels the call", async () => {
    const opened = harness.upstream.nextStream();
    const { socket, done } = await open("/v1/rooms/lobby:chat");
    const stream = await opened;
    socket.receive({ binary: true });
    await done;
    expect(socket.closedWith?.code).toBe(1003);
    expect(stream.cancelled).toBe(true);
  });

  it("a bad message closes with 4003 naming its index", async () => {
    const opened = harness.upstream.nextStream();
    const { socket, done } = await open("/v1/rooms/lobby:chat");
    await opened;
    socket.receive({ text: '{"text":"fine"}' });
    socket.receive({ text: '{"text":42}' });
    await done;
    expect(socket.closedWith?.code).toBe(4003);
    expect(socket.closedWith?.reason).toMatch(/^request message 1: /);
  });

  it("a peer that goes away cancels the upstream call", async () => {
    const opened = harness.upstream.nextStream();
    const { socket, done, controller } = await open("/v1/rooms/lobby:chat");
    const stream = await opened;
    controller.abort();
    socket.receive(null);
    await done;
    expect(stream.cancelled).toBe(true);
  });

  it("server streaming without a body: the request comes from the path and query at once", async () => {
    const opened = harness.upstream.nextStream();
    const { socket, done } = await open("/v1/rooms/lobby/messages:subscribe?replay=3");
    const stream = await opened;
    await settle();
    expect(stream.written.map((bytes) => SubscribeRequest.decode(bytes))).toEqual([{ room: "lobby", replay: 3, limit: 0 }]);
    expect(stream.ended).toBe(true);
    stream.reply(chat(1, "a")).reply(chat(2, "b")).finish();
    await done;
    expect(socket.sent.map((text) => (JSON.parse(text) as { text: string }).text)).toEqual(["a", "b"]);
    expect(socket.closedWith?.code).toBe(1000);
  });

  it("an idle stream closes with 4004 (DEADLINE_EXCEEDED) after the idle timeout", async () => {
    const opened = harness.upstream.nextStream();
    const { socket, done } = await open("/v1/rooms/lobby:chat");
    await opened;
    clock.advance(60_000);
    await done;
    expect(socket.closedWith).toEqual({ code: 4004, reason: "the stream was idle for 60000 ms (no message in either direction)" });
  });
});

describe("truncateUtf8", () => {
  it.each([
    ["short", 123, "short"],
    ["x".repeat(200), 123, `${"x".repeat(120)}...`],
    ["é".repeat(100), 123, `${"é".repeat(60)}...`],
  ])("%s fits %i bytes", (text, max, expected) => {
    const out = truncateUtf8(text, max);
    expect(out).toBe(expected);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(max);
  });
});

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

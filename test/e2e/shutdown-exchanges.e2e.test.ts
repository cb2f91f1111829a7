import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createFakeClock } from "../support/fake-clock.js";
import { startChatBackend } from "./support/chat-backend.js";
import { startTestGateway } from "./support/gateway-harness.js";
import { watchExchanges } from "./support/exchange-watch.js";

describe("shutdown ends every exchange before close() resolves", () => {
  let backend: Awaited<ReturnType<typeof startChatBackend>>;
  let upstreamCalls = 0;

  beforeAll(async () => {
    // The chat backend holds every call open until the gateway cancels it.
    backend = await startChatBackend({ chat: () => upstreamCalls++ });
  });
  afterAll(() => backend?.close());

  it("regression: close() resolved before an open WebSocket call's exchange had ended (its access-log line and span were lost)", async () => {
    const { ended, observer } = watchExchanges();
    const clock = createFakeClock();
    const gateway = await startTestGateway({ "demo.v1.ChatService": backend.address }, { server: { drainTimeoutMs: 5_000 } }, { observe: { observers: [observer] }, timers: clock });
    const ws = new WebSocket(`${gateway.url.replace("http", "ws")}/v1/rooms/lobby:chat`);
    const closedWith = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const closed = gateway.close();
    // The WebSocket is closed at the drain deadline (1001).
    clock.advance(5_000);
    await closed;
    expect(ended.map((exchange) => ({ status: exchange.status, route: exchange.binding?.pattern, code: exchange.grpcCode }))).toEqual([
      { status: 101, route: "/v1/rooms/{room}:chat", code: 1 },
    ]);
    expect(await closedWith).toBe(1001);
    expect(upstreamCalls).toBe(1);
  });
});

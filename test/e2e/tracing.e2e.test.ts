import type { Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { message, startChatBackend, writeMessages } from "./support/chat-backend.js";
import { send, startTestGateway, startUserBackend, getUserOrNotFound } from "./support/gateway-harness.js";
import { startOtlpCollector, type CollectedSpan } from "./support/otlp-collector.js";
import { watchExchanges } from "./support/exchange-watch.js";

// Tracing end to end: the real gateway in front of grpc-js backends, exporting to a stand-in
// OTLP/HTTP collector; the spans are read after close(), which must flush them.

const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_PARENT = "00f067aa0ba902b7";
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`;
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
function parseTraceparent(value: string): { traceId: string; parentId: string; flags: string } {
  const [, traceId, parentId, flags] = TRACEPARENT.exec(value) ?? [];
  if (traceId === undefined) throw new Error(`not a traceparent: ${value}`);
  return { traceId, parentId, flags };
}

describe("tracing end to end", () => {
  let users: Awaited<ReturnType<typeof startUserBackend>>;
  let chat: Awaited<ReturnType<typeof startChatBackend>>;
  const chatMetadata: Metadata[] = [];

  beforeAll(async () => {
    users = await startUserBackend({
      getUser: getUserOrNotFound,
    });
    chat = await startChatBackend({
      subscribe: (call) => {
        chatMetadata.push(call.metadata);
        writeMessages(call, 3);
      },
      chat: (call) => {
        chatMetadata.push(call.metadata);
        let sequence = 0;
        call.on("data", () => call.write(message(++sequence)));
        call.on("end", () => call.end());
      },
    });
  });
  afterAll(async () => {
    await users?.close();
    await chat?.close();
  });

  /** Starts a traced gateway, runs `requests` against it, closes it (flushing) and returns what the collector got. */
  async function traced(requests: (url: string) => Promise<number>, tracing: Record<string, unknown> = {}): Promise<{ spans: CollectedSpan[]; contentTypes: string[]; exported: Buffer }> {
    const collector = await startOtlpCollector();
    const exchanges = watchExchanges();
    try {
      const gateway = await startTestGateway(
        { "demo.v1.UserService": users.address, "demo.v1.ChatService": chat.address },
        { tracing: { serviceName: "edge-test", otlp: { endpoint: collector.endpoint }, ...tracing }, transcoding: { ignoreUnknownQueryParameters: true } },
        { observe: { observers: [exchanges.observer] } },
      );
      let sent = 0;
      try {
        sent = await requests(gateway.url);
      } finally {
        // A WebSocket exchange ends a moment after the client saw the close: wait for every one.
        await exchanges.reached(sent);
        await gateway.close();
      }
      // close() resolved only after the export was answered: every span is here, none still on its way.
      return { spans: collector.spans.slice(), contentTypes: collector.contentTypes.slice(), exported: Buffer.concat(collector.bodies) };
    } finally {
      await collector.close();
    }
  }

  const lastUserMetadata = () => users.calls.at(-1)!.metadata;

  it("continues the client's trace: the backend's parent is the gateway's CLIENT span, itself the SERVER span's child", async () => {
    let seen: string[] = [];
    const { spans, contentTypes, exported } = await traced(async (url) => {
      const response = await send(url, "GET", "/v1/users/u-1?session=secret-token", { headers: { traceparent: CLIENT_TRACEPARENT, tracestate: "vendor=abc", "x-request-id": "req-trace-1" } });
      expect(response.status).toBe(200);
      seen = lastUserMetadata().get("traceparent").map(String);
      expect(lastUserMetadata().get("tracestate")).toEqual(["vendor=abc"]);
      return 1;
    });
    expect(contentTypes.every((type) => type === "application/x-protobuf")).toBe(true);
    expect(spans).toHaveLength(2);
    const server = spans.find((s) => s.kind === SERVER)!;
    const client = spans.find((s) => s.kind === CLIENT)!;
    expect(seen).toHaveLength(1);
    expect(parseTraceparent(seen[0])).toEqual({ traceId: CLIENT_TRACE, parentId: client.spanId, flags: "01" });
    expect({ trace: server.traceId, parent: server.parentSpanId, service: server.service }).toEqual({ trace: CLIENT_TRACE, parent: CLIENT_PARENT, service: "edge-test" });
    expect({ trace: client.traceId, parent: client.parentSpanId }).toEqual({ trace: CLIENT_TRACE, parent: server.spanId });
    expect(server.name).toBe("GET /v1/users/{user_id}");
    expect(server.attributes).toMatchObject({
      "http.request.method": "GET",
      "http.route": "/v1/users/{user_id}",
      "http.response.status_code": 200,
      "url.path": "/v1/users/u-1",
      "rpc.service": "demo.v1.UserService",
      "rpc.method": "GetUser",
      "rpc.grpc.status_code": 0,
      "protogate.request_id": "req-trace-1",
    });
    expect(client).toMatchObject({ name: "demo.v1.UserService/GetUser", statusCode: 0, attributes: { "rpc.system": "grpc", "rpc.service": "demo.v1.UserService", "rpc.method": "GetUser", "rpc.grpc.status_code": 0 } });
    expect(exported.includes("secret-token")).toBe(false);
    expect(exported.includes("/v1/users/u-1")).toBe(true);
  });

  it("no traceparent, or a malformed one: a new trace, which the backend continues", async () => {
    const seen: string[][] = [];
    const { spans } = await traced(async (url) => {
      for (const headers of [{}, { traceparent: "00-zzzz-01" }] as Array<Record<string, string>>) {
        expect((await send(url, "GET", "/v1/users/u-2", { headers })).status).toBe(200);
        seen.push(lastUserMetadata().get("traceparent").map(String));
      }
      return 2;
    });
    expect(spans).toHaveLength(4);
    for (const values of seen) {
      expect(values).toHaveLength(1);
      const { traceId, parentId } = parseTraceparent(values[0]);
      const client = spans.find((s) => s.spanId === parentId)!;
      const server = spans.find((s) => s.spanId === client.parentSpanId)!;
      expect({ clientTrace: client.traceId, serverKind: server.kind, serverTrace: server.traceId, serverParent: server.parentSpanId }).toEqual({ clientTrace: traceId, serverKind: SERVER, serverTrace: traceId, serverParent: undefined });
    }
    expect(parseTraceparent(seen[0][0]).traceId).not.toBe(parseTraceparent(seen[1][0]).traceId);
  });

  it("failures: an unmatched path and an upstream error are ERROR spans with their codes", async () => {
    const { spans } = await traced(async (url) => {
      expect((await send(url, "GET", "/v1/nowhere")).status).toBe(404);
      expect((await send(url, "GET", "/v1/users/missing")).status).toBe(404);
      return 2;
    });
    const byName = (name: string) => spans.filter((s) => s.name === name);
    expect(byName("GET unmatched")).toMatchObject([{ kind: SERVER, statusCode: ERROR, attributes: { "http.response.status_code": 404, "rpc.grpc.status_code": 5, "error.type": "PG_ERR_ROUTE_NOT_FOUND" } }]);
    expect(byName("GET unmatched")[0].attributes["http.route"]).toBeUndefined();
    expect(byName("GET /v1/users/{user_id}")).toMatchObject([{ kind: SERVER, statusCode: ERROR, attributes: { "rpc.grpc.status_code": 5 } }]);
    expect(byName("demo.v1.UserService/GetUser")).toMatchObject([{ kind: CLIENT, statusCode: ERROR, attributes: { "rpc.grpc.status_code": 5 } }]);
  });

  it("a server stream and a WebSocket chat: one CLIENT span per call, the backend told of it", async () => {
    chatMetadata.length = 0;
    const { spans } = await traced(async (url) => {
      const streamed = await send(url, "GET", "/v1/rooms/lobby/messages:subscribe", { headers: { traceparent: CLIENT_TRACEPARENT } });
      expect(streamed.text.trimEnd().split("\n")).toHaveLength(3);
      const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/rooms/lobby:chat`);
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      const echo = new Promise((resolve) => ws.once("message", resolve));
      ws.send(JSON.stringify({ author: "ada", text: "hi" }));
      await echo;
      const closed = new Promise((resolve) => ws.once("close", resolve));
      ws.send(""); // half-close: the call ends, then the socket
      await closed;
      return 2;
    });
    expect(spans.map((s) => [s.kind, s.name]).sort()).toEqual(
      [
        [SERVER, "GET /v1/rooms/{room}/messages:subscribe"],
        [CLIENT, "demo.v1.ChatService/Subscribe"],
        [SERVER, "GET /v1/rooms/{room}:chat"],
        [CLIENT, "demo.v1.ChatService/Chat"],
      ].sort(),
    );
    expect(chatMetadata).toHaveLength(2);
    for (const metadata of chatMetadata) {
      const values = metadata.get("traceparent").map(String);
      expect(values).toHaveLength(1);
      const client = spans.find((s) => s.spanId === parseTraceparent(values[0]).parentId)!;
      expect(client.kind).toBe(CLIENT);
      expect(spans.find((s) => s.spanId === client.parentSpanId)?.kind).toBe(SERVER);
    }
    expect(parseTraceparent(chatMetadata[0].get("traceparent").map(String)[0]).traceId).toBe(CLIENT_TRACE);
    const ws = spans.find((s) => s.name === "GET /v1/rooms/{room}:chat")!;
    expect(ws.attributes["http.response.status_code"]).toBe(101);
  });

  it("sampling ratio 0: nothing exported, the backend still gets a traceparent (unsampled)", async () => {
    let seen: string[] = [];
    const { spans } = await traced(async (url) => {
      await send(url, "GET", "/v1/users/u-3");
      seen = lastUserMetadata().get("traceparent").map(String);
      return 1;
    }, { samplingRatio: 0 });
    expect(spans).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(parseTraceparent(seen[0]).flags).toBe("00");
  });

  it("tracing off: the client's trace headers reach the backend unchanged", async () => {
    const gateway = await startTestGateway({ "demo.v1.UserService": users.address });
    try {
      await send(gateway.url, "GET", "/v1/users/u-4", { headers: { traceparent: CLIENT_TRACEPARENT, tracestate: "vendor=abc" } });
      expect(lastUserMetadata().get("traceparent")).toEqual([CLIENT_TRACEPARENT]);
      expect(lastUserMetadata().get("tracestate")).toEqual(["vendor=abc"]);
    } finally {
      await gateway.close();
    }
  });

  it("tracing: enabled false is off too (the client's header passes)", async () => {
    const collector = await startOtlpCollector();
    const gateway = await startTestGateway({ "demo.v1.UserService": users.address }, { tracing: { enabled: false, otlp: { endpoint: collector.endpoint } } });
    try {
      await send(gateway.url, "GET", "/v1/users/u-5", { headers: { traceparent: CLIENT_TRACEPARENT } });
      expect(lastUserMetadata().get("traceparent")).toEqual([CLIENT_TRACEPARENT]);
    } finally {
      await gateway.close();
      await collector.close();
    }
    expect(collector.spans).toEqual([]);
  });
});

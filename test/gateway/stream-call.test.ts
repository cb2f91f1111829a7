import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChatMessage, PostMessageRequest, PostMessagesResponse, SubscribeRequest } from "../../generated/demo/v1/chat.js";
import { ErrorInfo } from "../../generated/google/rpc/error_details.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { createFakeClock } from "../support/fake-clock.js";
import { bodyText, createPipelineHarness, feed, gatewayRequest, type PipelineHarness } from "./support/pipeline-harness.js";

// Streaming methods through the framework-neutral pipeline, against a scripted upstream and a
// manual clock: framing, errors before and after the first reply, keep-alives, idle timeouts,
// cancellation, and the request side of client and bidirectional streams.

const chat = (sequence: number, text: string) => ChatMessage.encode({ room: "lobby", sequence: String(sequence), author: "ada", text, postTime: undefined }).finish();
const SUBSCRIBE = "/v1/rooms/lobby/messages:subscribe";
const status = (line: string) => JSON.parse(line) as { code: number; message: string; details: Array<{ reason?: string }> };

describe("streaming methods in the pipeline", () => {
  let harness: PipelineHarness;
  let clock: ReturnType<typeof createFakeClock>;

  beforeEach(async () => {
    clock = createFakeClock();
    harness = await createPipelineHarness({ deadlines: { streams: { idleTimeoutMs: 60_000 } }, streaming: { sseKeepAliveMs: 15_000 } }, clock);
  });
  afterEach(() => harness.close());

  describe("server streaming", () => {
    it("writes each reply as an NDJSON line {\"result\": ...} and builds the request from path and query", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", `${SUBSCRIBE}?replay=5`));
      const stream = await opened;
      stream.reply(chat(1, "hi")).reply(chat(2, "there")).finish();
      const answer = await response;
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toBe("application/x-ndjson");
      expect(await bodyText(answer)).toBe('{"result":{"room":"lobby","sequence":"1","author":"ada","text":"hi"}}\n{"result":{"room":"lobby","sequence":"2","author":"ada","text":"there"}}\n');
      expect(stream.written.map((bytes) => SubscribeRequest.decode(bytes))).toEqual([{ room: "lobby", replay: 5, limit: 0 }]);
      expect(stream.ended).toBe(true);
      expect(stream.call.deadline).toBeUndefined(); // a stream is not cut by the unary default
    });

    it("writes Server-Sent Events when the client accepts text/event-stream", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE, { headers: { accept: "text/event-stream" } }));
      (await opened).reply(chat(1, "hi")).finish();
      const answer = await response;
      expect(answer.headers).toMatchObject({ "content-type": "text/event-stream", "cache-control": "no-cache" });
      expect(await bodyText(answer)).toBe('data: {"room":"lobby","sequence":"1","author":"ada","text":"hi"}\n\n');
    });

    it("answers a failure before the first reply as an ordinary error response", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE));
      (await opened).fail(GrpcCode.NOT_FOUND, "no room lobby");
      const answer = await response;
      expect(answer.status).toBe(404);
      expect(status(answer.body as string)).toEqual({ code: 5, message: "no room lobby", details: [{ "@type": "type.googleapis.com/google.rpc.RequestInfo", requestId: "test-request" }] });
    });

    it.each([
      ["NDJSON", undefined, '{"error":{"code":14,"message":"room closed","details":[{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"test-request"}]}}\n'],
      ["SSE", "text/event-stream", 'event: error\ndata: {"code":14,"message":"room closed","details":[{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"test-request"}]}\n\n'],
    ])("ends with a last %s error after a failure mid-stream (not a 200 that looks complete)", async (_name, accept, last) => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE, { headers: accept ? { accept } : {} }));
      (await opened).reply(chat(1, "hi")).fail(GrpcCode.UNAVAILABLE, "room closed");
      const text = await bodyText(await response);
      expect(text.endsWith(last)).toBe(true);
      expect(text.split(accept ? "\n\n" : "\n").filter(Boolean)).toHaveLength(2);
    });

    it("writes the map in error details mid-stream in key order, not the upstream's (ErrorInfo.metadata)", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE));
      const info = ErrorInfo.encode({ reason: "ROOM_CLOSED", domain: "chat.example", metadata: new Map([["room", "lobby"], ["closed_by", "ada"], ["10", "x"], ["9", "y"]]) }).finish();
      (await opened).reply(chat(1, "hi")).fail(GrpcCode.UNAVAILABLE, "room closed", [], [{ typeUrl: "type.googleapis.com/google.rpc.ErrorInfo", value: Buffer.from(info) }]);
      const lines = (await bodyText(await response)).trim().split("\n");
      expect(lines[1]).toContain('"metadata":{"10":"x","9":"y","closed_by":"ada","room":"lobby"}');
    });

    it("a stream that ends with no reply is an empty 200", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE));
      (await opened).finish();
      const answer = await response;
      expect(answer.status).toBe(200);
      expect(await bodyText(answer)).toBe("");
    });

    it("sends SSE keep-alive comments while the next reply is slow to come", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE, { headers: { accept: "text/event-stream" } }));
      const stream = await opened;
      stream.reply(chat(1, "hi"));
      const body = (await response).body as AsyncIterable<string>;
      const chunks = body[Symbol.asyncIterator]();
      expect((await chunks.next()).value).toContain('"text":"hi"');
      const pending = chunks.next();
      await settle();
      clock.advance(15_000);
      expect((await pending).value).toBe(": keep-alive\n\n");
      stream.reply(chat(2, "later")).finish();
      expect((await chunks.next()).value).toContain('"text":"later"');
      expect((await chunks.next()).done).toBe(true);
    });

    it("a quiet SSE stream is answered 200 with a keep-alive after one interval; a later failure is an error event", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE, { headers: { accept: "text/event-stream" } }));
      const stream = await opened;
      await settle();
      clock.advance(15_000);
      const answer = await response;
      expect(answer.status).toBe(200);
      const chunks = (answer.body as AsyncIterable<string>)[Symbol.asyncIterator]();
      expect((await chunks.next()).value).toBe(": keep-alive\n\n");
      stream.reply(chat(1, "finally")).fail(GrpcCode.UNAVAILABLE, "room closed");
      expect((await chunks.next()).value).toContain('"text":"finally"');
      expect((await chunks.next()).value).toBe('event: error\ndata: {"code":14,"message":"room closed","details":[{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"test-request"}]}\n\n');
      expect((await chunks.next()).done).toBe(true);
    });

    it("a quiet NDJSON stream waits for its first reply (a failure before it is still an ordinary error)", async () => {
      const opened = harness.upstream.nextStream();
      let answered = false;
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE)).then((value) => {
        answered = true;
        return value;
      });
      const stream = await opened;
      clock.advance(50_000);
      await settle();
      expect(answered).toBe(false);
      stream.fail(GrpcCode.NOT_FOUND, "no room");
      expect((await response).status).toBe(404);
    });

    it("ends a stream idle for the idle timeout with a DEADLINE_EXCEEDED error line and cancels the upstream", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE));
      const stream = await opened;
      stream.reply(chat(1, "hi"));
      const text = bodyText(await response);
      await settle();
      clock.advance(30_000);
      stream.reply(chat(2, "still here"));
      await settle();
      clock.advance(59_999);
      await settle();
      expect(stream.cancelled).toBe(false);
      clock.advance(1);
      const lines = (await text).trim().split("\n");
      expect(lines).toHaveLength(3);
      const error = (JSON.parse(lines[2]) as { error: ReturnType<typeof status> }).error;
      expect(error).toMatchObject({ code: 4, message: "the stream was idle for 60000 ms (no message in either direction)" });
      expect(error.details[0].reason).toBe("PG_ERR_STREAM_IDLE");
      expect(stream.cancelled).toBe(true);
    });

    it("cancels the upstream when the client stops reading the body (it went away)", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE));
      const stream = await opened;
      stream.reply(chat(1, "hi"));
      const chunks = ((await response).body as AsyncIterable<string>)[Symbol.asyncIterator]();
      await chunks.next();
      await chunks.return?.(undefined);
      expect(stream.cancelled).toBe(true);
    });

    it("the client's grpc-timeout gives the stream a deadline", async () => {
      const opened = harness.upstream.nextStream();
      void harness.pipeline.handle(gatewayRequest("GET", SUBSCRIBE, { headers: { "grpc-timeout": "5S" } }));
      const stream = await opened;
      expect(stream.call.timeoutMs).toBe(5_000);
      expect(stream.call.deadline).toBe(clock.now() + 5_000);
      stream.finish();
    });
  });

  describe("client streaming", () => {
    const BATCH = "/v1/rooms/lobby/messages:batch";

    it("sends each JSON value of the body as a message as it arrives, the path's field set in every one", async () => {
      const body = feed();
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("POST", BATCH, { headers: { "content-type": "application/x-ndjson" }, chunks: body.chunks }));
      const stream = await opened;
      body.push('{"author":"ada","text":"one"}\n{"author":"bob",');
      await settle();
      expect(stream.written.map((bytes) => PostMessageRequest.decode(bytes))).toEqual([{ room: "lobby", author: "ada", text: "one" }]);
      body.push('"text":"two"}\n');
      body.end();
      await settle();
      expect(stream.written.map((bytes) => PostMessageRequest.decode(bytes).text)).toEqual(["one", "two"]);
      expect(stream.ended).toBe(true);
      stream.reply(PostMessagesResponse.encode({ count: 2, lastSequence: "7" }).finish()).finish();
      const answer = await response;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body as string)).toEqual({ count: 2, lastSequence: "7" });
    });

    it("a bad message in the middle is a 400 naming its index, and the upstream call is cancelled", async () => {
      const body = feed();
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("POST", BATCH, { headers: { "content-type": "application/x-ndjson" }, chunks: body.chunks }));
      const stream = await opened;
      body.push('{"text":"fine"}\n{"text":"fine"}\n{"txt":"typo"}\n{"text":"never sent"}\n');
      const answer = await response;
      expect(answer.status).toBe(400);
      expect(status(answer.body as string).message).toMatch(/^request message 2: .*"txt"/);
      expect(stream.written).toHaveLength(2);
      expect(stream.cancelled).toBe(true);
    });

    it("an upstream that fails while the body is still coming ends the call at once with its status", async () => {
      const body = feed();
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("POST", BATCH, { headers: { "content-type": "application/x-ndjson" }, chunks: body.chunks }));
      const stream = await opened;
      body.push('{"text":"one"}\n');
      await settle();
      stream.fail(GrpcCode.PERMISSION_DENIED, "read-only room");
      const answer = await response;
      expect(answer.status).toBe(403);
      expect(status(answer.body as string).message).toBe("read-only room");
    });

    it("a body that is not JSON values is a 415", async () => {
      const body = feed();
      const response = harness.pipeline.handle(gatewayRequest("POST", BATCH, { headers: { "content-type": "text/plain" }, chunks: body.chunks }));
      body.push("hello");
      expect((await response).status).toBe(415);
    });

    it("a reply of two messages to a client-streaming call is the upstream's protocol violation: 502", async () => {
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("POST", BATCH, { headers: { "content-type": "application/json" } }));
      const reply = PostMessagesResponse.encode({ count: 0, lastSequence: "0" }).finish();
      (await opened).reply(reply).reply(reply).finish();
      expect((await response).status).toBe(502);
    });
  });

  describe("bidirectional streaming over HTTP", () => {
    it("writes replies while the request body is still being sent (NDJSON both ways)", async () => {
      const body = feed();
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("POST", "/v1/rooms/lobby:chat", { headers: { "content-type": "application/x-ndjson" }, chunks: body.chunks }));
      const stream = await opened;
      body.push('{"author":"ada","text":"ping"}\n');
      await settle();
      expect(stream.written).toHaveLength(1);
      stream.reply(chat(1, "pong"));
      const chunks = ((await response).body as AsyncIterable<string>)[Symbol.asyncIterator]();
      expect((await chunks.next()).value).toContain('"text":"pong"');
      body.push('{"author":"ada","text":"ping again"}\n');
      await settle();
      expect(stream.written).toHaveLength(2);
      body.end();
      await settle();
      expect(stream.ended).toBe(true);
      stream.reply(chat(2, "pong again")).finish();
      expect((await chunks.next()).value).toContain('"text":"pong again"');
      expect((await chunks.next()).done).toBe(true);
    });

    it("a bad message after replies began ends the stream with an error line naming its index", async () => {
      const body = feed();
      const opened = harness.upstream.nextStream();
      const response = harness.pipeline.handle(gatewayRequest("POST", "/v1/rooms/lobby:chat", { headers: { "content-type": "application/x-ndjson" }, chunks: body.chunks }));
      const stream = await opened;
      stream.reply(chat(1, "welcome"));
      const text = bodyText(await response);
      body.push('{"text":"ok"}\n{"text":');
      body.push("42}\n");
      const lines = (await text).trim().split("\n");
      expect(lines).toHaveLength(2);
      expect((JSON.parse(lines[1]) as { error: { message: string } }).error.message).toMatch(/^request message 1: /);
      expect(stream.cancelled).toBe(true);
    });
  });
});

/** Lets pending promise callbacks run (no time passes). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

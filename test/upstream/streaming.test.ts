import { constants, type ServerHttp2Stream } from "node:http2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { encodeRpcStatus } from "../../src/errors/rpc-status.js";
import { toGatewayError } from "../../src/errors/to-gateway-error.js";
import { createGrpcUpstream } from "../../src/upstream/grpc-upstream.js";
import { createHttp2Upstream } from "../../src/upstream/http2-upstream.js";
import { createWireUpstream } from "../../src/upstream/wire-upstream.js";
import { STREAM_RESEND_BYTES } from "../../src/upstream/grpc-stream.js";
import { UpstreamError } from "../../src/upstream/upstream-error.js";
import type { UpstreamOptions, UpstreamTransport } from "../../src/upstream/upstream-options.js";
import type { StreamCall, Upstream, UpstreamStream } from "../../src/upstream/upstream.js";
import { atRest, roundTripsUntil } from "../support/at-rest.js";
import { createFakeClock } from "../support/fake-clock.js";
import { clientHasRead, grpcFrame, startRawGrpcServer, type RawGrpcServer, type RawHandler } from "./support/raw-grpc-server.js";
import { FAILURE, MESSAGES_BEFORE_FAILURE, countRequest, indexOf, indexedMessage, path, startStreamingBackend, type StreamingBackend } from "./support/streaming-backend.js";
import { readAll, rejection } from "./support/upstream-results.js";

// Streaming calls through both transports: the same cases against each, so that the HTTP side
// (NDJSON, SSE, WebSocket) behaves alike whichever transport an upstream uses.

const TRANSPORTS: ReadonlyArray<[UpstreamTransport, (target: { address: string }, options?: UpstreamOptions) => Upstream]> = [
  ["grpc-js", createGrpcUpstream],
  ["http2", createHttp2Upstream],
  ["wire", createWireUpstream],
];

const DETAIL_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";
const DETAIL_VALUE = Buffer.from([10, 4, 109, 111, 118, 101]); // ErrorInfo{reason: "move"}
const STATUS_DETAILS = Buffer.from(encodeRpcStatus({ code: FAILURE.code, message: FAILURE.details, details: [{ typeUrl: DETAIL_TYPE, value: DETAIL_VALUE }] }));

const upstreams: Upstream[] = [];
afterEach(() => {
  for (const upstream of upstreams.splice(0)) upstream.close();
});

describe.each(TRANSPORTS)("streaming calls through the %s transport against a grpc-js backend", (transport, createUpstream) => {
  let backend: StreamingBackend;
  let upstream: Upstream;
  beforeAll(async () => {
    backend = await startStreamingBackend(STATUS_DETAILS);
    upstream = createUpstream({ address: backend.address });
  });
  afterAll(() => {
    upstream?.close();
    backend?.close();
  });

  let calls = 0;
  /** Opens a call of `method` with a test id of its own; returns the stream and the backend's record of it. */
  const open = (method: string, overrides: Partial<StreamCall> = {}, on: Upstream = upstream) => {
    const id = `${transport}-${method}-${++calls}`;
    const stream = on.stream({ rpcPath: path(method), metadata: [["x-test-id", id]], deadline: undefined, ...overrides });
    return { stream, record: backend.record(id) };
  };

  /**
   * A call the backend fails at once (trailers-only), on the same connection as the calls before
   * it: its answer comes after everything the backend sent before it, and after the backend read
   * (and acted on) everything sent before it, such as a WINDOW_UPDATE.
   */
  const roundTrip = async () => expect((await rejection(open("Refuse").stream.read())).code).toBe(GrpcCode.ABORTED);

  it("server streaming: 10,000 messages arrive complete and in order, then OK with the trailers", async () => {
    const { stream } = open("Count");
    await stream.write(countRequest(10_000, 16));
    stream.end();
    const messages = await readAll(stream);
    expect(messages).toHaveLength(10_000);
    expect(messages.every((message, i) => indexOf(message) === i && message.byteLength === 16)).toBe(true);
    expect(await stream.headers).toContainEqual(["content-type", "application/grpc+proto"]);
    expect(stream.trailers().map(([key]) => key)).not.toContain("grpc-status");
    // Reading past the end stays at the end.
    expect(await stream.read()).toBeUndefined();
  });

  it("client streaming: the backend sees every message in order, and the reply follows the half-close", async () => {
    const { stream, record } = open("Collect");
    for (let i = 0; i < 500; i++) await stream.write(indexedMessage(i, 32));
    stream.end();
    const [reply, ...rest] = await readAll(stream);
    expect(rest).toEqual([]);
    expect(reply.readUInt32BE(0)).toBe(500);
    expect(record.received.map(indexOf)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it("bidi is full duplex: each echo is read before the next message is written", async () => {
    const { stream, record } = open("Echo");
    for (let i = 0; i < 50; i++) {
      await stream.write(indexedMessage(i, 8));
      const echo = await stream.read();
      expect(echo && indexOf(echo)).toBe(i);
      expect(record.received).toHaveLength(i + 1);
    }
    stream.end();
    expect(await stream.read()).toBeUndefined();
  });

  it("a slow reader pauses the backend (its writes wait for 'drain', its sent count stays bounded), then everything arrives", { timeout: 60_000 }, async () => {
    const count = 200_000;
    const size = 1024;
    const { stream, record } = open("Flood");
    await stream.write(countRequest(count, size));
    stream.end();
    await record.arrived;
    // Not reading: the backend must come to a stop, pushed back by HTTP/2 flow control (neither
    // its writes nor their completions move across a round trip on the connection).
    await atRest(() => record.sent + record.flushed, roundTrip);
    const sentWhenBlocked = record.sent;
    expect(record.blocked).toBe(true);
    // Everything between the backend's writes and the reader (both sides' stream buffers, the
    // stream's 64 KiB flow-control window, the gateway's queue) holds a few hundred KiB at most
    // of the 200 MB stream (measured: 64 messages through the http2 transport, 96 through grpc-js).
    const bound = 256;
    expect(sentWhenBlocked).toBeLessThan(bound);
    // Reading resumes: all arrives in order, and the distance stays bounded all along.
    let read = 0;
    let widest = 0;
    for (let message = await stream.read(); message !== undefined; message = await stream.read()) {
      if (indexOf(message) !== read) throw new Error(`message ${indexOf(message)} arrived as number ${read}`);
      read++;
      widest = Math.max(widest, record.sent - read);
    }
    expect(read).toBe(count);
    expect(widest).toBeLessThan(bound);
    expect(record.drainWaits).toBeGreaterThan(1);
  });

  it("write() waits while the backend does not read (flow control), and resumes when it does", { timeout: 30_000 }, async () => {
    const { stream, record } = open("Sink");
    await record.arrived;
    const total = 10_000;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; i < total; i++) {
        await stream.write(indexedMessage(i, 1024));
        written++;
      }
      stream.end();
    })();
    const stalled = await atRest(() => written, roundTrip);
    expect(stalled).toBeGreaterThan(0);
    // The stream's write buffer (16 KiB) and flow-control window (64 KiB) for Protogate's own transports;
    // grpc-js acknowledges up to 1 MiB per call at once (its retry buffer, kept with retries off).
    expect(stalled).toBeLessThan(transport === "grpc-js" ? 1024 + 100 : 100);
    expect(record.received).toHaveLength(0);
    record.startReading();
    await writer;
    const [reply] = await readAll(stream);
    expect(reply.readUInt32BE(0)).toBe(total);
    expect(record.received.map(indexOf)).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it("cancel() resets the call: the backend sees the cancellation, pending and later reads reject with CANCELLED", async () => {
    const { stream, record } = open("Hang");
    await stream.write(indexedMessage(1, 8));
    await record.arrived;
    const pending = stream.read();
    stream.cancel();
    stream.cancel(); // idempotent
    const error = await rejection(pending);
    expect(error.origin).toBe("cancelled");
    expect(error.code).toBe(GrpcCode.CANCELLED);
    expect(await rejection(stream.read())).toBe(error);
    expect(await rejection(stream.write(indexedMessage(2, 8)))).toBe(error);
    await record.cancellation;
  });

  it("the cancel signal aborting cancels the call, and the backend sees it", async () => {
    const controller = new AbortController();
    const { stream, record } = open("Hang", { signal: controller.signal });
    await record.arrived;
    const pending = stream.read();
    controller.abort();
    const error = await rejection(pending);
    expect(error.origin).toBe("cancelled");
    expect(toGatewayError(error).reason).toBe("PG_ERR_CANCELLED");
    await record.cancellation;
  });

  it("a signal aborted before the call starts fails it at once, without reaching the backend", async () => {
    const { stream } = open("Hang", { signal: AbortSignal.abort() });
    const error = await rejection(stream.read());
    expect(error.origin).toBe("cancelled");
    expect(await rejection(stream.headers)).toBe(error);
    expect(await rejection(stream.write(indexedMessage(0, 4)))).toBe(error);
  });

  it("a status before any message (trailers-only) rejects headers and read with the upstream's code, message, details and metadata", async () => {
    const { stream } = open("FailFirst");
    await stream.write(countRequest(1, 4));
    stream.end();
    const error = await rejection(stream.headers);
    expect(error.origin).toBe("upstream");
    expect(error.code).toBe(GrpcCode.ABORTED);
    expect(error.message).toBe(FAILURE.details);
    expect(error.metadata).toContainEqual(["x-why", "moved"]);
    expect(error.details).toEqual([{ typeUrl: DETAIL_TYPE, value: DETAIL_VALUE }]);
    expect(await rejection(stream.read())).toBe(error);
    expect(stream.trailers()).toContainEqual(["x-why", "moved"]);
  });

  it("regression: a status the upstream sends before the client half-closes ends the call (the http2 transport waited for both sides to close)", async () => {
    const { stream } = open("Refuse");
    const error = await rejection(stream.read());
    expect(error.origin).toBe("upstream");
    expect(error.code).toBe(GrpcCode.ABORTED);
  });

  it("a status after some messages rejects the read after them, with the headers' and trailers' metadata", async () => {
    const { stream } = open("FailAfter");
    await stream.write(countRequest(1, 4));
    stream.end();
    expect(await stream.headers).toContainEqual(["x-feed", "live"]);
    // Read only once the status is in (round trips on the connection bring it): the messages
    // before it (more than the queue holds) still come first.
    await roundTripsUntil(() => stream.trailers().some(([key, value]) => key === "x-why" && value === "moved"), roundTrip);
    expect(stream.trailers()).toContainEqual(["x-why", "moved"]);
    for (let i = 0; i < MESSAGES_BEFORE_FAILURE; i++) expect(indexOf((await stream.read()) as Uint8Array)).toBe(i);
    const error = await rejection(stream.read());
    expect(error.origin).toBe("upstream");
    expect(error.code).toBe(GrpcCode.ABORTED);
    expect(error.metadata).toContainEqual(["x-feed", "live"]);
    expect(error.metadata).toContainEqual(["x-why", "moved"]);
    expect(error.details).toHaveLength(1);
  });

  it("the gateway's deadline (on injected timers) fails the call with DEADLINE_EXCEEDED and cancels it at the backend", async () => {
    const clock = createFakeClock(Date.now());
    const timed = createUpstream({ address: backend.address }, { now: clock.now, timers: clock });
    upstreams.push(timed);
    const { stream, record } = open("Hang", { deadline: clock.now() + 60_000, timeoutMs: 60_000 }, timed);
    await stream.write(indexedMessage(0, 4));
    await record.arrived;
    // The backend was told the deadline (grpc-timeout).
    expect(record.deadline).toBeGreaterThan(Date.now() + 30_000);
    const pending = stream.read();
    clock.advance(59_999);
    expect(record.cancelled).toBe(false);
    clock.advance(1);
    const error = await rejection(pending);
    expect(error.origin).toBe("deadline");
    expect(error.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    expect(toGatewayError(error).message).toBe(`deadline of 60000 ms exceeded calling ${path("Hang")}`);
    await record.cancellation;
    expect(clock.pending()).toBe(0);
  });

  it("a stream without a deadline arms no timer, and the backend sees none", async () => {
    const clock = createFakeClock(Date.now());
    const timed = createUpstream({ address: backend.address }, { now: clock.now, timers: clock });
    upstreams.push(timed);
    const { stream, record } = open("Echo", {}, timed);
    await stream.write(indexedMessage(7, 4));
    expect(indexOf((await stream.read()) as Uint8Array)).toBe(7);
    expect(record.deadline).toBe(Infinity);
    expect(clock.pending()).toBe(0);
    stream.end();
    expect(await stream.read()).toBeUndefined();
  });

  it("a message above maxSendMessageBytes fails the call as a request limit (413) and cancels it", async () => {
    const small = createUpstream({ address: backend.address }, { maxSendMessageBytes: 8 });
    upstreams.push(small);
    const { stream, record } = open("Hang", {}, small);
    await stream.write(indexedMessage(0, 8));
    await record.arrived;
    const error = await rejection(stream.write(indexedMessage(1, 9)));
    expect(error.origin).toBe("limit");
    expect(error.limit).toEqual({ direction: "request", bytes: 9, maxBytes: 8 });
    expect(toGatewayError(error).httpStatus).toBe(413);
    expect(await rejection(stream.read())).toBe(error);
    await record.cancellation;
  });
});

// What a broken or vanishing upstream does to a stream, from a hand-driven HTTP/2 server.
describe.each(TRANSPORTS)("streaming calls through the %s transport against a misbehaving upstream", (transport, createUpstream) => {
  const MAX_RECEIVE = 1024;
  let server: RawGrpcServer;
  let upstream: Upstream;
  beforeAll(async () => {
    server = await startRawGrpcServer();
    upstream = createUpstream({ address: server.address }, { maxReceiveMessageBytes: MAX_RECEIVE });
  });
  afterAll(async () => {
    upstream?.close();
    await server?.destroy();
  });
  const on = (handler: RawHandler) => server.handlers.set("Call", handler);
  const call = (overrides: Partial<StreamCall> = {}) => upstream.stream({ rpcPath: "/raw.v1.Raw/Call", metadata: [["x-tenant", "acme"]], deadline: undefined, ...overrides });
  /** Headers, then `body`, then `after` once the body was written. */
  const replyThen = (body: Buffer, after: (stream: ServerHttp2Stream) => void): RawHandler => ({ stream }) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.write(body, () => after(stream));
  };
  const ok = (stream: ServerHttp2Stream) => {
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end();
  };

  it("sends the request headers as for a unary call, with grpc-timeout only when there is a deadline", async () => {
    const seen: Array<Record<string, unknown>> = [];
    on(({ stream, headers }) => {
      seen.push(headers);
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true });
    });
    for (const deadline of [undefined, Date.now() + 5_000]) {
      const stream = call({ deadline });
      stream.end();
      expect(await stream.read()).toBeUndefined();
    }
    for (const headers of seen) expect(headers).toMatchObject({ ":method": "POST", ":path": "/raw.v1.Raw/Call", "content-type": "application/grpc", te: "trailers", "x-tenant": "acme" });
    expect(seen[0]["grpc-timeout"]).toBeUndefined();
    expect(String(seen[1]["grpc-timeout"])).toMatch(/^\d+[mS]$/);
  });

  it("frames each written message with the gRPC length prefix", async () => {
    let body: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
    on((request) => {
      body = request.body;
      void request.body.then(() => replyThen(grpcFrame(Buffer.from("done")), ok)(request));
    });
    const stream = call();
    await stream.write(Buffer.from("ab"));
    await stream.write(new Uint8Array(0));
    await stream.write(Uint8Array.from([9, 8, 7]).subarray(1));
    stream.end();
    expect((await readAll(stream)).map(String)).toEqual(["done"]);
    expect([...(await body)]).toEqual([...grpcFrame(Buffer.from("ab")), ...grpcFrame(Buffer.alloc(0)), ...grpcFrame(Buffer.from([8, 7]))]);
  });

  it("connection loss mid-stream: the messages before it, then UNAVAILABLE tagged connection", async () => {
    on(replyThen(Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("b"))]), (stream) => void clientHasRead(stream.session).then(() => stream.session?.destroy())));
    const stream = call();
    stream.end();
    expect(String(await stream.read())).toBe("a");
    expect(String(await stream.read())).toBe("b");
    const error = await rejection(stream.read());
    expect(error.origin).toBe("connection");
    expect(error.code).toBe(GrpcCode.UNAVAILABLE);
  });

  it("a graceful GOAWAY lets a stream in progress finish, and the next stream goes on a new connection", async () => {
    on(replyThen(grpcFrame(Buffer.from("before")), (stream) => {
      stream.session?.goaway(constants.NGHTTP2_NO_ERROR, stream.id ?? 0);
      void clientHasRead(stream.session).then(() => {
        stream.write(grpcFrame(Buffer.from("after")));
        ok(stream);
      });
    }));
    const stream = call();
    stream.end();
    await stream.headers;
    const sessions = server.sessions.length;
    expect((await readAll(stream)).map(String)).toEqual(["before", "after"]);
    on(replyThen(grpcFrame(Buffer.from("next")), ok));
    const next = call();
    next.end();
    expect((await readAll(next)).map(String)).toEqual(["next"]);
    expect(server.sessions).toHaveLength(sessions + 1);
  });

  it("a message over maxReceiveMessageBytes after a good one: a response limit (502), and the call is cancelled", async () => {
    let closed: Promise<number> = Promise.resolve(-1);
    on(({ stream }) => {
      closed = new Promise((resolve) => stream.on("close", () => resolve(stream.rstCode ?? -1)));
      // The oversized message in a later DATA frame: grpc-js drops every message of a chunk it cannot decode whole.
      replyThen(grpcFrame(Buffer.from("a")), () => void clientHasRead(stream.session).then(() => stream.write(grpcFrame(Buffer.alloc(MAX_RECEIVE + 1)))))({ stream } as Parameters<RawHandler>[0]);
    });
    const stream = call();
    stream.end();
    expect(String(await stream.read())).toBe("a");
    const error = await rejection(stream.read());
    expect(error.origin).toBe("limit");
    expect(error.limit).toEqual({ direction: "response", bytes: MAX_RECEIVE + 1, maxBytes: MAX_RECEIVE });
    expect(toGatewayError(error).reason).toBe("PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE");
    expect(await closed).toBe(constants.NGHTTP2_CANCEL);
  });

  it("malformed framing (a compressed flag without an encoding) after a good message: a protocol violation (502)", async () => {
    on(replyThen(Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("zz"), 1)]), ok));
    const stream = call();
    stream.end();
    expect(String(await stream.read())).toBe("a");
    const error = await rejection(stream.read());
    expect(error.origin).toBe("protocol");
    expect(toGatewayError(error).message).toBe("upstream protocol error calling /raw.v1.Raw/Call: the upstream sent a compressed message without an encoding the gateway accepts");
  });

  it("a reset after a message: the message, then a protocol violation naming the reset", async () => {
    on(replyThen(grpcFrame(Buffer.from("a")), (stream) => stream.close(constants.NGHTTP2_INTERNAL_ERROR)));
    const stream = call();
    stream.end();
    expect(String(await stream.read())).toBe("a");
    const error = await rejection(stream.read());
    expect(error.origin).toBe("protocol");
    expect(error.message).toBe("the upstream reset the stream (RST_STREAM INTERNAL_ERROR)");
  });

  it("an intermediary's HTTP 503 page rejects headers and read with the mapped status", async () => {
    on(({ stream }) => {
      stream.respond({ ":status": 503, "content-type": "text/html" });
      stream.end("<html>down</html>");
    });
    const stream = call();
    stream.end();
    const error = await rejection(stream.headers);
    expect(error.origin).toBe("upstream");
    expect(error.code).toBe(GrpcCode.UNAVAILABLE);
    expect(await rejection(stream.read())).toBe(error);
  });

  it("an invalid flag byte is a protocol violation (the http2 transport); grpc-js reads the message as uncompressed", async () => {
    on(replyThen(grpcFrame(Buffer.from("zz"), 7), ok));
    const stream = call();
    stream.end();
    if (transport !== "grpc-js") {
      expect((await rejection(stream.read())).message).toBe("the upstream sent a message with an invalid flag byte");
      return;
    }
    // A known difference, documented in the README: grpc-js does not check the flag byte.
    expect(String(await stream.read())).toBe("zz");
    expect(await stream.read()).toBeUndefined();
  });

  it("a reply that ends inside a message is a protocol violation (the http2 transport); grpc-js drops the partial message", async () => {
    on(replyThen(Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("abcdef")).subarray(0, 8)]), ok));
    const stream = call();
    stream.end();
    expect(String(await stream.read())).toBe("a");
    if (transport !== "grpc-js") {
      expect((await rejection(stream.read())).message).toBe("the reply ended inside a message");
      return;
    }
    // A known difference, documented in the README: grpc-js ends the call OK without the partial message.
    expect(await stream.read()).toBeUndefined();
  });
});

describe.each(TRANSPORTS.filter(([transport]) => transport !== "grpc-js"))("the %s transport's streams refused by the upstream", (_transport, createUpstream) => {
  let server: RawGrpcServer;
  beforeAll(async () => {
    server = await startRawGrpcServer();
  });
  afterAll(() => server.destroy());

  /** Refuses the stream by a graceful GOAWAY whose last stream id is below it. */
  const refuseByGoaway = (stream: ServerHttp2Stream) => stream.session?.goaway(constants.NGHTTP2_NO_ERROR, Math.max(0, (stream.id ?? 1) - 2));
  const echoBody: RawHandler = ({ stream, body }) => void body.then((bytes) => replyThen(bytes)(stream));
  const replyThen = (body: Buffer) => (stream: ServerHttp2Stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(body);
  };

  it("sends a stream the GOAWAY refused again, once, on a new connection, with the messages already written", async () => {
    let attempts = 0;
    server.handlers.set("Warm", echoBody);
    server.handlers.set("RefusedOnce", (request) => {
      if (attempts++ === 0) refuseByGoaway(request.stream);
      else echoBody(request);
    });
    const upstream = createUpstream({ address: server.address });
    upstreams.push(upstream);
    const warm = upstream.stream({ rpcPath: "/raw.v1.Raw/Warm", metadata: [], deadline: undefined });
    warm.end();
    await readAll(warm);
    const stream = upstream.stream({ rpcPath: "/raw.v1.Raw/RefusedOnce", metadata: [], deadline: undefined });
    await stream.write(Buffer.from("one"));
    await stream.write(Buffer.from("two"));
    stream.end();
    expect((await readAll(stream)).map(String)).toEqual(["one", "two"]);
    expect(attempts).toBe(2);
    expect(server.sessions).toHaveLength(2);
  });

  it(`does not send a refused stream again once more than ${STREAM_RESEND_BYTES} bytes were written: UNAVAILABLE tagged connection`, async () => {
    let attempts = 0;
    server.handlers.set("RefusedLate", ({ stream, body }) => {
      attempts++;
      // Refused once the client has written all it will (a refusal may come that late).
      void body.then(() => stream.close(constants.NGHTTP2_REFUSED_STREAM));
    });
    const upstream = createUpstream({ address: server.address });
    upstreams.push(upstream);
    const stream = upstream.stream({ rpcPath: "/raw.v1.Raw/RefusedLate", metadata: [], deadline: undefined });
    const chunk = Buffer.alloc(16 * 1024);
    for (let written = 0; written <= STREAM_RESEND_BYTES; written += chunk.length) await stream.write(chunk);
    stream.end();
    const error = await rejection(stream.read());
    expect(error.origin).toBe("connection");
    expect(error.code).toBe(GrpcCode.UNAVAILABLE);
    expect(attempts).toBe(1);
  });

  it("fails a stream refused on its retry too with UNAVAILABLE tagged connection, after two attempts", async () => {
    let attempts = 0;
    server.handlers.set("AlwaysRefused", ({ stream }) => {
      attempts++;
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
    });
    const upstream = createUpstream({ address: server.address });
    upstreams.push(upstream);
    const stream = upstream.stream({ rpcPath: "/raw.v1.Raw/AlwaysRefused", metadata: [], deadline: undefined });
    await stream.write(Buffer.from("x"));
    stream.end();
    const error = await rejection(stream.headers);
    expect(error.origin).toBe("connection");
    expect(attempts).toBe(2);
  });
});

import fc from "fast-check";
import { Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { Flag, FrameType, H2Error, Setting, frame, windowUpdateFrame } from "../../src/upstream/h2-frames.js";
import { createHttp2Upstream } from "../../src/upstream/http2-upstream.js";
import { UpstreamError } from "../../src/upstream/upstream-error.js";
import type { UnaryCall, Upstream, UpstreamStream } from "../../src/upstream/upstream.js";
import { createWireUpstream, type WireUpstreamOptions } from "../../src/upstream/wire-upstream.js";
import { atRest } from "../support/at-rest.js";
import { createFakeClock } from "../support/fake-clock.js";
import { fuzzRuns } from "../support/fuzz.js";
import { literalBlock, startHandH2Server, type HandConnection, type HandH2Server } from "./support/hand-h2-server.js";
import { clientHasRead, grpcFrame, replyOk, startRawGrpcServer, type RawGrpcServer } from "./support/raw-grpc-server.js";
import { readAll, rejection } from "./support/upstream-results.js";

const upstreams: Upstream[] = [];
afterEach(() => {
  for (const upstream of upstreams.splice(0)) upstream.close();
});
function wire(address: string, options: WireUpstreamOptions = {}): Upstream {
  const upstream = createWireUpstream({ address }, options);
  upstreams.push(upstream);
  return upstream;
}
function http2(address: string): Upstream {
  const upstream = createHttp2Upstream({ address });
  upstreams.push(upstream);
  return upstream;
}

function unary(request: Uint8Array = Uint8Array.from([1, 2, 3]), overrides: Partial<UnaryCall> = {}): UnaryCall {
  return { rpcPath: "/raw.v1.Raw/Echo", request, metadata: [], deadline: Date.now() + 5_000, ...overrides };
}

const OK_HEADERS = literalBlock({ ":status": "200", "content-type": "application/grpc" });
const OK_TRAILERS = literalBlock({ "grpc-status": "0" });
const headersFrame = (streamId: number, block: Buffer, flags: number = Flag.END_HEADERS) => frame(FrameType.HEADERS, flags, streamId, block);
const dataFrame = (streamId: number, payload: Uint8Array, flags: number = 0) => frame(FrameType.DATA, flags, streamId, payload);
/** A whole good reply: headers, one message, OK trailers. */
const goodReply = (streamId: number, message = Buffer.from("ok")) =>
  Buffer.concat([headersFrame(streamId, OK_HEADERS), dataFrame(streamId, grpcFrame(message)), headersFrame(streamId, OK_TRAILERS, Flag.END_HEADERS | Flag.END_STREAM)]);

/** 64-bit edge values as protobuf varints (fields 1..), raw bytes a message may carry. */
const EDGE_VARINTS = [0n, 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n].map((value) => {
  const bytes = [0x08];
  let rest = value;
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Uint8Array.from(bytes);
});
const message = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(0), ...EDGE_VARINTS) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 300_000 }).map((size) => Uint8Array.from({ length: size }, (_, i) => (i * 31) % 251)) },
);

describe("the wire transport gives the same bytes as the http2 transport", () => {
  let servers: RawGrpcServer[];
  beforeAll(async () => {
    // Node's defaults, and a server with a tiny flow-control window and the largest frames, so
    // that sending waits for WINDOW_UPDATEs and replies come in frames above 16 KiB.
    servers = await Promise.all([startRawGrpcServer(), startRawGrpcServer({ settings: { initialWindowSize: 1_000, maxFrameSize: 2 ** 24 - 1 } })]);
    for (const server of servers) server.handlers.set("Echo", ({ stream, body }) => void body.then((bytes) => replyOk(stream, bytes)));
  });
  afterAll(async () => {
    for (const server of servers) await server.destroy();
  });

  it("for random unary messages (empty, 64-bit edge values, large ones over many DATA frames and windows)", async () => {
    const clients = servers.map((server) => [wire(server.address), http2(server.address)] as const);
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), async (messages) => {
        for (const [viaWire, viaHttp2] of clients) {
          // Concurrently, so that the calls share the connection's windows and writes.
          const [fromWire, fromHttp2] = await Promise.all([Promise.all(messages.map((m) => viaWire.call(unary(m)))), Promise.all(messages.map((m) => viaHttp2.call(unary(m))))]);
          fromWire.forEach((result, i) => {
            expect(Buffer.from(result.response).equals(Buffer.from(fromHttp2[i].response))).toBe(true);
            expect(Buffer.from(result.response).equals(Buffer.from(messages[i]))).toBe(true);
          });
        }
      }),
      fuzzRuns(15),
    );
  });

  it("for random streams of messages written and read back", async () => {
    const clients = servers.map((server) => [wire(server.address), http2(server.address)] as const);
    const roundTrip = async (upstream: Upstream, messages: readonly Uint8Array[]) => {
      const stream = upstream.stream({ rpcPath: "/raw.v1.Raw/Echo", metadata: [], deadline: undefined });
      for (const m of messages) await stream.write(m);
      stream.end();
      return readAll(stream);
    };
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 8 }), async (messages) => {
        for (const [viaWire, viaHttp2] of clients) {
          const [fromWire, fromHttp2] = await Promise.all([roundTrip(viaWire, messages), roundTrip(viaHttp2, messages)]);
          expect(fromWire.map((m) => m.toString("hex"))).toEqual(fromHttp2.map((m) => m.toString("hex")));
          expect(fromWire.map((m) => m.toString("hex"))).toEqual(messages.map((m) => Buffer.from(m).toString("hex")));
        }
      }),
      fuzzRuns(10),
    );
  });
});

describe("the wire transport against an upstream that breaks HTTP/2", () => {
  let server: HandH2Server;
  let reply: (connection: HandConnection, streamId: number) => void = () => undefined;
  beforeAll(async () => {
    server = await startHandH2Server((connection, streamId) => reply(connection, streamId));
  });
  afterAll(() => server.close());

  /** Connection errors: the call fails with UNAVAILABLE (the connection), and the client says why in a GOAWAY. */
  it.each([
    ["a header block that breaks HPACK", (id: number) => headersFrame(id, Buffer.from([0xff, 0xff, 0xff, 0x7f])), H2Error.COMPRESSION_ERROR],
    ["a frame larger than the advertised maximum", (id: number) => Buffer.concat([headersFrame(id, OK_HEADERS), dataFrame(id, Buffer.alloc(20_000))]), H2Error.FRAME_SIZE_ERROR],
    ["a connection WINDOW_UPDATE past 2^31-1", () => windowUpdateFrame(0, 2 ** 31 - 1), H2Error.FLOW_CONTROL_ERROR],
    ["a WINDOW_UPDATE of 0 on the connection", () => windowUpdateFrame(0, 0), H2Error.PROTOCOL_ERROR],
    ["HEADERS on a stream the client never opened", (id: number) => headersFrame(id + 100, OK_HEADERS), H2Error.PROTOCOL_ERROR],
    ["PUSH_PROMISE, with push disabled", (id: number) => frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, id, Buffer.from([0, 0, 0, 2, 0x82])), H2Error.PROTOCOL_ERROR],
    ["SETTINGS_MAX_FRAME_SIZE below 16384", () => frame(FrameType.SETTINGS, 0, 0, Buffer.from([0, Setting.MAX_FRAME_SIZE, 0, 0, 0x10, 0])), H2Error.PROTOCOL_ERROR],
    ["a PING of the wrong size", () => frame(FrameType.PING, 0, 0, Buffer.alloc(7)), H2Error.FRAME_SIZE_ERROR],
    ["a CONTINUATION without HEADERS", (id: number) => frame(FrameType.CONTINUATION, Flag.END_HEADERS, id, OK_HEADERS), H2Error.PROTOCOL_ERROR],
    ["another frame inside a header block", (id: number) => Buffer.concat([headersFrame(id, OK_HEADERS, 0), dataFrame(id, Buffer.alloc(1))]), H2Error.PROTOCOL_ERROR],
    ["DATA with more padding than payload", (id: number) => Buffer.concat([headersFrame(id, OK_HEADERS), dataFrame(id, Buffer.from([9, 1, 2]), Flag.PADDED)]), H2Error.PROTOCOL_ERROR],
  ])("%s fails the connection (GOAWAY with its code) and its calls with UNAVAILABLE", async (_name, bytes, code) => {
    let replying: (connection: HandConnection) => void = () => undefined;
    const replied = new Promise<HandConnection>((resolve) => (replying = resolve));
    reply = (c, id) => {
      replying(c);
      c.socket.write(bytes(id));
    };
    const error = await rejection(wire(server.address).call(unary()));
    expect(error.origin).toBe("connection");
    expect(error.code).toBe(GrpcCode.UNAVAILABLE);
    expect(error.message).toMatch(/^Connection failed: the upstream broke HTTP\/2 \(/);
    const goaway = await (await replied).next(FrameType.GOAWAY);
    expect(goaway.payload.readUInt32BE(4)).toBe(code);
  });

  /** Stream errors: the call fails as a protocol violation, the stream is reset with the code, and the connection serves on. */
  it.each<readonly [string, (id: number) => Buffer, number, string]>([
    ["DATA before the response headers", (id: number) => dataFrame(id, grpcFrame(Buffer.from("x"))), H2Error.PROTOCOL_ERROR, "the upstream sent DATA before response headers"],
    ["response headers without :status", (id: number) => headersFrame(id, literalBlock({ "content-type": "application/grpc" })), H2Error.PROTOCOL_ERROR, "the upstream sent response headers without a valid :status"],
    ["trailers without END_STREAM", (id: number) => Buffer.concat([headersFrame(id, OK_HEADERS), headersFrame(id, OK_TRAILERS)]), H2Error.PROTOCOL_ERROR, "the upstream sent trailers without END_STREAM"],
    ["a stream WINDOW_UPDATE past 2^31-1", (id: number) => windowUpdateFrame(id, 2 ** 31 - 1), H2Error.FLOW_CONTROL_ERROR, "the upstream overflowed the stream's flow-control window"],
    // Malformed header blocks (RFC 9113, 8.2 and 8.3), which nghttp2 refuses too.
    ...(
      [
        ["a field name with upper-case letters", { ":status": "200", "Content-Type": "application/grpc" }, 'the field name "Content-Type" is not a lower-case token'],
        ["a pseudo-header after a regular field", { "content-type": "application/grpc", ":status": "200" }, "the pseudo-header :status comes after a regular field"],
        ["a connection-specific field", { ":status": "200", connection: "keep-alive" }, "the connection-specific field connection"],
        ["a request pseudo-header in a response", { ":status": "200", ":path": "/x" }, "the pseudo-header :path in a response"],
        ["a value holding a line feed", { ":status": "200", "x-note": "a\nb" }, "the value of x-note holds NUL, CR or LF"],
      ] as const
    ).map(([name, fields, why]) => [name, (id: number) => headersFrame(id, literalBlock(fields)), H2Error.PROTOCOL_ERROR, `the upstream sent a malformed header block: ${why}`] as const),
    [
      "a pseudo-header in the trailers",
      (id: number) => Buffer.concat([headersFrame(id, OK_HEADERS), dataFrame(id, grpcFrame(Buffer.from("x"))), headersFrame(id, literalBlock({ ":status": "200", "grpc-status": "0" }), Flag.END_HEADERS | Flag.END_STREAM)]),
      H2Error.PROTOCOL_ERROR,
      "the upstream sent a malformed header block: the pseudo-header :status in a trailer block",
    ],
    [
      "a header list over 64 KiB (over CONTINUATION frames)",
      (id: number) => {
        const block = literalBlock({ ":status": "200", "x-big": "a".repeat(70_000) });
        const parts = [headersFrame(id, block.subarray(0, 16_000), 0)];
        for (let at = 16_000; at < block.length; at += 16_000) parts.push(frame(FrameType.CONTINUATION, at + 16_000 >= block.length ? Flag.END_HEADERS : 0, id, block.subarray(at, at + 16_000)));
        return Buffer.concat(parts);
      },
      H2Error.ENHANCE_YOUR_CALM,
      "the upstream sent a header list larger than 65536 bytes",
    ],
  ])("%s fails the call as a protocol violation, resets the stream, and the connection serves on", async (_name, bytes, code, message) => {
    let replying: (connection: HandConnection) => void = () => undefined;
    const replied = new Promise<HandConnection>((resolve) => (replying = resolve));
    reply = (c, id) => {
      replying(c);
      c.socket.write(bytes(id));
      reply = (next, nextId) => next.socket.write(goodReply(nextId));
    };
    const upstream = wire(server.address);
    const error = await rejection(upstream.call(unary()));
    expect(error.origin).toBe("protocol");
    expect(error.code).toBe(GrpcCode.INTERNAL);
    expect(error.message).toBe(message);
    const reset = await (await replied).next(FrameType.RST_STREAM);
    expect(reset.payload.readUInt32BE(0)).toBe(code);
    expect(Buffer.from((await upstream.call(unary())).response).toString()).toBe("ok");
  });

  it("DATA beyond a paused stream's flow-control window fails the call after the messages read, and resets the stream", async () => {
    let replying: (connection: HandConnection) => void = () => undefined;
    const replied = new Promise<HandConnection>((resolve) => (replying = resolve));
    reply = (c, id) => {
      replying(c);
      // 100 messages of 1,000 bytes at once, ignoring the 64 KiB window the reader leaves closed.
      const chunks = [headersFrame(id, OK_HEADERS)];
      for (let i = 0; i < 100; i++) chunks.push(dataFrame(id, grpcFrame(Buffer.alloc(1_000, i))));
      c.socket.write(Buffer.concat(chunks));
    };
    const stream = wire(server.address).stream({ rpcPath: "/raw.v1.Raw/Flood", metadata: [], deadline: undefined });
    stream.end();
    const reset = await (await replied).next(FrameType.RST_STREAM);
    expect(reset.payload.readUInt32BE(0)).toBe(H2Error.FLOW_CONTROL_ERROR);
    // The messages queued before the violation are read first.
    for (let i = 0; i < 4; i++) expect((await stream.read())?.[0]).toBe(i);
    const error = await rejection(stream.read());
    expect(error.origin).toBe("protocol");
    expect(error.message).toBe("the upstream sent DATA beyond the stream's flow-control window");
  });

  it("reads padded HEADERS and DATA, skips PRIORITY, unknown frames and informational headers, and answers PING", async () => {
    let replying: (connection: HandConnection) => void = () => undefined;
    const replied = new Promise<HandConnection>((resolve) => (replying = resolve));
    reply = (c, id) => {
      replying(c);
      const padded = (payload: Buffer, pad: number) => Buffer.concat([Buffer.from([pad]), payload, Buffer.alloc(pad)]);
      c.socket.write(
        Buffer.concat([
          frame(FrameType.PING, 0, 0, Buffer.from("pingpong")),
          headersFrame(id, literalBlock({ ":status": "100" })),
          frame(FrameType.PRIORITY, 0, id, Buffer.from([0, 0, 0, 0, 16])),
          frame(0xfa, 0, id, Buffer.from("unknown")),
          frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY, id, padded(Buffer.concat([Buffer.from([0, 0, 0, 0, 16]), OK_HEADERS]), 3)),
          frame(FrameType.DATA, Flag.PADDED, id, padded(grpcFrame(Buffer.from("padded")), 200)),
          headersFrame(id, OK_TRAILERS, Flag.END_HEADERS | Flag.END_STREAM),
        ]),
      );
    };
    const result = await wire(server.address).call(unary());
    expect(Buffer.from(result.response).toString()).toBe("padded");
    const pong = await (await replied).next(FrameType.PING);
    expect(pong.flags & Flag.ACK).toBe(Flag.ACK);
    expect(pong.payload.toString()).toBe("pingpong");
  });

  it("fails a call with an UpstreamError, never crashing or hanging, whatever bytes follow the handshake", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.boolean(), async (garbage, afterHeaders) => {
        reply = (c, id) => {
          if (afterHeaders) c.socket.write(headersFrame(id, OK_HEADERS));
          // Whatever the client makes of it, the connection then ends (after the garbage, in order).
          c.socket.end(garbage);
        };
        await rejection(wire(server.address).call(unary(undefined, { deadline: Date.now() + 3_000 })));
      }),
      fuzzRuns(60),
    );
  });
});

describe("the wire transport's streams and connections", () => {
  it("regression: an upstream that never acknowledges our SETTINGS is dropped with SETTINGS_TIMEOUT at the connect timeout", async () => {
    const server = await startHandH2Server(() => undefined, [], { ackSettings: false });
    try {
      const error = await rejection(wire(server.address, { connectTimeoutMs: 100 }).call(unary()));
      expect(error.origin).toBe("connection");
      expect(error.code).toBe(GrpcCode.UNAVAILABLE);
      expect(error.message).toBe("Connection failed: the upstream broke HTTP/2 (SETTINGS_TIMEOUT): no SETTINGS ACK within 100 ms");
      const goaway = await server.connections[0].next(FrameType.GOAWAY);
      expect(goaway.payload.readUInt32BE(4)).toBe(H2Error.SETTINGS_TIMEOUT);
    } finally {
      await server.close();
    }
  });

  it("queues calls beyond the peer's MAX_CONCURRENT_STREAMS; a queued call's deadline runs, and it is never sent", async () => {
    const clock = createFakeClock(Date.now());
    const opened: number[] = [];
    let firstOpened: () => void = () => undefined;
    const firstArrived = new Promise<void>((resolve) => (firstOpened = resolve));
    const server = await startHandH2Server((_c, id) => void (opened.push(id), firstOpened()), [[Setting.MAX_CONCURRENT_STREAMS, 1]]);
    try {
      const upstream = wire(server.address, { now: clock.now, timers: clock });
      const first = upstream.call(unary(undefined, { deadline: clock.now() + 60_000 }));
      await firstArrived;
      expect(opened).toEqual([1]);
      const second = upstream.call(unary(undefined, { deadline: clock.now() + 1_000 }));
      clock.advance(1_000);
      const error = await rejection(second);
      expect(error.origin).toBe("deadline");
      clock.advance(59_000);
      expect((await rejection(first)).origin).toBe("deadline");
      expect(opened).toEqual([1]);
    } finally {
      await server.close();
    }
  });

  it("writes the frames of calls started in the same tick in one socket write", async () => {
    const opened: number[] = [];
    let allOpened: () => void = () => undefined;
    const elevenArrived = new Promise<void>((resolve) => (allOpened = resolve));
    const server = await startHandH2Server((c, id) => {
      opened.push(id);
      if (id === 1) c.socket.write(goodReply(id));
      if (opened.length === 11) allOpened();
    });
    try {
      const upstream = wire(server.address);
      await upstream.call(unary()); // connected, SETTINGS exchanged
      const writes = vi.spyOn(Socket.prototype, "write");
      try {
        const calls = Array.from({ length: 10 }, () => upstream.call(unary(undefined, { deadline: Date.now() + 60_000 })).catch(() => undefined));
        await elevenArrived;
        // Ten HEADERS and ten DATA frames: one write.
        expect(writes).toHaveBeenCalledTimes(1);
        upstream.close();
        await Promise.all(calls);
      } finally {
        writes.mockRestore();
      }
    } finally {
      await server.close();
    }
  });

  it("opens a new connection once the stream ids are used up (RFC 9113, 5.1.1)", async () => {
    const server = await startRawGrpcServer();
    try {
      server.handlers.set("Echo", ({ stream, body }) => void body.then((bytes) => replyOk(stream, bytes)));
      const upstream = wire(server.address, { firstStreamId: 2 ** 31 - 3 });
      for (let i = 0; i < 3; i++) expect([...(await upstream.call(unary())).response]).toEqual([1, 2, 3]);
      // Ids 2^31-3 and 2^31-1 on the first connection, the third call on a second one.
      expect(server.sessions).toHaveLength(2);
    } finally {
      await server.destroy();
    }
  });

  it("stops a paused stream's upstream by flow control: a reader that does not read holds at most a window", async () => {
    const server = await startRawGrpcServer();
    let sent = 0;
    try {
      server.handlers.set("Flood", ({ stream }) => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        const chunk = grpcFrame(Buffer.alloc(1_000));
        const pump = () => {
          while (!stream.destroyed && sent < 2_000) {
            sent++;
            if (!stream.write(chunk)) return void stream.once("drain", pump);
          }
        };
        pump();
      });
      const stream = wire(server.address).stream({ rpcPath: "/raw.v1.Raw/Flood", metadata: [], deadline: undefined });
      stream.end();
      await stream.headers;
      // Let the upstream send what it may: until a PING round trip moves it no further.
      const stopped = await atRest(() => sent, () => clientHasRead(server.sessions[0]));
      // The stream window (64 KiB), Node's own buffers on the server side, and the 4 queued messages: far from 2,000.
      expect(stopped).toBeLessThan(400);
      const first = await stream.read();
      expect(first?.byteLength).toBe(1_000);
      stream.cancel();
    } finally {
      await server.destroy();
    }
  });
});

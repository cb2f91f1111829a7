import { readFileSync } from "node:fs";
import { constants, type ServerHttp2Stream } from "node:http2";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { toGatewayError } from "../../src/errors/to-gateway-error.js";
import { upstreamFailureOf } from "../../src/errors/upstream-failure.js";
import { createHttp2Upstream, type Http2UpstreamOptions } from "../../src/upstream/http2-upstream.js";
import type { UnaryCall, Upstream } from "../../src/upstream/upstream.js";
import { grpcFrame, replyOk, startRawGrpcServer, type RawGrpcServer, type RawHandler } from "./support/raw-grpc-server.js";

const TLS = join(import.meta.dirname, "../fixtures/tls");

function unary(method: string, overrides: Partial<UnaryCall> = {}): UnaryCall {
  return { rpcPath: `/raw.v1.Raw/${method}`, request: Uint8Array.from([1, 2, 3]), metadata: [], deadline: Date.now() + 5000, ...overrides };
}

/** The rejection of `promise` and the gateway error it maps to. */
async function rejection(promise: Promise<unknown>): Promise<{ raw: Error & { code: number; details: string }; error: GatewayError }> {
  try {
    await promise;
  } catch (raw) {
    return { raw: raw as Error & { code: number; details: string }, error: toGatewayError(raw) };
  }
  throw new Error("expected the call to fail");
}

/** A promise and the function that resolves it: `await fired` waits until a handler calls `fire()`. */
function signal(): [fired: Promise<void>, fire: () => void] {
  let fire: () => void = () => undefined;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return [fired, fire];
}

/** `pending` failed with UNAVAILABLE tagged `connection`, and the next call works over a second connection. */
async function expectConnectionLossThenNewConnection(pending: Promise<unknown>, upstream: Upstream, server: RawGrpcServer): Promise<void> {
  const { raw, error } = await rejection(pending);
  expect(error.code).toBe(GrpcCode.UNAVAILABLE);
  expect(upstreamFailureOf(raw)?.origin).toBe("connection");
  await upstream.call(unary("Echo"));
  expect(server.sessions).toHaveLength(2);
}

const upstreams: Upstream[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function upstreamFor(server: { address: string }, options: Http2UpstreamOptions = {}): Upstream {
  const upstream = createHttp2Upstream({ address: server.address }, options);
  upstreams.push(upstream);
  return upstream;
}
afterEach(() => {
  for (const upstream of upstreams.splice(0)) upstream.close();
});

describe("the http2 transport on the wire", () => {
  let server: RawGrpcServer;
  const on = (method: string, handler: RawHandler) => server.handlers.set(method, handler);

  beforeAll(async () => {
    server = await startRawGrpcServer();
  });
  afterAll(() => server.destroy());

  it("sends a gRPC request: POST, path, content-type, te, grpc-timeout, user-agent, metadata and one framed message", async () => {
    let seen: { headers: Record<string, unknown>; rawHeaders: readonly string[]; body: Buffer } | undefined;
    on("Inspect", ({ stream, headers, rawHeaders, body }) => {
      void body.then((bytes) => {
        seen = { headers, rawHeaders, body: bytes };
        replyOk(stream, grpcFrame(Buffer.from("ok")));
      });
    });
    const upstream = upstreamFor(server);
    const result = await upstream.call(
      unary("Inspect", {
        request: Uint8Array.from([9, 8, 7, 6]).subarray(1, 3),
        deadline: Date.now() + 2000,
        metadata: [["x-tenant", "a"], ["x-tenant", "b"], ["sig-bin", Buffer.from([0xfb, 0xff])], ["sig-bin", Buffer.from([1])]],
      }),
    );
    expect(result.response.toString()).toBe("ok");
    expect(seen?.headers).toMatchObject({ ":method": "POST", ":path": "/raw.v1.Raw/Inspect", "content-type": "application/grpc", te: "trailers", "user-agent": "protogate" });
    const timeout = String(seen?.headers["grpc-timeout"]);
    expect(timeout).toMatch(/^\d{1,8}m$/);
    expect(Number.parseInt(timeout, 10)).toBeGreaterThan(1000);
    expect(Number.parseInt(timeout, 10)).toBeLessThanOrEqual(2000);
    const pairs = (seen?.rawHeaders ?? []).flatMap((item, i, all) => (i % 2 === 0 ? [[item, all[i + 1]]] : []));
    expect(pairs.filter(([name]) => name === "x-tenant")).toEqual([["x-tenant", "a"], ["x-tenant", "b"]]);
    // Binary values as base64 without padding, one field per value.
    expect(pairs.filter(([name]) => name === "sig-bin")).toEqual([["sig-bin", "+/8"], ["sig-bin", "AQ"]]);
    expect([...(seen?.body ?? [])]).toEqual([0, 0, 0, 0, 2, 8, 7]);
  });

  it("returns header and trailer metadata, decoding -bin values and dropping grpc-status and grpc-message", async () => {
    on("Metadata", ({ stream }) =>
      replyOk(stream, grpcFrame(Buffer.from("m")), { "x-trailer": "done", "grpc-message": "fine", "t-bin": ["AAE", "AgM="] }, { "x-header": ["1", "2"], "h-bin": "/w" }),
    );
    const result = await upstreamFor(server).call(unary("Metadata"));
    expect(result.headers).toContainEqual(["x-header", "1, 2"]);
    expect(result.headers).toContainEqual(["h-bin", Buffer.from([0xff])]);
    expect(result.headers).toContainEqual(["content-type", "application/grpc"]);
    expect(result.trailers).toEqual([["x-trailer", "done"], ["t-bin", Buffer.from([0, 1])], ["t-bin", Buffer.from([2, 3])]]);
  });

  it("reassembles a reply split over many DATA frames", async () => {
    const message = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    on("Trickle", ({ stream }) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      const frame = grpcFrame(message);
      let offset = 0;
      const next = () => {
        if (offset >= frame.length) return void stream.end();
        const size = 1 + (offset % 7);
        stream.write(frame.subarray(offset, offset + size));
        offset += size;
        setImmediate(next);
      };
      next();
    });
    const result = await upstreamFor(server).call(unary("Trickle"));
    expect(Buffer.from(result.response).equals(message)).toBe(true);
  });

  it("accepts an empty reply message", async () => {
    on("Empty", ({ stream }) => replyOk(stream, grpcFrame(new Uint8Array(0))));
    const result = await upstreamFor(server).call(unary("Empty"));
    expect(result.response.byteLength).toBe(0);
  });

  it("reads a trailers-only error: status, percent-decoded message, details and metadata", async () => {
    on("TrailersOnly", ({ stream }) =>
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "5", "grpc-message": "no user %E2%9C%93 100%25 %zz", "x-why": "gone" },
        { endStream: true },
      ),
    );
    const { raw, error } = await rejection(upstreamFor(server).call(unary("TrailersOnly")));
    expect(raw.code).toBe(GrpcCode.NOT_FOUND);
    expect(error.code).toBe(GrpcCode.NOT_FOUND);
    expect(error.reason).toBe("PG_ERR_UPSTREAM");
    expect(error.message).toBe("no user \u2713 100% %zz");
    expect(upstreamFailureOf(raw)?.origin).toBe("upstream");
    const metadata = (raw as unknown as { metadata: { getMap(): Record<string, unknown>; get(key: string): unknown[] } }).metadata;
    expect(metadata.get("x-why")).toEqual(["gone"]);
    expect(Object.keys(metadata.getMap())).not.toContain("grpc-status");
  });

  it("treats an OK trailers-only reply as a missing message (UNIMPLEMENTED, as the spec's cardinality rule says)", async () => {
    on("NoMessage", ({ stream }) => stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true }));
    const { error } = await rejection(upstreamFor(server).call(unary("NoMessage")));
    expect(error.code).toBe(GrpcCode.UNIMPLEMENTED);
  });

  it.each([
    [400, GrpcCode.INTERNAL],
    [401, GrpcCode.UNAUTHENTICATED],
    [403, GrpcCode.PERMISSION_DENIED],
    [404, GrpcCode.UNIMPLEMENTED],
    [429, GrpcCode.UNAVAILABLE],
    [502, GrpcCode.UNAVAILABLE],
    [503, GrpcCode.UNAVAILABLE],
    [504, GrpcCode.UNAVAILABLE],
    [500, GrpcCode.UNKNOWN],
    [302, GrpcCode.UNKNOWN],
  ])("maps HTTP status %i without grpc-status to gRPC code %i, ignoring a non-gRPC body", async (httpStatus, code) => {
    on(`Http${httpStatus}`, ({ stream }) => {
      stream.respond({ ":status": httpStatus, "content-type": "text/html" });
      stream.end("<html>proxy error</html>");
    });
    const { raw, error } = await rejection(upstreamFor(server).call(unary(`Http${httpStatus}`)));
    expect(raw.code).toBe(code);
    expect(raw.details).toBe(`Received HTTP status code ${httpStatus}`);
    expect(error.code).toBe(code);
  });

  it("maps a trailers-only non-200 reply without grpc-status, and lets grpc-status win when present", async () => {
    on("TrailersOnly503", ({ stream }) => stream.respond({ ":status": 503 }, { endStream: true }));
    on("Http500WithStatus", ({ stream }) => stream.respond({ ":status": 500, "grpc-status": "9", "grpc-message": "precondition" }, { endStream: true }));
    expect((await rejection(upstreamFor(server).call(unary("TrailersOnly503")))).raw.code).toBe(GrpcCode.UNAVAILABLE);
    const { raw } = await rejection(upstreamFor(server).call(unary("Http500WithStatus")));
    expect(raw.code).toBe(GrpcCode.FAILED_PRECONDITION);
    expect(raw.details).toBe("precondition");
  });

  it("rejects a compressed message and an unknown flag with INTERNAL", async () => {
    on("Compressed", ({ stream }) => replyOk(stream, grpcFrame(Buffer.from("zz"), 1), {}, { "grpc-encoding": "gzip" }));
    on("BadFlag", ({ stream }) => replyOk(stream, grpcFrame(Buffer.from("zz"), 7)));
    for (const method of ["Compressed", "BadFlag"]) {
      const { error } = await rejection(upstreamFor(server).call(unary(method)));
      expect(error.code).toBe(GrpcCode.INTERNAL);
      expect(error.reason).toBe("PG_ERR_UPSTREAM");
    }
  });

  it("rejects a second message on a unary call (UNIMPLEMENTED, the spec's response cardinality violation)", async () => {
    on("Twice", ({ stream }) => replyOk(stream, Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("b"))])));
    const { error } = await rejection(upstreamFor(server).call(unary("Twice")));
    expect(error.code).toBe(GrpcCode.UNIMPLEMENTED);
  });

  it("rejects a reply that ends inside a message", async () => {
    on("Truncated", ({ stream }) => replyOk(stream, grpcFrame(Buffer.from("abcdef")).subarray(0, 8)));
    const { error } = await rejection(upstreamFor(server).call(unary("Truncated")));
    expect(error.code).toBe(GrpcCode.INTERNAL);
  });

  it("rejects an oversized reply with RESOURCE_EXHAUSTED from its prefix, cancelling the stream instead of reading it", async () => {
    const announced = 64 * 1024 * 1024;
    let written = 0;
    let serverStreamClosed: Promise<void> = Promise.resolve();
    on("Huge", ({ stream }) => {
      serverStreamClosed = new Promise((resolve) => stream.on("close", () => resolve()));
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(announced, 1);
      stream.write(prefix);
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!stream.destroyed && written < announced) {
          written += chunk.length;
          if (!stream.write(chunk)) return void stream.once("drain", pump);
        }
      };
      pump();
    });
    const { raw, error } = await rejection(upstreamFor(server, { maxReceiveMessageBytes: 1024 * 1024 }).call(unary("Huge")));
    expect(error.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(raw.details).toBe(`Received message larger than max (${announced} vs. ${1024 * 1024})`);
    await serverStreamClosed;
    expect(written).toBeLessThan(announced / 4);
  });

  it.each([
    [constants.NGHTTP2_REFUSED_STREAM, GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE"],
    [constants.NGHTTP2_CANCEL, GrpcCode.CANCELLED, "PG_ERR_UPSTREAM"],
    [constants.NGHTTP2_ENHANCE_YOUR_CALM, GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_UPSTREAM"],
    [constants.NGHTTP2_INADEQUATE_SECURITY, GrpcCode.PERMISSION_DENIED, "PG_ERR_UPSTREAM"],
    [constants.NGHTTP2_INTERNAL_ERROR, GrpcCode.INTERNAL, "PG_ERR_UPSTREAM"],
    [constants.NGHTTP2_PROTOCOL_ERROR, GrpcCode.INTERNAL, "PG_ERR_UPSTREAM"],
    [constants.NGHTTP2_FLOW_CONTROL_ERROR, GrpcCode.INTERNAL, "PG_ERR_UPSTREAM"],
    [constants.NGHTTP2_NO_ERROR, GrpcCode.INTERNAL, "PG_ERR_UPSTREAM"],
  ])("maps RST_STREAM code %i from the upstream to gRPC code %i", async (rstCode, code, reason) => {
    let attempts = 0;
    on(`Reset${rstCode}`, ({ stream }) => {
      attempts++;
      stream.close(rstCode);
    });
    const { error } = await rejection(upstreamFor(server).call(unary(`Reset${rstCode}`)));
    expect(error.code).toBe(code);
    expect(error.reason).toBe(reason);
    // Only a refused stream (not processed, by definition) is sent again, once.
    expect(attempts).toBe(rstCode === constants.NGHTTP2_REFUSED_STREAM ? 2 : 1);
  });

  it("sends a call again, once, after RST_STREAM REFUSED_STREAM, and returns the second answer", async () => {
    let attempts = 0;
    on("RefusedOnceByReset", ({ stream }) => {
      if (attempts++ === 0) stream.close(constants.NGHTTP2_REFUSED_STREAM);
      else replyOk(stream, grpcFrame(Buffer.from("after refusal")));
    });
    const result = await upstreamFor(server).call(unary("RefusedOnceByReset"));
    expect(Buffer.from(result.response).toString()).toBe("after refusal");
    expect(attempts).toBe(2);
  });

  it("maps RST_STREAM after the response headers too", async () => {
    on("ResetLate", ({ stream }) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.write(grpcFrame(Buffer.from("partial")).subarray(0, 6), () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
    });
    const { error } = await rejection(upstreamFor(server).call(unary("ResetLate")));
    expect(error.code).toBe(GrpcCode.INTERNAL);
  });

  it("cancels the stream on the gateway's deadline and reports DEADLINE_EXCEEDED tagged deadline", async () => {
    let cancelled: Promise<number> = Promise.resolve(-1);
    on("Hang", ({ stream }) => {
      cancelled = new Promise((resolve) => stream.on("close", () => resolve(stream.rstCode ?? -1)));
    });
    const { raw, error } = await rejection(upstreamFor(server).call(unary("Hang", { deadline: Date.now() + 80 })));
    expect(error.reason).toBe("PG_ERR_DEADLINE_EXCEEDED");
    expect(upstreamFailureOf(raw)?.origin).toBe("deadline");
    expect(await cancelled).toBe(constants.NGHTTP2_CANCEL);
  });

  it("names the timeout the deadline was made from, however late the call started", async () => {
    on("Hang", () => undefined);
    // The deadline was set 40 ms before the call: the message still says 100 ms, not 60.
    const { raw, error } = await rejection(upstreamFor(server).call(unary("Hang", { deadline: Date.now() + 60, timeoutMs: 100 })));
    expect(upstreamFailureOf(raw)?.timeoutMs).toBe(100);
    expect(error.message).toBe("deadline of 100 ms exceeded calling /raw.v1.Raw/Hang");
  });

  it("reports an upstream DEADLINE_EXCEEDED before the gateway's deadline as the upstream's", async () => {
    on("UpstreamDeadline", ({ stream }) => stream.respond({ ":status": 200, "grpc-status": "4", "grpc-message": "db timeout" }, { endStream: true }));
    const { error } = await rejection(upstreamFor(server).call(unary("UpstreamDeadline")));
    expect(error.reason).toBe("PG_ERR_UPSTREAM");
    expect(error.message).toBe("db timeout");
  });

  it("fails at once, without sending, when the deadline has already passed", async () => {
    let arrived = false;
    on("Late", () => void (arrived = true));
    const { error } = await rejection(upstreamFor(server).call(unary("Late", { deadline: Date.now() - 1 })));
    expect(error.reason).toBe("PG_ERR_DEADLINE_EXCEEDED");
    expect(arrived).toBe(false);
  });

  it("rejects a request above maxSendMessageBytes with RESOURCE_EXHAUSTED", async () => {
    const { error } = await rejection(upstreamFor(server, { maxSendMessageBytes: 2 }).call(unary("Echo")));
    expect(error.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
  });

  it("runs many concurrent calls on one session, within the peer's max concurrent streams", async () => {
    const limited = await startRawGrpcServer({ settings: { maxConcurrentStreams: 4 } });
    try {
      let active = 0;
      let peak = 0;
      limited.handlers.set("Slow", ({ stream, body }) => {
        active++;
        peak = Math.max(peak, active);
        void body.then((bytes) =>
          setTimeout(() => {
            active--;
            replyOk(stream, bytes);
          }, 2),
        );
      });
      const upstream = upstreamFor(limited);
      await upstream.call(unary("Slow")); // connected, the peer's SETTINGS known
      const calls = Array.from({ length: 200 }, (_, i) => upstream.call(unary("Slow", { request: Uint8Array.from([i % 256, 7]) })));
      const results = await Promise.all(calls);
      expect(results.map((r) => r.response[0])).toEqual(Array.from({ length: 200 }, (_, i) => i % 256));
      expect(limited.sessions).toHaveLength(1);
      expect(peak).toBeLessThanOrEqual(4);
      expect(peak).toBeGreaterThan(1);
    } finally {
      await limited.destroy();
    }
  });
});

describe("the http2 transport's connection", () => {
  const echo: RawHandler = ({ stream, body }) => void body.then((bytes) => replyOk(stream, bytes));

  it("reconnects after the server restarts on the same port (once the reconnection backoff has passed)", async () => {
    const first = await startRawGrpcServer();
    first.handlers.set("Echo", echo);
    const upstream = upstreamFor(first, { reconnectBackoff: { initialMs: 50, maxMs: 50 } });
    expect((await upstream.call(unary("Echo"))).response).toBeDefined();
    await first.destroy();
    // Down: fails fast with UNAVAILABLE tagged connection.
    const down = await rejection(upstream.call(unary("Echo")));
    expect(down.error.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
    const second = await startRawGrpcServer({ port: first.port });
    await sleep(80);
    try {
      second.handlers.set("Echo", echo);
      const result = await upstream.call(unary("Echo"));
      expect([...result.response]).toEqual([1, 2, 3]);
      expect(second.sessions).toHaveLength(1);
    } finally {
      await second.destroy();
    }
  });

  it("after a failed attempt, fails calls at once for the backoff instead of connecting per call, then tries again", async () => {
    let attempts = 0;
    // Accepts TCP and hangs up at once: every attempt fails before the HTTP/2 handshake.
    const server = createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const upstream = upstreamFor({ address: `127.0.0.1:${port}` }, { reconnectBackoff: { initialMs: 300, maxMs: 300 } });
      const first = await rejection(upstream.call(unary("Echo")));
      expect(first.error.code).toBe(GrpcCode.UNAVAILABLE);
      for (let i = 0; i < 20; i++) {
        const { raw, error } = await rejection(upstream.call(unary("Echo")));
        expect(error.code).toBe(GrpcCode.UNAVAILABLE);
        expect(upstreamFailureOf(raw)?.origin).toBe("connection");
        expect(raw.details).toMatch(/^Connection failed \(.+\); next attempt in \d+ ms$/);
      }
      expect(attempts).toBe(1);
      await sleep(400);
      await rejection(upstream.call(unary("Echo")));
      expect(attempts).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("abandons an attempt whose HTTP/2 handshake does not come within the connect timeout: the waiting call fails with UNAVAILABLE, not at its deadline", async () => {
    // Accepts TCP and stays silent: no SETTINGS ever arrive.
    const silent: Socket[] = [];
    const server = createServer((socket) => void silent.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const upstream = upstreamFor({ address: `127.0.0.1:${port}` }, { connectTimeoutMs: 150, reconnectBackoff: { initialMs: 10_000, maxMs: 10_000 } });
      const started = Date.now();
      const { raw, error } = await rejection(upstream.call(unary("Echo", { deadline: Date.now() + 10_000 })));
      expect(error.code).toBe(GrpcCode.UNAVAILABLE);
      expect(upstreamFailureOf(raw)?.origin).toBe("connection");
      expect(raw.details).toContain("no HTTP/2 handshake within 150 ms");
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(silent).toHaveLength(1);
    } finally {
      for (const socket of silent) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    ["before", false],
    ["after", true],
  ])("fails the calls in flight when the connection drops %s the response headers, then reconnects", async (_when, sendHeaders) => {
    const server = await startRawGrpcServer();
    try {
      const [hung, arrived] = signal();
      server.handlers.set("Hang", ({ stream }) => {
        if (sendHeaders) stream.respond({ ":status": 200, "content-type": "application/grpc" });
        arrived();
      });
      server.handlers.set("Echo", echo);
      const upstream = upstreamFor(server);
      const pending = upstream.call(unary("Hang"));
      await hung;
      await new Promise((resolve) => setTimeout(resolve, 20));
      server.sessions[0].destroy();
      await expectConnectionLossThenNewConnection(pending, upstream, server);
    } finally {
      await server.destroy();
    }
  });

  it("after a graceful GOAWAY, lets the accepted call finish and sends new calls on a new connection", async () => {
    const server = await startRawGrpcServer();
    try {
      let answer: () => void = () => undefined;
      const [hung, arrived] = signal();
      server.handlers.set("Slow", ({ stream }) => {
        answer = () => replyOk(stream, grpcFrame(Buffer.from("late")));
        arrived();
      });
      server.handlers.set("Echo", echo);
      const upstream = upstreamFor(server);
      const pending = upstream.call(unary("Slow"));
      await hung;
      const goawaySent = new Promise<void>((resolve) => server.sessions[0].close(resolve));
      // Give the GOAWAY time to arrive, then start a call: it must use a new connection.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const next = upstream.call(unary("Echo"));
      answer();
      expect(Buffer.from((await pending).response).toString()).toBe("late");
      await next;
      await goawaySent;
      expect(server.sessions).toHaveLength(2);
    } finally {
      await server.destroy();
    }
  });

  /** Refuses the stream by a graceful GOAWAY whose last stream id is below it. */
  const refuseByGoaway = (stream: ServerHttp2Stream) => stream.session?.goaway(constants.NGHTTP2_NO_ERROR, Math.max(0, (stream.id ?? 1) - 2));

  it("sends a call the GOAWAY refused (above its last stream id) again, once, on a new connection", async () => {
    const server = await startRawGrpcServer();
    try {
      let attempts = 0;
      server.handlers.set("RefusedOnce", ({ stream }) => {
        if (attempts++ === 0) refuseByGoaway(stream);
        else replyOk(stream, grpcFrame(Buffer.from("second attempt")));
      });
      server.handlers.set("Echo", echo);
      const upstream = upstreamFor(server);
      await upstream.call(unary("Echo"));
      const result = await upstream.call(unary("RefusedOnce"));
      expect(Buffer.from(result.response).toString()).toBe("second attempt");
      expect(attempts).toBe(2);
      expect(server.sessions).toHaveLength(2);
    } finally {
      await server.destroy();
    }
  });

  it("fails a call refused again on its retry with UNAVAILABLE tagged connection, after two attempts", async () => {
    const server = await startRawGrpcServer();
    try {
      let attempts = 0;
      server.handlers.set("AlwaysRefused", ({ stream }) => {
        // First by GOAWAY, then (on the new connection, whose first stream a GOAWAY cannot refuse) by RST_STREAM.
        if (attempts++ === 0) refuseByGoaway(stream);
        else stream.close(constants.NGHTTP2_REFUSED_STREAM);
      });
      server.handlers.set("Echo", echo);
      const upstream = upstreamFor(server);
      await upstream.call(unary("Echo"));
      const { raw, error } = await rejection(upstream.call(unary("AlwaysRefused")));
      expect(error.code).toBe(GrpcCode.UNAVAILABLE);
      expect(upstreamFailureOf(raw)?.origin).toBe("connection");
      expect(attempts).toBe(2);
      expect(server.sessions).toHaveLength(2);
    } finally {
      await server.destroy();
    }
  });

  it("close() fails the calls in flight and every later call with UNAVAILABLE", async () => {
    const server = await startRawGrpcServer();
    try {
      const [hung, arrived] = signal();
      server.handlers.set("Hang", () => arrived());
      const upstream = createHttp2Upstream({ address: server.address });
      const pending = upstream.call(unary("Hang"));
      await hung;
      upstream.close();
      expect((await rejection(pending)).error.code).toBe(GrpcCode.UNAVAILABLE);
      const later = await rejection(upstream.call(unary("Hang")));
      expect(later.error.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
      expect(server.sessions).toHaveLength(1);
    } finally {
      await server.destroy();
    }
  });

  it("speaks TLS with ALPN h2, verifying the certificate against serverName", async () => {
    const server = await startRawGrpcServer({ tls: { cert: readFileSync(join(TLS, "server.pem")), key: readFileSync(join(TLS, "server.key")) } });
    try {
      server.handlers.set("Echo", echo);
      const ca = readFileSync(join(TLS, "ca.pem"));
      const trusted = upstreamFor(server, { tls: { ca, serverName: "localhost" } });
      const result = await trusted.call(unary("Echo"));
      expect([...result.response]).toEqual([1, 2, 3]);
      const untrusted = await rejection(upstreamFor(server, { tls: { serverName: "localhost" } }).call(unary("Echo")));
      expect(untrusted.error.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
      const wrongName = await rejection(upstreamFor(server, { tls: { ca, serverName: "elsewhere.example" } }).call(unary("Echo")));
      expect(wrongName.error.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
    } finally {
      await server.destroy();
    }
  });

  it("sends keepalive pings when asked", async () => {
    const server = await startRawGrpcServer();
    try {
      server.handlers.set("Echo", echo);
      await upstreamFor(server, { keepaliveTimeMs: 20 }).call(unary("Echo"));
      const pings = await new Promise<number>((resolve) => {
        let count = 0;
        server.sessions[0].on("ping", () => {
          if (++count === 2) resolve(count);
        });
      });
      expect(pings).toBe(2);
    } finally {
      await server.destroy();
    }
  });
});

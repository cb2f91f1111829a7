import { readFileSync } from "node:fs";
import { constants, createServer as createHttp2Server, type ServerHttp2Stream } from "node:http2";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { toGatewayError } from "../../src/errors/to-gateway-error.js";
import { createHttp2Upstream, type Http2UpstreamOptions } from "../../src/upstream/http2-upstream.js";
import { UpstreamError } from "../../src/upstream/upstream-error.js";
import { createWireUpstream } from "../../src/upstream/wire-upstream.js";
import type { UnaryCall, Upstream } from "../../src/upstream/upstream.js";
import { createFakeClock } from "../support/fake-clock.js";
import { clientHasRead, grpcFrame, replyOk, startRawGrpcServer, type RawGrpcServer, type RawHandler } from "./support/raw-grpc-server.js";

const TLS = join(import.meta.dirname, "../fixtures/tls");

function unary(method: string, overrides: Partial<UnaryCall> = {}): UnaryCall {
  return { rpcPath: `/raw.v1.Raw/${method}`, request: Uint8Array.from([1, 2, 3]), metadata: [], deadline: Date.now() + 5000, ...overrides };
}

/** The rejection of `promise` (always an `UpstreamError`) and the gateway error it maps to. */
async function rejection(promise: Promise<unknown>): Promise<{ raw: UpstreamError; error: GatewayError }> {
  try {
    await promise;
  } catch (raw) {
    expect(raw).toBeInstanceOf(UpstreamError);
    return { raw: raw as UpstreamError, error: toGatewayError(raw) };
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
  expect(raw.origin).toBe("connection");
  await upstream.call(unary("Echo"));
  expect(server.sessions).toHaveLength(2);
}

const upstreams: Upstream[] = [];

/** An injected wall clock that moves only when a test says so. */
function fakeClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

/**
 * A TCP server that either hangs up every connection at once (each attempt fails before the
 * HTTP/2 handshake, like a restarting backend) or serves HTTP/2 echoing the request; a call to
 * `Hang` is never answered.
 */
async function startSwitchableServer(): Promise<{
  address: string;
  attempts(): number;
  setMode(mode: "refuse" | "serve"): void;
  /** Resolves once the first call to `Hang` has arrived. */
  hangArrived(): Promise<void>;
  /** Destroys every HTTP/2 connection and waits until the sockets are gone. */
  dropConnections(): Promise<void>;
  close(): Promise<void>;
}> {
  let attempts = 0;
  let mode: "refuse" | "serve" = "refuse";
  const [hung, hangArrived] = signal();
  const sockets = new Set<Socket>();
  const h2 = createHttp2Server();
  h2.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    if (String(headers[":path"]).endsWith("/Hang")) return hangArrived();
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => replyOk(stream, Buffer.concat(chunks)));
  });
  const server = createServer((socket) => {
    attempts++;
    if (mode === "refuse") return void socket.destroy();
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    h2.emit("connection", socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts: () => attempts,
    setMode: (next) => void (mode = next),
    hangArrived: () => hung,
    async dropConnections() {
      const closed = [...sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve)));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

afterEach(() => {
  for (const upstream of upstreams.splice(0)) upstream.close();
});

const TRANSPORTS: ReadonlyArray<[string, (target: { address: string }, options?: Http2UpstreamOptions) => Upstream]> = [
  ["http2", createHttp2Upstream],
  ["wire", createWireUpstream],
];

// The wire and connection behaviour of both of Protogate's own HTTP/2 transports: node:http2's and the hand-written one.
describe.each(TRANSPORTS)("%s", (transport, create) => {
  function upstreamFor(server: { address: string }, options: Http2UpstreamOptions = {}): Upstream {
    const upstream = create({ address: server.address }, options);
    upstreams.push(upstream);
    return upstream;
  }
  describe(`the ${transport} transport on the wire`, () => {
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

    it("regression: sends metadata keys named like Object.prototype's properties (constructor, __proto__) as themselves", async () => {
      let seen: readonly string[] = [];
      on("ProtoKeys", ({ stream, rawHeaders }) => {
        seen = rawHeaders;
        replyOk(stream, grpcFrame(Buffer.from("ok")));
      });
      await upstreamFor(server).call(unary("ProtoKeys", { metadata: [["constructor", "a"], ["__proto__", "b"]] }));
      const pairs = seen.flatMap((item, i, all) => (i % 2 === 0 ? [[item, all[i + 1]]] : []));
      expect(pairs.filter(([name]) => name === "constructor" || name === "__proto__")).toEqual([["constructor", "a"], ["__proto__", "b"]]);
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
      expect(raw.origin).toBe("upstream");
      expect(raw.metadata).toContainEqual(["x-why", "gone"]);
      expect(raw.metadata.map(([key]) => key)).not.toContain("grpc-status");
      expect(error.metadata).toBe(raw.metadata);
    });

    it("carries the response headers and the trailers of a failed call on the error, in order", async () => {
      on("HeadersThenError", ({ stream }) => replyOk(stream, Buffer.alloc(0), { "grpc-status": "9", "grpc-message": "after headers", "x-t": "1" }, { "x-h": ["a", "b"] }));
      const { raw } = await rejection(upstreamFor(server).call(unary("HeadersThenError")));
      expect(raw.code).toBe(GrpcCode.FAILED_PRECONDITION);
      const keys = raw.metadata.map(([key]) => key);
      expect(keys.indexOf("x-h")).toBeLessThan(keys.indexOf("x-t"));
      expect(raw.metadata).toContainEqual(["x-h", "a, b"]);
      expect(raw.metadata).toContainEqual(["x-t", "1"]);
    });

    it.each([
      ["OK trailers-only", (stream: ServerHttp2Stream) => stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true })],
      ["headers and OK trailers", (stream: ServerHttp2Stream) => replyOk(stream, Buffer.alloc(0))],
    ])("regression: a unary reply without a message (%s) is a protocol violation (502), not 501", async (_name, reply) => {
      on("NoMessage", ({ stream }) => reply(stream));
      const { raw, error } = await rejection(upstreamFor(server).call(unary("NoMessage")));
      expect(raw.origin).toBe("protocol");
      expect(raw.code).toBe(GrpcCode.UNIMPLEMENTED); // what a gRPC client reports (statuscodes.md: cardinality violation)
      expect(error.reason).toBe("PG_ERR_UPSTREAM_PROTOCOL");
      expect(error.httpStatus).toBe(502);
      expect(error.message).toBe("upstream protocol error calling /raw.v1.Raw/NoMessage: the upstream sent no response message for a unary call");
    });

    it("keeps an upstream's own UNIMPLEMENTED as the upstream's status (501)", async () => {
      on("Unknown", ({ stream }) => stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "unknown method" }, { endStream: true }));
      const { raw, error } = await rejection(upstreamFor(server).call(unary("Unknown")));
      expect(raw.origin).toBe("upstream");
      expect(error.reason).toBe("PG_ERR_UPSTREAM");
      expect(error.httpStatus).toBeUndefined();
    });

    it.each([
      ["17", "upstream", GrpcCode.UNKNOWN],
      ["abc", "protocol", GrpcCode.UNKNOWN],
      ["", "protocol", GrpcCode.UNKNOWN],
      ["-1", "protocol", GrpcCode.UNKNOWN],
    ])("reads grpc-status %j as a %s failure with code %i (an unknown code is UNKNOWN, a malformed one a protocol violation)", async (value, origin, code) => {
      on("OddStatus", ({ stream }) => stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": value }, { endStream: true }));
      const { raw } = await rejection(upstreamFor(server).call(unary("OddStatus")));
      expect(raw.origin).toBe(origin);
      expect(raw.code).toBe(code);
    });

    it.each([
      ["trailers without grpc-status", (stream: ServerHttp2Stream) => replyOk(stream, grpcFrame(Buffer.from("m")), { "grpc-status": [] as unknown as string, "x-a": "1" })],
      ["no trailers at all", (stream: ServerHttp2Stream) => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        stream.end(grpcFrame(Buffer.from("m")));
      }],
    ])("treats a 200 reply with %s as a protocol violation", async (_name, reply) => {
      on("NoStatus", ({ stream }) => reply(stream));
      const { raw, error } = await rejection(upstreamFor(server).call(unary("NoStatus")));
      expect(raw.origin).toBe("protocol");
      expect(error.message).toBe("upstream protocol error calling /raw.v1.Raw/NoStatus: the upstream ended the call without a grpc-status");
    });

    it.each([
      ["text/html", { "content-type": "text/html" }],
      ["missing", { "content-type": [] as unknown as string }],
      ["application/grpcx", { "content-type": "application/grpcx" }],
    ])("treats a 200 reply whose content-type is %s as a protocol violation, cancelling it", async (_name, headers) => {
      let closed: Promise<number> = Promise.resolve(-1);
      on("NotGrpc", ({ stream }) => {
        closed = new Promise((resolve) => stream.on("close", () => resolve(stream.rstCode ?? -1)));
        stream.respond({ ":status": 200, ...headers });
        stream.write(grpcFrame(Buffer.from("m")));
      });
      const { raw, error } = await rejection(upstreamFor(server).call(unary("NotGrpc")));
      expect(raw.origin).toBe("protocol");
      expect(error.message).toBe("upstream protocol error calling /raw.v1.Raw/NotGrpc: the reply's content-type is not application/grpc");
      expect(await closed).toBe(constants.NGHTTP2_CANCEL);
    });

    it.each(["application/grpc+proto", "application/grpc;charset=utf-8", "Application/GRPC"])("accepts the gRPC content-type %s", async (contentType) => {
      on("GrpcVariant", ({ stream }) => replyOk(stream, grpcFrame(Buffer.from("ok")), {}, { "content-type": contentType }));
      expect(Buffer.from((await upstreamFor(server).call(unary("GrpcVariant"))).response).toString()).toBe("ok");
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
      expect(raw.origin).toBe("upstream");
      expect(raw.message).toBe(`Received HTTP status code ${httpStatus}`);
      expect(error.code).toBe(code);
    });

    it("maps a trailers-only non-200 reply without grpc-status, and lets grpc-status win when present", async () => {
      on("TrailersOnly503", ({ stream }) => stream.respond({ ":status": 503 }, { endStream: true }));
      on("Http500WithStatus", ({ stream }) => stream.respond({ ":status": 500, "grpc-status": "9", "grpc-message": "precondition" }, { endStream: true }));
      expect((await rejection(upstreamFor(server).call(unary("TrailersOnly503")))).raw.code).toBe(GrpcCode.UNAVAILABLE);
      const { raw } = await rejection(upstreamFor(server).call(unary("Http500WithStatus")));
      expect(raw.code).toBe(GrpcCode.FAILED_PRECONDITION);
      expect(raw.message).toBe("precondition");
    });

    it.each([
      ["a compressed message (gzip)", "Compressed", grpcFrame(Buffer.from("zz"), 1), { "grpc-encoding": "gzip" }, "the upstream sent a compressed message without an encoding the gateway accepts"],
      ["a compressed flag without grpc-encoding", "CompressedIdentity", grpcFrame(Buffer.from("zz"), 1), {}, "the upstream sent a compressed message without an encoding the gateway accepts"],
      ["an unknown flag byte", "BadFlag", grpcFrame(Buffer.from("zz"), 7), {}, "the upstream sent a message with an invalid flag byte"],
    ])("rejects %s as a protocol violation (502)", async (_name, method, body, headers, message) => {
      on(method, ({ stream }) => replyOk(stream, body, {}, headers));
      const { raw, error } = await rejection(upstreamFor(server).call(unary(method)));
      expect(raw.origin).toBe("protocol");
      expect(raw.code).toBe(GrpcCode.INTERNAL);
      expect(error.reason).toBe("PG_ERR_UPSTREAM_PROTOCOL");
      expect(error.message).toBe(`upstream protocol error calling /raw.v1.Raw/${method}: ${message}`);
    });

    it("regression: a second message on a unary call is a protocol violation (502), not 501", async () => {
      on("Twice", ({ stream }) => replyOk(stream, Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("b"))])));
      const { raw, error } = await rejection(upstreamFor(server).call(unary("Twice")));
      expect(raw.origin).toBe("protocol");
      expect(raw.code).toBe(GrpcCode.UNIMPLEMENTED);
      expect(error.code).toBe(GrpcCode.INTERNAL);
      expect(error.httpStatus).toBe(502);
      expect(error.message).toBe("upstream protocol error calling /raw.v1.Raw/Twice: the upstream sent more than one response message for a unary call");
    });

    it("rejects a reply that ends inside a message as a protocol violation", async () => {
      on("Truncated", ({ stream }) => replyOk(stream, grpcFrame(Buffer.from("abcdef")).subarray(0, 8)));
      const { raw, error } = await rejection(upstreamFor(server).call(unary("Truncated")));
      expect(raw.origin).toBe("protocol");
      expect(error.message).toBe("upstream protocol error calling /raw.v1.Raw/Truncated: the reply ended inside a message");
    });

    it("regression: rejects an oversized reply from its prefix as 502 PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE (not 429), cancelling the stream instead of reading it", async () => {
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
      expect(raw.origin).toBe("limit");
      expect(raw.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
      expect(raw.limit).toEqual({ direction: "response", bytes: announced, maxBytes: 1024 * 1024 });
      expect(raw.message).toBe(`Received message larger than max (${announced} vs. ${1024 * 1024})`);
      expect(error.reason).toBe("PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE");
      expect(error.httpStatus).toBe(502);
      expect(error.message).toBe(`reply from /raw.v1.Raw/Huge is larger than maxReceiveMessageBytes (${announced} bytes, limit ${1024 * 1024} bytes)`);
      await serverStreamClosed;
      expect(written).toBeLessThan(announced / 4);
    });

    // The gRPC codes are PROTOCOL-HTTP2.md's; the REST answer is 502 for every reset but a refused
    // stream (not processed, so the upstream was not reached: 503). A CANCEL from the upstream is
    // not the client's 499, ENHANCE_YOUR_CALM not the client's 429, INADEQUATE_SECURITY not its 403.
    it.each([
      [constants.NGHTTP2_REFUSED_STREAM, GrpcCode.UNAVAILABLE, "connection", "PG_ERR_UPSTREAM_UNAVAILABLE"],
      [constants.NGHTTP2_CANCEL, GrpcCode.CANCELLED, "protocol", "PG_ERR_UPSTREAM_PROTOCOL"],
      [constants.NGHTTP2_ENHANCE_YOUR_CALM, GrpcCode.RESOURCE_EXHAUSTED, "protocol", "PG_ERR_UPSTREAM_PROTOCOL"],
      [constants.NGHTTP2_INADEQUATE_SECURITY, GrpcCode.PERMISSION_DENIED, "protocol", "PG_ERR_UPSTREAM_PROTOCOL"],
      [constants.NGHTTP2_INTERNAL_ERROR, GrpcCode.INTERNAL, "protocol", "PG_ERR_UPSTREAM_PROTOCOL"],
      [constants.NGHTTP2_PROTOCOL_ERROR, GrpcCode.INTERNAL, "protocol", "PG_ERR_UPSTREAM_PROTOCOL"],
      [constants.NGHTTP2_FLOW_CONTROL_ERROR, GrpcCode.INTERNAL, "protocol", "PG_ERR_UPSTREAM_PROTOCOL"],
      [constants.NGHTTP2_NO_ERROR, GrpcCode.INTERNAL, "protocol", "PG_ERR_UPSTREAM_PROTOCOL"],
    ])("maps RST_STREAM code %i from the upstream to gRPC code %i, a %s failure (%s)", async (rstCode, code, origin, reason) => {
      let attempts = 0;
      on(`Reset${rstCode}`, ({ stream }) => {
        attempts++;
        stream.close(rstCode);
      });
      const { raw, error } = await rejection(upstreamFor(server).call(unary(`Reset${rstCode}`)));
      expect(raw.code).toBe(code);
      expect(raw.origin).toBe(origin);
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
        // waitForTrailers: otherwise Node ends the stream (END_STREAM) before a close(code) after respond().
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.write(grpcFrame(Buffer.from("partial")).subarray(0, 6), () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
      });
      const { raw, error } = await rejection(upstreamFor(server).call(unary("ResetLate")));
      expect(raw.code).toBe(GrpcCode.INTERNAL);
      expect(error.message).toBe("upstream protocol error calling /raw.v1.Raw/ResetLate: the upstream reset the stream (RST_STREAM INTERNAL_ERROR)");
    });

    it("cancels the stream on the gateway's deadline and reports DEADLINE_EXCEEDED tagged deadline", async () => {
      let cancelled: Promise<number> = Promise.resolve(-1);
      on("Hang", ({ stream }) => {
        cancelled = new Promise((resolve) => stream.on("close", () => resolve(stream.rstCode ?? -1)));
      });
      const { raw, error } = await rejection(upstreamFor(server).call(unary("Hang", { deadline: Date.now() + 80 })));
      expect(error.reason).toBe("PG_ERR_DEADLINE_EXCEEDED");
      expect(raw.origin).toBe("deadline");
      expect(await cancelled).toBe(constants.NGHTTP2_CANCEL);
    });

    it("names the timeout the deadline was made from, however late the call started", async () => {
      on("Hang", () => undefined);
      // The deadline was set 40 ms before the call: the message still says 100 ms, not 60.
      const { raw, error } = await rejection(upstreamFor(server).call(unary("Hang", { deadline: Date.now() + 60, timeoutMs: 100 })));
      expect(raw.timeoutMs).toBe(100);
      expect(error.message).toBe("deadline of 100 ms exceeded calling /raw.v1.Raw/Hang");
    });

    it("runs the deadline on injected timers when given: the call fails when they say so, not on the wall clock", async () => {
      const clock = createFakeClock(Date.now());
      let cancelled: Promise<number> = Promise.resolve(-1);
      const [hung, arrived] = signal();
      on("HangOnTimers", ({ stream }) => {
        cancelled = new Promise((resolve) => stream.on("close", () => resolve(stream.rstCode ?? -1)));
        arrived();
      });
      const pending = upstreamFor(server, { now: clock.now, timers: clock }).call(unary("HangOnTimers", { deadline: clock.now() + 30_000 }));
      await hung;
      clock.advance(30_000);
      const { raw } = await rejection(pending);
      expect(raw.origin).toBe("deadline");
      expect(await cancelled).toBe(constants.NGHTTP2_CANCEL);
      expect(clock.pending()).toBe(0);
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

    it("refuses a request above maxSendMessageBytes without sending it: a limit failure (413)", async () => {
      let arrived = false;
      on("Big", () => void (arrived = true));
      const { raw, error } = await rejection(upstreamFor(server, { maxSendMessageBytes: 2 }).call(unary("Big")));
      expect(raw.origin).toBe("limit");
      expect(raw.limit).toEqual({ direction: "request", bytes: 3, maxBytes: 2 });
      expect(error.reason).toBe("PG_ERR_BODY_TOO_LARGE");
      expect(error.httpStatus).toBe(413);
      expect(arrived).toBe(false);
    });

    it("runs many concurrent calls on one session, within the peer's max concurrent streams", async () => {
      const limited = await startRawGrpcServer({ settings: { maxConcurrentStreams: 4 } });
      try {
        // Each call is answered only once as many are open as the limit allows (fewer at the
        // end), so the session is at its limit before every answer: what the client opens
        // beyond it would show, and a client that opened fewer would never be answered.
        const LIMIT = 4;
        let unanswered = 1;
        let active = 0;
        let peak = 0;
        const waiting: Array<() => void> = [];
        const answerWhileFull = () => {
          while (waiting.length > 0 && waiting.length >= Math.min(LIMIT, unanswered)) waiting.shift()?.();
        };
        limited.handlers.set("Slow", ({ stream, body }) => {
          active++;
          peak = Math.max(peak, active);
          void body.then((bytes) => {
            waiting.push(() => {
              active--;
              unanswered--;
              replyOk(stream, bytes);
            });
            answerWhileFull();
          });
        });
        const upstream = upstreamFor(limited);
        await upstream.call(unary("Slow")); // connected, the peer's SETTINGS known
        unanswered = 200;
        const calls = Array.from({ length: 200 }, (_, i) => upstream.call(unary("Slow", { request: Uint8Array.from([i % 256, 7]) })));
        const results = await Promise.all(calls);
        expect(results.map((r) => r.response[0])).toEqual(Array.from({ length: 200 }, (_, i) => i % 256));
        expect(limited.sessions).toHaveLength(1);
        expect(peak).toBe(LIMIT);
      } finally {
        await limited.destroy();
      }
    });
  });

  describe(`the ${transport} transport's connection`, () => {
    const echo: RawHandler = ({ stream, body }) => void body.then((bytes) => replyOk(stream, bytes));

    it("reconnects after the server restarts on the same port (once the reconnection backoff has passed)", async () => {
      const clock = fakeClock();
      const first = await startRawGrpcServer();
      first.handlers.set("Echo", echo);
      const upstream = upstreamFor(first, { reconnectBackoff: { initialMs: 50, maxMs: 50 }, now: clock.now, random: () => 0.5 });
      expect((await upstream.call(unary("Echo", { deadline: clock.now() + 5000 }))).response).toBeDefined();
      await first.destroy();
      // Down: fails fast with UNAVAILABLE tagged connection (the dying connection, or the attempt after it).
      const down = await rejection(upstream.call(unary("Echo", { deadline: clock.now() + 5000 })));
      expect(down.error.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
      const second = await startRawGrpcServer({ port: first.port });
      clock.advance(50);
      try {
        second.handlers.set("Echo", echo);
        const result = await upstream.call(unary("Echo", { deadline: clock.now() + 5000 }));
        expect([...result.response]).toEqual([1, 2, 3]);
        expect(second.sessions).toHaveLength(1);
      } finally {
        await second.destroy();
      }
    });

    it("after a failed attempt, fails calls at once for the backoff instead of connecting per call, then tries again", async () => {
      const server = await startSwitchableServer();
      try {
        const clock = fakeClock();
        const upstream = upstreamFor(server, { reconnectBackoff: { initialMs: 300, maxMs: 300 }, now: clock.now, random: () => 0.5 });
        const call = () => upstream.call(unary("Echo", { deadline: clock.now() + 5000 }));
        const first = await rejection(call());
        expect(first.error.code).toBe(GrpcCode.UNAVAILABLE);
        for (let i = 0; i < 20; i++) {
          clock.advance(14); // 280 ms in all: still inside the backoff
          const { raw, error } = await rejection(call());
          expect(error.code).toBe(GrpcCode.UNAVAILABLE);
          expect(raw.origin).toBe("connection");
          expect(raw.message).toMatch(/^Connection failed \(.+\); next attempt in \d+ ms$/);
        }
        expect(server.attempts()).toBe(1);
        clock.advance(20);
        await rejection(call());
        expect(server.attempts()).toBe(2);
      } finally {
        await server.close();
      }
    });

    it("regression: after a long outage the reconnection backoff stays at most 1 s (it grew to 5 s), so a restarted upstream is used again within a second, with one attempt per backoff meanwhile", async () => {
      const server = await startSwitchableServer();
      try {
        const clock = fakeClock();
        // The default schedule; no jitter, so each wait is exact.
        const upstream = upstreamFor(server, { now: clock.now, random: () => 0.5 });
        const call = () => upstream.call(unary("Echo", { deadline: clock.now() + 5000 }));
        const waits: number[] = [];
        for (let attempt = 1; attempt <= 9; attempt++) {
          await rejection(call()); // this call makes the attempt, which fails
          expect(server.attempts()).toBe(attempt);
          const { raw } = await rejection(call()); // during the backoff: at once, no attempt
          const wait = Number(/next attempt in (\d+) ms$/.exec(raw.message)?.[1]);
          waits.push(wait);
          // A steady load during the backoff makes no attempt (one call a millisecond before its end, here).
          clock.advance(wait - 1);
          await rejection(call());
          expect(server.attempts()).toBe(attempt);
          clock.advance(1);
        }
        expect(waits).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000]);
        // The upstream comes back: the first call after the current backoff (at most 1 s) uses it.
        server.setMode("serve");
        const result = await call();
        expect([...result.response]).toEqual([1, 2, 3]);
      } finally {
        await server.close();
      }
    });

    it("starts the backoff again from its start, and connects at once, when a connection that had completed its handshake is lost", async () => {
      const server = await startSwitchableServer();
      try {
        const clock = fakeClock();
        const upstream = upstreamFor(server, { now: clock.now, random: () => 0.5 });
        const call = () => upstream.call(unary("Echo", { deadline: clock.now() + 5000 }));
        const waitNow = async () => Number(/next attempt in (\d+) ms$/.exec((await rejection(call())).raw.message)?.[1]);
        for (let attempt = 1; attempt <= 6; attempt++) {
          await rejection(call());
          clock.advance(await waitNow());
        }
        server.setMode("serve");
        await call(); // healthy again
        const attempts = server.attempts();
        server.setMode("refuse");
        // A call in flight fails once the client has seen the connection go.
        const inFlight = upstream.call(unary("Hang", { deadline: clock.now() + 5000 }));
        await server.hangArrived();
        await server.dropConnections();
        expect((await rejection(inFlight)).raw.origin).toBe("connection");
        // The first call after the loss connects at once (no backoff is pending) ...
        await rejection(call());
        expect(server.attempts()).toBe(attempts + 1);
        // ... and its failure starts the backoff at 100 ms, not where the outage before had left it.
        expect(await waitNow()).toBe(100);
      } finally {
        await server.close();
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
        expect(raw.origin).toBe("connection");
        expect(raw.message).toContain("no HTTP/2 handshake within 150 ms");
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
        // Dropped once the client has read what came before (the headers, when sent).
        await clientHasRead(server.sessions[0]);
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
        let slowStreamId = 0;
        const [hung, arrived] = signal();
        server.handlers.set("Slow", ({ stream }) => {
          answer = () => replyOk(stream, grpcFrame(Buffer.from("late")));
          slowStreamId = stream.id ?? 0;
          arrived();
        });
        server.handlers.set("Echo", echo);
        const upstream = upstreamFor(server);
        const pending = upstream.call(unary("Slow"));
        await hung;
        // A graceful GOAWAY (the one a graceful close sends), and once the client has read it, a
        // new call: it must use a new connection. The session closes after the accepted call.
        const session = server.sessions[0];
        const closed = new Promise((resolve) => session.once("close", resolve));
        session.goaway(constants.NGHTTP2_NO_ERROR, slowStreamId);
        await clientHasRead(session);
        // (node:http2's client answers the GOAWAY with its own, which starts the close already.)
        session.close();
        const next = upstream.call(unary("Echo"));
        answer();
        expect(Buffer.from((await pending).response).toString()).toBe("late");
        await next;
        await closed;
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
        expect(raw.origin).toBe("connection");
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
        const upstream = create({ address: server.address });
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
});

// Regression: the http2 transport reset (RST_STREAM NO_ERROR) every streaming call that had ended
// normally on both sides; Node's nghttp2 counts received resets (rapid-reset mitigation) and
// closed the connection with GOAWAY after about a thousand, failing the call in flight (the
// 1,034th in a row here). The wire transport never did; both are checked.
describe.each(["http2", "wire"] as const)("a normally ended stream is not reset (%s)", (transport) => {
  it("1,200 streaming calls in a row on one connection to a node:http2 server all end OK", async () => {
    const server = createHttp2Server();
    server.on("stream", (stream: ServerHttp2Stream) => {
      stream.on("error", () => undefined);
      stream.resume();
      stream.once("end", () => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(grpcFrame(Buffer.from([8, 1])));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const upstream = transport === "http2" ? createHttp2Upstream({ address }) : createWireUpstream({ address });
    try {
      let completed = 0;
      for (let i = 0; i < 1_200; i++) {
        const stream = upstream.stream({ rpcPath: "/x.v1.X/Y", metadata: [], deadline: undefined });
        await stream.write(Buffer.from("abc"));
        stream.end();
        while ((await stream.read()) !== undefined);
        completed++;
      }
      expect(completed).toBe(1_200);
    } finally {
      upstream.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});

import { constants, type ServerHttp2Stream } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { toGatewayError } from "../../src/errors/to-gateway-error.js";
import { createGrpcUpstream } from "../../src/upstream/grpc-upstream.js";
import { createHttp2Upstream } from "../../src/upstream/http2-upstream.js";
import { createWireUpstream } from "../../src/upstream/wire-upstream.js";
import { UpstreamError, type UpstreamErrorOrigin } from "../../src/upstream/upstream-error.js";
import type { UpstreamOptions, UpstreamTransport } from "../../src/upstream/upstream-options.js";
import type { Upstream } from "../../src/upstream/upstream.js";
import { clientHasRead, grpcFrame, replyOk, resetAfter, startRawGrpcServer, trailersOnly, type RawGrpcServer } from "./support/raw-grpc-server.js";

// Every way an upstream can break a unary reply, against both transports: each must decide the
// same origin at its boundary (the http2 transport from the wire, the grpc-js one from grpc-js's
// statuses and what it saw), so that the REST answer does not depend on the transport.

const TRANSPORTS: ReadonlyArray<[UpstreamTransport, (target: { address: string }, options?: UpstreamOptions) => Upstream]> = [
  ["grpc-js", createGrpcUpstream],
  ["http2", createHttp2Upstream],
  ["wire", createWireUpstream],
];
/** Protogate's own transports, which read the wire themselves (grpc-js cannot see some faults). */
const OWN_TRANSPORTS: readonly UpstreamTransport[] = ["http2", "wire"];
const MAX_RECEIVE = 1024;

type Reply = (stream: ServerHttp2Stream) => void;

interface Case {
  readonly name: string;
  readonly reply: Reply;
  readonly origin: UpstreamErrorOrigin;
  /** The client-facing message, when both transports give the same one. */
  readonly message?: string;
  readonly httpStatus: number;
  /** Transports that cannot see this violation (see the note), and are left out of it. */
  readonly only?: readonly UpstreamTransport[];
}

const violation = (text: string) => `upstream protocol error calling /raw.v1.Raw/Call: ${text}`;
const NO_MESSAGE = violation("the upstream sent no response message for a unary call");
const NO_STATUS = violation("the upstream ended the call without a grpc-status");

const CASES: readonly Case[] = [
  { name: "two messages", reply: (s) => replyOk(s, Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("b"))])), origin: "protocol", message: violation("the upstream sent more than one response message for a unary call"), httpStatus: 502 },
  {
    name: "two messages in separate DATA frames",
    reply: (s) => {
      s.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
      // The second once the client has read the first: separate frames, separate reads.
      s.write(grpcFrame(Buffer.from("a")), () => void clientHasRead(s.session).then(() => s.end(grpcFrame(Buffer.from("b")))));
    },
    origin: "protocol",
    message: violation("the upstream sent more than one response message for a unary call"),
    httpStatus: 502,
  },
  { name: "no message, headers and OK trailers", reply: (s) => replyOk(s, Buffer.alloc(0)), origin: "protocol", message: NO_MESSAGE, httpStatus: 502 },
  { name: "no message, OK trailers-only", reply: trailersOnly({ "content-type": "application/grpc", "grpc-status": "0" }), origin: "protocol", message: NO_MESSAGE, httpStatus: 502 },
  // grpc-js drops the partial message and reports no message; the http2 transport says what happened.
  { name: "a message cut short, then OK", reply: (s) => replyOk(s, grpcFrame(Buffer.from("abcdef")).subarray(0, 8)), origin: "protocol", httpStatus: 502 },
  { name: "a compressed flag without grpc-encoding", reply: (s) => replyOk(s, grpcFrame(Buffer.from("zz"), 1)), origin: "protocol", message: violation("the upstream sent a compressed message without an encoding the gateway accepts"), httpStatus: 502 },
  { name: "a compressed message in an unknown encoding", reply: (s) => replyOk(s, grpcFrame(Buffer.from("zz"), 1), {}, { "grpc-encoding": "snappy" }), origin: "protocol", message: violation("the upstream sent a compressed message without an encoding the gateway accepts"), httpStatus: 502 },
  // grpc-js reads any flag but 1 as "not compressed", and hands the message over.
  { name: "an invalid flag byte", reply: (s) => replyOk(s, grpcFrame(Buffer.from("zz"), 7)), origin: "protocol", message: violation("the upstream sent a message with an invalid flag byte"), httpStatus: 502, only: OWN_TRANSPORTS },
  { name: "a message over maxReceiveMessageBytes", reply: (s) => replyOk(s, grpcFrame(Buffer.alloc(MAX_RECEIVE + 1))), origin: "limit", message: `reply from /raw.v1.Raw/Call is larger than maxReceiveMessageBytes (${MAX_RECEIVE + 1} bytes, limit ${MAX_RECEIVE} bytes)`, httpStatus: 502 },
  {
    name: "a 4 GiB length prefix",
    reply: (s) => {
      s.respond({ ":status": 200, "content-type": "application/grpc" });
      s.write(Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    },
    origin: "limit",
    message: `reply from /raw.v1.Raw/Call is larger than maxReceiveMessageBytes (4294967295 bytes, limit ${MAX_RECEIVE} bytes)`,
    httpStatus: 502,
  },
  { name: "content-type text/html on a 200", reply: (s) => replyOk(s, grpcFrame(Buffer.from("m")), {}, { "content-type": "text/html" }), origin: "protocol", message: violation("the reply's content-type is not application/grpc"), httpStatus: 502 },
  {
    name: "no content-type on a 200",
    reply: (s) => {
      s.respond({ ":status": 200 }, { waitForTrailers: true });
      s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
      s.end(grpcFrame(Buffer.from("m")));
    },
    origin: "protocol",
    message: violation("the reply's content-type is not application/grpc"),
    httpStatus: 502,
  },
  { name: "trailers without grpc-status", reply: (s) => replyOk(s, grpcFrame(Buffer.from("m")), { "grpc-status": [] as unknown as string, "x-a": "1" }), origin: "protocol", message: NO_STATUS, httpStatus: 502 },
  {
    name: "no trailers at all",
    reply: (s) => {
      s.respond({ ":status": 200, "content-type": "application/grpc" });
      s.end(grpcFrame(Buffer.from("m")));
    },
    origin: "protocol",
    message: NO_STATUS,
    httpStatus: 502,
  },
  { name: "a grpc-status that is not a number", reply: (s) => replyOk(s, grpcFrame(Buffer.from("m")), { "grpc-status": "abc" }), origin: "protocol", message: violation("the upstream sent a malformed grpc-status"), httpStatus: 502 },
  // grpc-js reads "" as Number("") = 0, OK.
  { name: "an empty grpc-status", reply: (s) => replyOk(s, grpcFrame(Buffer.from("m")), { "grpc-status": "" }), origin: "protocol", message: violation("the upstream sent a malformed grpc-status"), httpStatus: 502, only: OWN_TRANSPORTS },
  { name: "RST_STREAM NO_ERROR before the headers", reply: (s) => s.close(constants.NGHTTP2_NO_ERROR), origin: "protocol", message: NO_STATUS, httpStatus: 502 },
  { name: "RST_STREAM PROTOCOL_ERROR before the headers", reply: (s) => s.close(constants.NGHTTP2_PROTOCOL_ERROR), origin: "protocol", message: violation("the upstream reset the stream (RST_STREAM PROTOCOL_ERROR)"), httpStatus: 502 },
  { name: "RST_STREAM INTERNAL_ERROR before the headers", reply: (s) => s.close(constants.NGHTTP2_INTERNAL_ERROR), origin: "protocol", message: violation("the upstream reset the stream (RST_STREAM INTERNAL_ERROR)"), httpStatus: 502 },
  { name: "RST_STREAM CANCEL before the headers", reply: (s) => s.close(constants.NGHTTP2_CANCEL), origin: "protocol", message: violation("the upstream reset the stream (RST_STREAM CANCEL)"), httpStatus: 502 },
  { name: "RST_STREAM ENHANCE_YOUR_CALM before the headers", reply: (s) => s.close(constants.NGHTTP2_ENHANCE_YOUR_CALM), origin: "protocol", message: violation("the upstream reset the stream (RST_STREAM ENHANCE_YOUR_CALM)"), httpStatus: 502 },
  { name: "RST_STREAM INADEQUATE_SECURITY before the headers", reply: (s) => s.close(constants.NGHTTP2_INADEQUATE_SECURITY), origin: "protocol", message: violation("the upstream reset the stream (RST_STREAM INADEQUATE_SECURITY)"), httpStatus: 502 },
  { name: "RST_STREAM REFUSED_STREAM (every attempt)", reply: (s) => s.close(constants.NGHTTP2_REFUSED_STREAM), origin: "connection", message: "upstream unavailable for /raw.v1.Raw/Call", httpStatus: 503 },
  { name: "RST_STREAM INTERNAL_ERROR after the headers", reply: resetAfter(undefined, constants.NGHTTP2_INTERNAL_ERROR), origin: "protocol", message: violation("the upstream reset the stream (RST_STREAM INTERNAL_ERROR)"), httpStatus: 502 },
  { name: "RST_STREAM CANCEL inside a message", reply: resetAfter(grpcFrame(Buffer.from("partial")).subarray(0, 6), constants.NGHTTP2_CANCEL), origin: "protocol", message: violation("the upstream reset the stream (RST_STREAM CANCEL)"), httpStatus: 502 },
  { name: "RST_STREAM PROTOCOL_ERROR after a whole message", reply: resetAfter(grpcFrame(Buffer.from("whole")), constants.NGHTTP2_PROTOCOL_ERROR), origin: "protocol", message: violation("the upstream reset the stream (RST_STREAM PROTOCOL_ERROR)"), httpStatus: 502 },
  // The upstream's own statuses keep their mapping, whatever their text.
  { name: "the upstream's own UNIMPLEMENTED", reply: trailersOnly({ "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "No message received" }), origin: "upstream", message: "No message received", httpStatus: 501 },
  { name: "the upstream's own RESOURCE_EXHAUSTED", reply: trailersOnly({ "content-type": "application/grpc", "grpc-status": "8", "grpc-message": `Received message larger than max (5000 vs. ${MAX_RECEIVE})` }), origin: "upstream", message: `Received message larger than max (5000 vs. ${MAX_RECEIVE})`, httpStatus: 429 },
  { name: "the upstream's own UNAVAILABLE, trailers-only", reply: trailersOnly({ "content-type": "application/grpc", "grpc-status": "14", "grpc-message": "draining" }), origin: "upstream", message: "draining", httpStatus: 503 },
  { name: "the upstream's own UNAVAILABLE after headers", reply: (s) => replyOk(s, Buffer.alloc(0), { "grpc-status": "14", "grpc-message": "draining" }), origin: "upstream", message: "draining", httpStatus: 503 },
  { name: "the upstream's own CANCELLED", reply: trailersOnly({ "content-type": "application/grpc", "grpc-status": "1", "grpc-message": "Call cancelled" }), origin: "upstream", httpStatus: 499 },
  { name: "an unknown grpc-status code (17)", reply: trailersOnly({ "content-type": "application/grpc", "grpc-status": "17" }), origin: "upstream", httpStatus: 500 },
  {
    name: "an intermediary's HTTP 503 page",
    reply: (s) => {
      s.respond({ ":status": 503, "content-type": "text/html" });
      s.end("<html>down</html>");
    },
    origin: "upstream",
    message: "Received HTTP status code 503",
    httpStatus: 503,
  },
];

describe.each(TRANSPORTS)("the %s transport against replies that break the gRPC protocol", (transport, createUpstream) => {
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

  const cases = CASES.filter((c) => c.only === undefined || c.only.includes(transport));
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    server.handlers.set("Call", ({ stream }) => c.reply(stream));
    let raw: unknown;
    try {
      await upstream.call({ rpcPath: "/raw.v1.Raw/Call", request: Uint8Array.from([1]), metadata: [], deadline: Date.now() + 5_000 });
    } catch (error) {
      raw = error;
    }
    expect(raw).toBeInstanceOf(UpstreamError);
    expect((raw as UpstreamError).origin).toBe(c.origin);
    const mapped = toGatewayError(raw);
    expect(mapped.httpStatus ?? httpStatusOf(mapped.code)).toBe(c.httpStatus);
    if (c.message !== undefined) expect(mapped.message).toBe(c.message);
    // And the connection still serves.
    server.handlers.set("Call", ({ stream }) => replyOk(stream, grpcFrame(Buffer.from("fine"))));
    const after = await upstream.call({ rpcPath: "/raw.v1.Raw/Call", request: Uint8Array.from([1]), metadata: [], deadline: Date.now() + 5_000 });
    expect(Buffer.from(after.response).toString()).toBe("fine");
  });
});

function httpStatusOf(code: GrpcCode): number {
  return ({ [GrpcCode.UNIMPLEMENTED]: 501, [GrpcCode.RESOURCE_EXHAUSTED]: 429, [GrpcCode.UNAVAILABLE]: 503, [GrpcCode.CANCELLED]: 499, [GrpcCode.UNKNOWN]: 500 } as Record<number, number>)[code] ?? -1;
}

import { createServer } from "node:net";
import { Metadata, Server, ServerCredentials, status as GrpcStatus, type ServerUnaryCall, type ServiceDefinition, type sendUnaryData } from "@grpc/grpc-js";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderError } from "../../src/errors/error-writer.js";
import type { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { encodeRpcStatus } from "../../src/errors/rpc-status.js";
import { toGatewayError } from "../../src/errors/to-gateway-error.js";
import { createGrpcUpstream, grpcChannelOptions } from "../../src/upstream/grpc-upstream.js";
import { createHttp2Upstream } from "../../src/upstream/http2-upstream.js";
import { createWireUpstream } from "../../src/upstream/wire-upstream.js";
import type { UpstreamOptions, UpstreamTransport } from "../../src/upstream/upstream-options.js";
import { createUpstreamPool } from "../../src/upstream/upstream-pool.js";
import type { UnaryCall, Upstream } from "../../src/upstream/upstream.js";

/** Both transports must behave alike: the same suite runs against each. */
const TRANSPORTS: ReadonlyArray<[UpstreamTransport, (target: { address: string }, options?: UpstreamOptions) => Upstream]> = [
  ["grpc-js", createGrpcUpstream],
  ["http2", createHttp2Upstream],
  ["wire", createWireUpstream],
];

type Handler = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void;
const identity = (value: Buffer) => value;

/** A hand-made service definition: raw bytes in, raw bytes out. */
function serviceDefinition(names: string[]): ServiceDefinition {
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        path: `/test.v1.Raw/${name}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    ]),
  );
}

/** google.rpc.BadRequest{field_violations: [{field: "name", description: "required"}]}, encoded by hand. */
const badRequestBytes = new BinaryWriter()
  .tag(1, WireType.LengthDelimited).fork()
  .tag(1, WireType.LengthDelimited).string("name")
  .tag(2, WireType.LengthDelimited).string("required")
  .join()
  .finish();
const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";

let server: Server;
let address: string;
/** Resolvers waiting for the server to receive, and to see cancelled, a Hang call with a given x-request-id. */
const hangArrivals = new Map<string, () => void>();
const hangCancellations = new Map<string, () => void>();

const handlers: Record<string, Handler> = {
  Echo(call, callback) {
    const headers = new Metadata();
    headers.set("x-echo-tenant", String(call.metadata.get("tenant")[0] ?? ""));
    const sig = call.metadata.get("sig-bin")[0];
    if (Buffer.isBuffer(sig)) headers.set("x-echo-sig-bin", sig);
    call.sendMetadata(headers);
    const trailers = new Metadata();
    trailers.set("x-trailer", "done");
    callback(null, call.request, trailers);
  },
  Fail(_call, callback) {
    const trailers = new Metadata();
    const status = encodeRpcStatus({ code: GrpcStatus.INVALID_ARGUMENT, message: "bad name", details: [{ typeUrl: BAD_REQUEST_TYPE, value: badRequestBytes }] });
    trailers.set("grpc-status-details-bin", Buffer.from(status));
    callback({ code: GrpcStatus.INVALID_ARGUMENT, details: "bad name", metadata: trailers });
  },
  Unavailable(_call, callback) {
    callback({ code: GrpcStatus.UNAVAILABLE, details: "database is down" });
  },
  TooLargeForServer(_call, callback) {
    // What a grpc-js server answers a request over its own limit: the same text as grpc-js's client-side refusal.
    callback({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: "Received message larger than max (64 vs. 4194304)" });
  },
  Hang(call) {
    const requestId = String(call.metadata.get("x-request-id")[0] ?? "");
    call.on("cancelled", () => hangCancellations.get(requestId)?.());
    hangArrivals.get(requestId)?.();
  },
};

beforeAll(async () => {
  server = new Server();
  server.addService(serviceDefinition(Object.keys(handlers)), handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(() => {
  server?.forceShutdown();
});

function unary(method: string, overrides: Partial<UnaryCall> = {}): UnaryCall {
  return { rpcPath: `/test.v1.Raw/${method}`, request: Uint8Array.from([1, 2, 3]), metadata: [], deadline: Date.now() + 5000, ...overrides };
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    return toGatewayError(error);
  }
  throw new Error("expected the call to fail");
}

describe.each(TRANSPORTS)("the %s transport against a real grpc-js server", (transport, createUpstream) => {
  let upstream: Upstream;
  beforeAll(() => {
    upstream = createUpstream({ address });
  });
  afterAll(() => upstream?.close());

  it("echoes the request and returns header and trailer metadata", async () => {
    // A view into a larger buffer: the identity serializer must respect byteOffset/byteLength.
    const backing = Uint8Array.from([9, 9, 10, 20, 30, 9]);
    const result = await upstream.call(
      unary("Echo", { request: backing.subarray(2, 5), metadata: [["tenant", "acme"], ["sig-bin", Buffer.from([0, 255])]] }),
    );
    expect([...result.response]).toEqual([10, 20, 30]);
    expect(result.headers).toContainEqual(["x-echo-tenant", "acme"]);
    expect(result.headers).toContainEqual(["x-echo-sig-bin", Buffer.from([0, 255])]);
    expect(result.trailers).toContainEqual(["x-trailer", "done"]);
  });

  it("maps an upstream error with grpc-status-details-bin, keeping its details", async () => {
    const error = await failure(upstream.call(unary("Fail")));
    expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(error.reason).toBe("PG_ERR_UPSTREAM");
    expect(error.message).toBe("bad name");
    const rendered = renderError(error, (typeUrl, value) =>
      typeUrl === BAD_REQUEST_TYPE && Buffer.from(value).equals(Buffer.from(badRequestBytes))
        ? { "@type": typeUrl, fieldViolations: [{ field: "name", description: "required" }] }
        : undefined,
    );
    expect(rendered.status).toBe(400);
    expect(JSON.parse(rendered.body)).toEqual({
      code: 3,
      message: "bad name",
      details: [{ "@type": BAD_REQUEST_TYPE, fieldViolations: [{ field: "name", description: "required" }] }],
    });
  });

  it("passes an UNAVAILABLE sent by the upstream itself through as an upstream error", async () => {
    const error = await failure(upstream.call(unary("Unavailable")));
    expect(error.code).toBe(GrpcCode.UNAVAILABLE);
    expect(error.reason).toBe("PG_ERR_UPSTREAM");
    expect(error.message).toBe("database is down");
  });

  it("fails with the gateway's DEADLINE_EXCEEDED when the upstream hangs", async () => {
    const error = await failure(upstream.call(unary("Hang", { deadline: Date.now() + 100 })));
    expect(error.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    expect(error.reason).toBe("PG_ERR_DEADLINE_EXCEEDED");
    expect(error.message).toMatch(/^deadline of \d+ ms exceeded calling \/test\.v1\.Raw\/Hang$/);
  });

  it("cancels the upstream call when the signal aborts", async () => {
    const controller = new AbortController();
    const requestId = `abort-${transport}`;
    const arrived = new Promise<void>((resolve) => hangArrivals.set(requestId, resolve));
    const cancelledOnServer = new Promise<void>((resolve) => hangCancellations.set(requestId, resolve));
    const pending = upstream.call(unary("Hang", { signal: controller.signal, metadata: [["x-request-id", requestId]] }));
    // Abort once the server has the call, so the cancellation must travel to it.
    await arrived;
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe(GrpcCode.CANCELLED);
    expect(error.reason).toBe("PG_ERR_CANCELLED");
    await cancelledOnServer;
  });

  it("does not start a call whose signal is already aborted", async () => {
    const error = await failure(upstream.call(unary("Echo", { signal: AbortSignal.abort() })));
    expect(error.reason).toBe("PG_ERR_CANCELLED");
  });

  it("regression: a reply larger than maxReceiveMessageBytes is 502 PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE naming the sizes, not 429", async () => {
    const small = createUpstream({ address }, { maxReceiveMessageBytes: 16 });
    try {
      const error = await failure(small.call(unary("Echo", { request: new Uint8Array(64) })));
      expect(error.reason).toBe("PG_ERR_UPSTREAM_RESPONSE_TOO_LARGE");
      expect(error.code).toBe(GrpcCode.INTERNAL);
      expect(error.httpStatus).toBe(502);
      expect(error.message).toBe("reply from /test.v1.Raw/Echo is larger than maxReceiveMessageBytes (64 bytes, limit 16 bytes)");
    } finally {
      small.close();
    }
  });

  it("keeps an upstream's own RESOURCE_EXHAUSTED about a request too large for it as the upstream's 429", async () => {
    const error = await failure(upstream.call(unary("TooLargeForServer")));
    expect(error.reason).toBe("PG_ERR_UPSTREAM");
    expect(error.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
  });

  it("refuses a request above maxSendMessageBytes before sending it (413)", async () => {
    const small = createUpstream({ address }, { maxSendMessageBytes: 2 });
    try {
      const error = await failure(small.call(unary("Echo")));
      expect(error.reason).toBe("PG_ERR_BODY_TOO_LARGE");
      expect(error.httpStatus).toBe(413);
    } finally {
      small.close();
    }
  });

  it("serves several services from one pooled channel", async () => {
    const pool = createUpstreamPool({ "test.v1.Raw": address, "test.v1.Other": address }, { transport });
    try {
      expect(pool.get("test.v1.Raw")).toBe(pool.get("test.v1.Other"));
      const result = await pool.get("test.v1.Raw")!.call(unary("Echo"));
      expect([...result.response]).toEqual([1, 2, 3]);
    } finally {
      pool.close();
    }
  });
});

describe.each(TRANSPORTS)("the %s transport against a closed port", (_transport, createUpstream) => {
  it("fails fast with UNAVAILABLE, well before the deadline", { timeout: 4000 }, async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    const closed = createUpstream({ address: `127.0.0.1:${port}` });
    try {
      const error = await failure(closed.call(unary("Echo", { deadline: Date.now() + 60_000 })));
      expect(error.code).toBe(GrpcCode.UNAVAILABLE);
      expect(error.reason).toBe("PG_ERR_UPSTREAM_UNAVAILABLE");
      expect(error.message).toBe("upstream unavailable for /test.v1.Raw/Echo");
      expect(error.message).not.toContain(String(port));
    } finally {
      closed.close();
    }
  });
});

describe("grpcChannelOptions", () => {
  it("defaults to 4 MiB replies and no keepalive", () => {
    const options = grpcChannelOptions();
    expect(options["grpc.max_receive_message_length"]).toBe(4 * 1024 * 1024);
    expect(options["grpc.keepalive_time_ms"]).toBeUndefined();
  });

  it("reconnects on the gateway's schedule (100 ms doubling to 1 s), not grpc's (1 s growing to 120 s)", () => {
    const options = grpcChannelOptions();
    expect(options["grpc.initial_reconnect_backoff_ms"]).toBe(100);
    expect(options["grpc.max_reconnect_backoff_ms"]).toBe(1000);
  });

  it("turns keepalive on only when asked", () => {
    const options = grpcChannelOptions({ keepaliveTimeMs: 30_000, maxReceiveMessageBytes: 1024 });
    expect(options["grpc.keepalive_time_ms"]).toBe(30_000);
    expect(options["grpc.keepalive_timeout_ms"]).toBe(20_000);
    expect(options["grpc.max_receive_message_length"]).toBe(1024);
  });
});

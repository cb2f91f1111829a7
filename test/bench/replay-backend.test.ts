import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { upstreamReplySource } from "../../bench/replay/demo-source.js";
import type { Reply } from "../../bench/replay/encoded-reply.js";
import type { SourcedReply } from "../../bench/replay/reply-cache.js";
import { startReplayServer, streamingPaths, type ReplayServer } from "../../bench/replay/replay-server.js";
import { BENCH_ROUTES } from "../../bench/routes.js";
import { CreateUserRequest, GetUserRequest, SearchUsersRequest } from "../../generated/demo/v1/user.js";
import { DEMO_SERVICE_DEFINITIONS, startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { CLIENT_PREFACE, Flag, FrameReader, FrameType, pingFrame, settingsFrame } from "../../src/upstream/h2-frames.js";
import { UpstreamError } from "../../src/upstream/upstream-error.js";
import type { Upstream, UnaryResult } from "../../src/upstream/upstream.js";
import { createWireUpstream } from "../../src/upstream/wire-upstream.js";
import { Changes } from "../support/until.js";

const GET_USER = "/demo.v1.UserService/GetUser";
const SEARCH_USERS = "/demo.v1.UserService/SearchUsers";
const CREATE_USER = "/demo.v1.UserService/CreateUser";
const bytes = (message: Uint8Array) => Buffer.from(message);

/** The bench routes' calls, as gRPC path and request message. */
const ROUTE_CALLS: ReadonlyArray<readonly [string, Buffer]> = BENCH_ROUTES.map((route) => {
  if (route.id === "get-user") return [GET_USER, bytes(GetUserRequest.encode({ userId: "u-1" }).finish())] as const;
  const body = JSON.parse(route.http.body ?? "{}") as { query: string; pageSize: number };
  return [SEARCH_USERS, bytes(SearchUsersRequest.encode({ query: body.query, pageSize: body.pageSize }).finish())] as const;
});

interface RawOutcome {
  readonly code: number;
  readonly details: string;
  readonly response: Buffer | undefined;
  readonly headers: Record<string, unknown>;
  readonly trailers: Record<string, unknown>;
}

/** A unary call with a grpc-js client, messages as raw bytes; metadata as JSON without the transport's own keys. */
function rawCall(client: Client, path: string, request: Buffer, metadata = new Metadata()): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    let response: Buffer | undefined;
    let error: ServiceError | null = null;
    let settled = 0;
    const finish = () => {
      if (++settled === 2) resolve({ code: error?.code ?? 0, details: error?.details ?? "", response, headers, trailers });
    };
    const call = client.makeUnaryRequest(path, (value: Buffer) => value, (value: Buffer) => value, request, metadata, (failure, value) => {
      error = failure;
      response = value;
      finish();
    });
    call.on("metadata", (received) => (headers = withoutTransportKeys(received.toJSON())));
    call.on("status", (status) => {
      trailers = withoutTransportKeys(status.metadata.toJSON());
      finish();
    });
  });
}

/** grpc-js servers add `content-type`, `grpc-accept-encoding`, `grpc-encoding` and `date`: HTTP/2's, not the service's metadata. */
function withoutTransportKeys(json: Record<string, unknown>): Record<string, unknown> {
  const { "content-type": _type, "grpc-accept-encoding": _accept, "grpc-encoding": _encoding, date: _date, ...rest } = json;
  return rest;
}

async function outcome(upstream: Upstream, path: string, request: Buffer): Promise<UnaryResult | UpstreamError> {
  try {
    return await upstream.call({ rpcPath: path, request, metadata: [], deadline: Date.now() + 10_000 });
  } catch (error) {
    if (error instanceof UpstreamError) return error;
    throw error;
  }
}

/** What a wire call's outcome says, comparable between the two backends. */
function summary(result: UnaryResult | UpstreamError) {
  if (result instanceof UpstreamError) return { origin: result.origin, code: result.code, message: result.message, details: result.details, metadata: result.metadata.filter(([key]) => key !== "date") };
  return { response: Buffer.from(result.response), trailers: result.trailers };
}

let demo: DemoBackends;
let replay: ReplayServer;
let toDemo: Upstream;

beforeAll(async () => {
  demo = await startDemoBackends({ host: "127.0.0.1", port: 0 });
  toDemo = createWireUpstream({ address: demo.address });
  replay = await startReplayServer({ host: "127.0.0.1", port: 0, source: upstreamReplySource(createWireUpstream({ address: demo.address })), streamingPaths: streamingPaths(DEMO_SERVICE_DEFINITIONS) });
});

afterAll(async () => {
  toDemo.close();
  await replay.close();
  await demo.close();
});

describe("the replay backend against the grpc-js demo backend", () => {
  it("answers the bench routes with the demo's bytes and metadata, through a grpc-js client, first and later times", async () => {
    const viaDemo = new Client(demo.address, credentials.createInsecure());
    const viaReplay = new Client(replay.address, credentials.createInsecure());
    try {
      for (const [path, request] of ROUTE_CALLS) {
        const metadata = new Metadata();
        metadata.set("x-request-id", "r-42");
        const expected = await rawCall(viaDemo, path, request, metadata);
        expect(expected.code).toBe(GrpcCode.OK);
        for (let time = 0; time < 3; time++) {
          const actual = await rawCall(viaReplay, path, request, metadata);
          expect(actual).toEqual(expected);
        }
      }
      expect(replay.cache.hits).toBeGreaterThan(0);
    } finally {
      viaDemo.close();
      viaReplay.close();
    }
  });

  it("answers the bench routes with the demo's bytes through Protogate's wire upstream", async () => {
    const toReplay = createWireUpstream({ address: replay.address });
    try {
      for (const [path, request] of ROUTE_CALLS) {
        const expected = summary(await outcome(toDemo, path, request));
        expect(expected).toHaveProperty("response");
        expect(summary(await outcome(toReplay, path, request))).toEqual(expected);
        expect(summary(await outcome(toReplay, path, request))).toEqual(expected);
      }
    } finally {
      toReplay.close();
    }
  });

  it.each([
    ["GetUser of an unknown id: NOT_FOUND with the demo's message", GET_USER, bytes(GetUserRequest.encode({ userId: "nobody-7" }).finish()), GrpcCode.NOT_FOUND],
    ["CreateUser with a malformed email: INVALID_ARGUMENT with BadRequest details", CREATE_USER, bytes(CreateUserRequest.encode({ user: { userId: "", displayName: "X", email: "not-an-email", role: 0, createTime: undefined, labels: new Map(), tags: [], balanceCents: "0", profile: undefined, nickname: undefined, region: "" } }).finish()), GrpcCode.INVALID_ARGUMENT],
  ])("answers errors as the demo does: %s", async (_name, path, request, code) => {
    const toReplay = createWireUpstream({ address: replay.address });
    const viaDemo = new Client(demo.address, credentials.createInsecure());
    const viaReplay = new Client(replay.address, credentials.createInsecure());
    try {
      const expected = summary(await outcome(toDemo, path, request));
      expect(expected).toMatchObject({ origin: "upstream", code });
      for (let time = 0; time < 2; time++) expect(summary(await outcome(toReplay, path, request))).toEqual(expected);
      const expectedRaw = await rawCall(viaDemo, path, request);
      expect(await rawCall(viaReplay, path, request)).toEqual(expectedRaw);
      if (code === GrpcCode.INVALID_ARGUMENT) expect(expected.details?.length).toBeGreaterThan(0);
    } finally {
      toReplay.close();
      viaDemo.close();
      viaReplay.close();
    }
  });

  it("answers a streaming method UNIMPLEMENTED, naming why", async () => {
    const toReplay = createWireUpstream({ address: replay.address });
    try {
      const result = await outcome(toReplay, "/demo.v1.ChatService/Subscribe", Buffer.alloc(0));
      expect(summary(result)).toMatchObject({ code: GrpcCode.UNIMPLEMENTED, message: "streaming methods are not served by the bench's replay backend" });
    } finally {
      toReplay.close();
    }
  });

  it("answers many concurrent calls on one connection and calls over several connections", async () => {
    const ids = ["u-1", "u-2", "u-3", "u-4", "nobody-1", "nobody-2"];
    const requests = ids.map((userId) => bytes(GetUserRequest.encode({ userId }).finish()));
    const expected = await Promise.all(requests.map(async (request) => summary(await outcome(toDemo, GET_USER, request))));
    const clients = Array.from({ length: 4 }, () => createWireUpstream({ address: replay.address }));
    try {
      const before = replay.connections();
      const results = await Promise.all(clients.flatMap((client) => Array.from({ length: 300 }, (_, i) => outcome(client, GET_USER, requests[i % requests.length]))));
      results.forEach((result, i) => expect(summary(result)).toEqual(expected[(i % 300) % requests.length]));
      expect(replay.connections()).toBe(before + clients.length);
      expect(replay.openStreams()).toBe(0);
    } finally {
      for (const client of clients) client.close();
    }
  });

  it("reads a large request over several DATA frames, giving window back, and answers as the demo", async () => {
    // ~200 KB: beyond the 64 KB stream window a client starts with, so it needs WINDOW_UPDATEs.
    const request = bytes(SearchUsersRequest.encode({ query: "lovelace ".repeat(22_000).trim(), pageSize: 10 }).finish());
    expect(request.length).toBeGreaterThan(150_000);
    const toReplay = createWireUpstream({ address: replay.address });
    const viaDemo = new Client(demo.address, credentials.createInsecure());
    const viaReplay = new Client(replay.address, credentials.createInsecure());
    try {
      // The demo refuses so long a query (INVALID_ARGUMENT): the same answer is expected, after the whole request was read.
      const expected = summary(await outcome(toDemo, SEARCH_USERS, request));
      expect(summary(await outcome(toReplay, SEARCH_USERS, request))).toEqual(expected);
      expect(await rawCall(viaReplay, SEARCH_USERS, request)).toEqual(await rawCall(viaDemo, SEARCH_USERS, request));
    } finally {
      toReplay.close();
      viaDemo.close();
      viaReplay.close();
    }
  });

  it("answers the preface with SETTINGS, acknowledges the client's SETTINGS and answers a PING", async () => {
    const seen: Array<[number, number, Buffer]> = [];
    const arrivals = new Changes();
    const reader = new FrameReader(1 << 20, {
      onFrame: (type, flags, _id, payload) => {
        seen.push([type, flags, Buffer.from(payload)]);
        arrivals.changed();
      },
    });
    const [host, port] = replay.address.split(":");
    const socket = connect(Number(port), host);
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
    socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame([]), pingFrame(false, Buffer.from("12345678"))]));
    try {
      await arrivals.until(() => seen.some(([type, flags]) => type === FrameType.PING && flags === Flag.ACK));
      expect(seen[0][0]).toBe(FrameType.SETTINGS);
      expect(seen.some(([type, flags]) => type === FrameType.SETTINGS && flags === Flag.ACK)).toBe(true);
      expect(seen.find(([type]) => type === FrameType.PING)?.[2]).toEqual(Buffer.from("12345678"));
    } finally {
      socket.destroy();
    }
  });
});

describe("the replay backend with a held source", () => {
  /**
   * A replay server whose source answers only when released, counting what it was asked;
   * `whenHeld(count)` resolves once `count` asks wait for their release.
   */
  async function heldReplay(maxKeys?: number) {
    const releases: Array<() => void> = [];
    let asked = 0;
    const arrivals = new Changes();
    const reply: Reply = { kind: "message", message: Buffer.from("answer"), trailers: [] };
    const source = () => {
      asked++;
      const answer = new Promise<SourcedReply>((resolve) => releases.push(() => resolve({ reply, cacheable: true })));
      arrivals.changed();
      return answer;
    };
    const server = await startReplayServer({ host: "127.0.0.1", port: 0, source, streamingPaths: new Set(), ...(maxKeys !== undefined && { maxKeys }) });
    return {
      server,
      releases,
      asked: () => asked,
      whenHeld: (count: number) => arrivals.until(() => releases.length >= count),
      releaseAll: () => releases.splice(0).forEach((release) => release()),
    };
  }

  it("survives a client that resets the stream mid-call, forgets the stream, and still answers on that connection", async () => {
    const held = await heldReplay();
    const client = createWireUpstream({ address: held.server.address });
    try {
      const controller = new AbortController();
      const cancelled = client.call({ rpcPath: "/x.S/M", request: Buffer.from("a"), metadata: [], deadline: Date.now() + 10_000, signal: controller.signal });
      await held.whenHeld(1);
      expect(held.asked()).toBe(1);
      expect(held.server.openStreams()).toBe(1);
      controller.abort();
      await expect(cancelled).rejects.toMatchObject({ origin: "cancelled" });
      // Time-based, for want of an event: the server handles the RST_STREAM on its own and tells
      // no one, and the wire client offers no round trip (a PING) on the connection to wait on.
      await vi.waitFor(() => expect(held.server.openStreams()).toBe(0));
      held.releaseAll();
      // The same key, now cached, on the same connection.
      const result = await client.call({ rpcPath: "/x.S/M", request: Buffer.from("a"), metadata: [], deadline: Date.now() + 10_000 });
      expect(Buffer.from(result.response).toString()).toBe("answer");
      expect(held.asked()).toBe(1);
      expect(held.server.connections()).toBe(1);
    } finally {
      client.close();
      await held.server.close();
    }
  });

  it("survives a client that goes away mid-call, dropping the connection's state", async () => {
    const held = await heldReplay();
    const client = createWireUpstream({ address: held.server.address });
    try {
      const pending = client.call({ rpcPath: "/x.S/M", request: Buffer.from("b"), metadata: [], deadline: Date.now() + 10_000 });
      // The source is asked with the stream open.
      await held.whenHeld(1);
      expect(held.server.openStreams()).toBe(1);
      client.close();
      await expect(pending).rejects.toBeInstanceOf(UpstreamError);
      // Time-based, for want of an event: the server sees the connection end on its own and tells no one.
      await vi.waitFor(() => expect(held.server.connections()).toBe(0));
      expect(held.server.openStreams()).toBe(0);
      held.releaseAll();
      const again = createWireUpstream({ address: held.server.address });
      const result = await again.call({ rpcPath: "/x.S/M", request: Buffer.from("b"), metadata: [], deadline: Date.now() + 10_000 });
      expect(Buffer.from(result.response).toString()).toBe("answer");
      again.close();
    } finally {
      await held.server.close();
    }
  });

  it("asks the source once for calls with the same key arriving together, and caches no more than its bound", async () => {
    const held = await heldReplay(2);
    const client = createWireUpstream({ address: held.server.address });
    try {
      const call = (key: string) => client.call({ rpcPath: "/x.S/M", request: Buffer.from(key), metadata: [], deadline: Date.now() + 10_000 });
      const together = [call("k1"), call("k1"), call("k1")];
      await held.whenHeld(1);
      expect(held.releases).toHaveLength(1);
      held.releaseAll();
      await Promise.all(together);
      expect(held.asked()).toBe(1);
      for (const key of ["k2", "k3"]) {
        const answer = call(key);
        await held.whenHeld(1);
        expect(held.releases).toHaveLength(1);
        held.releaseAll();
        await answer;
      }
      expect(held.server.cache.size).toBe(2);
      // k3 was beyond the bound: asked again; k1 and k2 stay cached.
      const again = call("k3");
      await held.whenHeld(1);
      expect(held.releases).toHaveLength(1);
      held.releaseAll();
      await again;
      await Promise.all([call("k1"), call("k2")]);
      expect(held.asked()).toBe(4);
    } finally {
      client.close();
      await held.server.close();
    }
  });
});

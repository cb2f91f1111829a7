import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChatMessage, SubscribeRequest } from "../../generated/demo/v1/chat.js";
import { createEdgeAuth, type EdgeAuth } from "../../src/auth/edge-auth.js";
import { configFromObject } from "../../src/config/load-config.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import type { BehalfRunner, OnBehalfOf } from "../../src/gateway/call-on-behalf.js";
import { prepareRoute, type PreparedRoute } from "../../src/gateway/prepared-route.js";
import { streamOnBehalf } from "../../src/gateway/stream-on-behalf.js";
import { ClientDisconnect } from "../../src/http/client-disconnect.js";
import { rateLimiterFromConfig } from "../../src/ratelimit/create-rate-limiter.js";
import type { RateLimiter } from "../../src/ratelimit/rate-limiter.js";
import { createCodecRegistry } from "../../src/transcode/json/codec-registry.js";
import { createBehaviorPlans } from "../../src/transcode/field-behavior/behavior-plan.js";
import { demoGenerated } from "../e2e/support/gateway-harness.js";
import { createFakeClock } from "../support/fake-clock.js";
import { ScriptedUpstream } from "./support/pipeline-harness.js";

// A server-streaming RPC opened on a client's behalf (GraphQL subscriptions): the method's rule
// and limits first, the request written and half-closed, each reply yielded as the consumer
// asks, and the upstream call cancelled however the consumer stops.

const chat = (sequence: number, text: string) => ChatMessage.encode({ room: "lobby", sequence: String(sequence), author: "ada", text, postTime: undefined }).finish();
const request = () => SubscribeRequest.encode({ room: "lobby", replay: 2, limit: 0 }).finish();

describe("streamOnBehalf", () => {
  let upstream: ScriptedUpstream;
  let clock: ReturnType<typeof createFakeClock>;
  let auth: EdgeAuth;
  let rateLimiter: RateLimiter;
  let subscribe: PreparedRoute;
  let getUser: PreparedRoute;
  let runner: BehalfRunner;

  async function prepare(configObject: Record<string, unknown> = {}) {
    const generated = await demoGenerated();
    const config = configFromObject({ auth: { mode: "off" }, logging: { level: "silent" }, deadlines: { streams: { idleTimeoutMs: 30_000, defaultMs: 600_000 } }, ...configObject }, {});
    auth = await createEdgeAuth(config.auth);
    rateLimiter = await rateLimiterFromConfig(config.rateLimits, { error: () => undefined, warn: () => undefined, info: () => undefined });
    upstream = new ScriptedUpstream();
    const deps = { config, codecs: createCodecRegistry(generated.descriptorSet, { ignoreUnknownFields: false }), upstreams: { get: () => upstream, close: () => undefined }, auth, rateLimiter, behaviorPlans: createBehaviorPlans() };
    const route = (rpcPath: string) => prepareRoute(generated.bindings.find((binding) => binding.rpcPath === rpcPath)!, deps);
    subscribe = route("/demo.v1.ChatService/Subscribe");
    getUser = route("/demo.v1.UserService/GetUser");
    runner = { auth, timers: clock };
  }

  function onBehalf(overrides: Partial<OnBehalfOf> = {}): OnBehalfOf {
    return { caller: undefined, limited: { caller: undefined, clientIp: "127.0.0.1", headers: {} }, authorization: undefined, baseMetadata: [["x-forwarded", "yes"]], sharedMetadata: [["x-request-id", "r-1"]], deadlineAt: Number.POSITIVE_INFINITY, cancelled: new ClientDisconnect(), ...overrides };
  }

  beforeEach(async () => {
    clock = createFakeClock();
    await prepare();
  });
  afterEach(async () => {
    auth.close();
    await rateLimiter.close();
  });

  it("writes the request, half-closes, and yields each reply in order; the stream has the method's deadline and the request's metadata", async () => {
    const opened = upstream.nextStream();
    const replies = streamOnBehalf({ route: subscribe, what: "subscription", request }, onBehalf(), runner);
    const first = replies.next();
    const stream = await opened;
    stream.reply(chat(1, "hi")).reply(chat(2, "there")).finish();
    const received = [(await first).value];
    for await (const message of replies) received.push(message);
    expect(received.map((bytes) => ChatMessage.decode(bytes as Uint8Array).text)).toEqual(["hi", "there"]);
    expect(stream.written.map((bytes) => SubscribeRequest.decode(bytes))).toEqual([{ room: "lobby", replay: 2, limit: 0 }]);
    expect(stream.ended).toBe(true);
    expect(stream.call.timeoutMs).toBe(600_000);
    expect(stream.call.metadata).toEqual(expect.arrayContaining([["x-forwarded", "yes"], ["x-request-id", "r-1"]]));
    expect(stream.cancelled).toBe(false);
  });

  it("never outlives the request: the stream's deadline is what is left of the request's when that is shorter", async () => {
    const opened = upstream.nextStream();
    const replies = streamOnBehalf({ route: subscribe, what: "subscription", request }, onBehalf({ deadlineAt: clock.now() + 5_000 }), runner);
    void replies.next();
    expect((await opened).call.timeoutMs).toBe(5_000);
    await replies.return!();
  });

  it("cancels the upstream call at once when the consumer stops while a read waits (regression: an async generator queued return() behind the read, leaking the call)", async () => {
    const opened = upstream.nextStream();
    const replies = streamOnBehalf({ route: subscribe, what: "subscription", request }, onBehalf(), runner);
    const waiting = replies.next();
    const stream = await opened;
    await replies.return!();
    expect(stream.cancelled).toBe(true);
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(await replies.next()).toEqual({ done: true, value: undefined });
    expect(clock.pending()).toBe(0);
  });

  it("cancels the upstream call when the consumer stops iterating (a client unsubscribing)", async () => {
    const opened = upstream.nextStream();
    const replies = streamOnBehalf({ route: subscribe, what: "subscription", request }, onBehalf(), runner);
    const first = replies.next();
    const stream = await opened;
    stream.reply(chat(1, "hi"));
    expect((await first).done).toBe(false);
    await replies.return!();
    expect(stream.cancelled).toBe(true);
  });

  it("cancels the upstream call and throws CANCELLED when the request is cancelled (the client went away)", async () => {
    const cancelled = new ClientDisconnect();
    const opened = upstream.nextStream();
    const replies = streamOnBehalf({ route: subscribe, what: "subscription", request }, onBehalf({ cancelled }), runner);
    const first = replies.next();
    const stream = await opened;
    cancelled.abort();
    await expect(first).rejects.toMatchObject({ code: GrpcCode.CANCELLED, reason: "PG_ERR_CANCELLED" });
    expect(stream.cancelled).toBe(true);
  });

  it("ends an idle stream with DEADLINE_EXCEEDED (PG_ERR_STREAM_IDLE) and cancels it upstream", async () => {
    const opened = upstream.nextStream();
    const replies = streamOnBehalf({ route: subscribe, what: "subscription", request }, onBehalf(), runner);
    const first = replies.next();
    const stream = await opened;
    stream.reply(chat(1, "hi"));
    await first;
    const second = replies.next();
    clock.advance(30_000);
    await expect(second).rejects.toMatchObject({ code: GrpcCode.DEADLINE_EXCEEDED, reason: "PG_ERR_STREAM_IDLE" });
    expect(stream.cancelled).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it("passes on the upstream's failure as it is", async () => {
    const opened = upstream.nextStream();
    const replies = streamOnBehalf({ route: subscribe, what: "subscription", request }, onBehalf(), runner);
    const first = replies.next();
    (await opened).fail(GrpcCode.NOT_FOUND, "no room lobby");
    await expect(first).rejects.toMatchObject({ code: GrpcCode.NOT_FOUND, message: "no room lobby" });
  });

  it("opens nothing when the method's rule refuses the caller", async () => {
    const refusing: BehalfRunner = {
      timers: clock,
      auth: {
        authorize: () => {
          throw new GatewayError(GrpcCode.PERMISSION_DENIED, "PG_ERR_PERMISSION_DENIED", "missing scope chat:read");
        },
        metadata: (pairs) => [...pairs],
      },
    };
    const thrown = await streamOnBehalf({ route: subscribe, what: "subscription", request }, onBehalf(), refusing)
      .next()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(thrown).toMatchObject({ code: GrpcCode.PERMISSION_DENIED, message: "missing scope chat:read" });
    expect(upstream.streams).toHaveLength(0);
  });

  it("refuses a unary method (the caller's bug, not the client's)", async () => {
    await expect(streamOnBehalf({ route: getUser, what: "getUser", request }, onBehalf(), runner).next()).rejects.toThrow(/not a server-streaming method/);
  });
});

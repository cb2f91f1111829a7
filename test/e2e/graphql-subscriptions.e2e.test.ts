import type { ServerWritableStream } from "@grpc/grpc-js";
import { createClient, type Client, type ExecutionResult } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ChatMessage, SubscribeRequest } from "../../generated/demo/v1/chat.js";
import type { RunningGateway } from "../../src/app.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { Changes, within } from "../support/until.js";
import { createFakeClock } from "../support/fake-clock.js";
import { message, startChatBackend, whenCancelled } from "./support/chat-backend.js";
import { watchExchanges } from "./support/exchange-watch.js";
import { startTestGateway, startUserBackend } from "./support/gateway-harness.js";

const READER = "reader-key-0123456789";
const NOBODY = "nobody-key-0123456789";
const AUTH = {
  mode: "on",
  apiKeys: {
    keys: [
      { sha256: hashApiKey(READER), consumer: "reader", scopes: ["chat:read"] },
      { sha256: hashApiKey(NOBODY), consumer: "nobody", scopes: [] },
    ],
  },
  rules: [{ selector: "demo.v1.ChatService.Subscribe", scopes: ["chat:read"] }],
};
const SUBSCRIBE = `subscription { subscribe(room: "lobby") { room sequence text } }`;
/** A guard against a wait whose event never comes (not a wait itself): generous, for loaded machines. */
const WAIT_MS = 15_000;

type Result = ExecutionResult<Record<string, unknown>, Record<string, unknown>>;

/** A `ws` WebSocket that sends an API key with its upgrade (graphql-ws's client passes only url and protocol). */
function keyedWebSocket(key: string | undefined): unknown {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: key === undefined ? {} : { "x-api-key": key } });
    }
  };
}

/** One subscription's results as they come, and how it ended. */
function follow(client: Client, query: string) {
  const changes = new Changes();
  const results: Result[] = [];
  let ended: "complete" | unknown = undefined;
  const unsubscribe = client.subscribe<Record<string, unknown>>(
    { query },
    {
      next: (result) => {
        results.push(result as Result);
        changes.changed();
      },
      error: (error) => {
        ended = error;
        changes.changed();
      },
      complete: () => {
        ended ??= "complete";
        changes.changed();
      },
    },
  );
  return {
    results,
    get ended() {
      return ended;
    },
    unsubscribe,
    received: (count: number) => within(changes.until(() => results.length >= count), WAIT_MS, `${count} results`),
    finished: () => within(changes.until(() => ended !== undefined), WAIT_MS, "the end of the subscription"),
  };
}

describe("GraphQL subscriptions over graphql-ws (real gateway, grpc-js backends)", () => {
  const subscribers = new Changes();
  const calls: Array<ServerWritableStream<SubscribeRequest, ChatMessage>> = [];
  const exchanges = watchExchanges();
  let chat: Awaited<ReturnType<typeof startChatBackend>>;
  let backends: DemoBackends;
  let gateway: RunningGateway;
  let wsUrl: string;
  const clients: Client[] = [];
  const clientFor = (key: string | undefined): Client => {
    const client = createClient({ url: wsUrl, webSocketImpl: keyedWebSocket(key), retryAttempts: 0, lazy: true });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    chat = await startChatBackend({
      subscribe: (call) => {
        calls.push(call);
        subscribers.changed();
      },
    });
    backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
    const upstreams = Object.fromEntries(backends.services.map((s) => [s, backends.address]));
    upstreams["demo.v1.ChatService"] = chat.address;
    gateway = await startTestGateway(upstreams, { auth: AUTH, graphql: { enabled: true, auth: { public: false, scopes: [] }, maxDepth: 3, connectionInitTimeoutMs: 200 } }, { observe: { observers: [exchanges.observer] } });
    wsUrl = `${gateway.url.replace(/^http/, "ws")}/graphql`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await gateway?.close();
    await chat?.close();
    await backends?.close();
  });

  it("subscribes: the room's messages arrive as `next`; the client's complete cancels the upstream stream", async () => {
    const before = calls.length;
    const sub = follow(clientFor(READER), SUBSCRIBE);
    await within(subscribers.until(() => calls.length > before), WAIT_MS, "the backend's Subscribe call");
    const call = calls[before];
    expect(call.request.room).toBe("lobby");
    call.write(message(1, "hello"));
    call.write(message(2, "world"));
    await sub.received(2);
    expect(sub.results).toEqual([{ data: { subscribe: { room: "lobby", sequence: "1", text: "hello" } } }, { data: { subscribe: { room: "lobby", sequence: "2", text: "world" } } }]);
    sub.unsubscribe();
    await within(whenCancelled(call), WAIT_MS, "the backend seeing its stream cancelled");
    expect(call.cancelled).toBe(true);
  });

  it("a closed socket cancels every subscription's upstream stream; the session is recorded as rpc /graphql (101)", async () => {
    const before = calls.length;
    const client = clientFor(READER);
    follow(client, SUBSCRIBE);
    follow(client, SUBSCRIBE);
    await within(subscribers.until(() => calls.length >= before + 2), WAIT_MS, "two Subscribe calls");
    const ended = exchanges.ended.length;
    await client.dispose();
    await within(Promise.all(calls.slice(before).map((call) => whenCancelled(call))), WAIT_MS, "both streams cancelled");
    await within(exchanges.reached(ended + 1), WAIT_MS, "the session's exchange ending");
    const session = exchanges.ended[ended];
    expect([session.binding?.rpcPath, session.status, session.grpcCode]).toEqual(["/graphql", 101, 0]);
  });

  it("a stream that ends completes the subscription", async () => {
    const before = calls.length;
    const sub = follow(clientFor(READER), SUBSCRIBE);
    await within(subscribers.until(() => calls.length > before), WAIT_MS, "the backend's Subscribe call");
    calls[before].write(message(7, "last"));
    calls[before].end();
    await sub.finished();
    expect(sub.results).toEqual([{ data: { subscribe: { room: "lobby", sequence: "7", text: "last" } } }]);
    expect(sub.ended).toBe("complete");
  });

  it("queries run over the same socket, with the endpoint's limits (depth)", async () => {
    const client = clientFor(READER);
    const user = follow(client, `{ getUser(userId: "u-1") { userId displayName } }`);
    const deep = follow(client, `{ listOrders(parent: "users/u-1") { orders { user { userId } } } }`);
    await user.finished();
    await deep.finished();
    expect(user.results).toEqual([{ data: { getUser: { userId: "u-1", displayName: "Ada Lovelace" } } }]);
    // graphql-ws reports a refused operation with an `error` message: the errors themselves.
    const errors = deep.ended as Array<{ extensions?: { code?: string } }>;
    expect(errors.map((error) => error.extensions?.code)).toEqual(["DEPTH_LIMIT_EXCEEDED"]);
    expect(deep.results).toEqual([]);
  });

  it("a Subscription field whose method the caller may not call is an error on that subscription only", async () => {
    const client = clientFor(NOBODY);
    const denied = follow(client, SUBSCRIBE);
    const query = follow(client, `{ getUser(userId: "u-2") { userId } }`);
    await denied.finished();
    await query.finished();
    expect(denied.results).toHaveLength(1);
    expect(denied.results[0].data).toEqual({ subscribe: null });
    expect(denied.results[0].errors?.map((e) => [e.extensions?.code, e.extensions?.grpcCode, e.path])).toEqual([["PERMISSION_DENIED", 7, ["subscribe"]]]);
    expect(denied.ended).toBe("complete");
    expect(query.results).toEqual([{ data: { getUser: { userId: "u-2" } } }]);
  });

  it("an upgrade without credentials is refused with 401 and a google.rpc.Status body, before the upgrade", async () => {
    const ws = new WebSocket(wsUrl, "graphql-transport-ws");
    ws.on("error", () => undefined);
    const refusal = await within(
      new Promise<{ status: number; body: string }>((resolve) =>
        ws.once("unexpected-response", (_request, response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        }),
      ),
      WAIT_MS,
      "the refusal",
    );
    expect(refusal.status).toBe(401);
    expect(JSON.parse(refusal.body)).toMatchObject({ code: 16, details: expect.arrayContaining([expect.objectContaining({ reason: "PG_ERR_UNAUTHENTICATED" })]) });
  });

  it("an upgrade to the endpoint without the graphql-transport-ws subprotocol is refused with 400", async () => {
    const ws = new WebSocket(wsUrl, { headers: { "x-api-key": READER } });
    ws.on("error", () => undefined);
    const status = await within(new Promise<number>((resolve) => ws.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0))), WAIT_MS, "the refusal");
    expect(status).toBe(400);
  });

  it("a socket that sends no connection_init in time is closed with 4408", async () => {
    const ws = new WebSocket(wsUrl, "graphql-transport-ws", { headers: { "x-api-key": READER } });
    const code = await within(new Promise<number>((resolve) => ws.once("close", resolve)), WAIT_MS, "the close");
    expect(code).toBe(4408);
  });

  it("regression: each graphql-ws operation counts against the endpoint's rate limit (the upgrade stands for the first), as each HTTP request does", async () => {
    const upstreams = Object.fromEntries(backends.services.map((s) => [s, backends.address]));
    const rateLimits = { limits: [{ name: "graphql-ops", key: "ip", requests: 3, periodSeconds: 3600, methods: ["graphql"] }] };
    const limited = await startTestGateway(upstreams, { graphql: { enabled: true }, rateLimits });
    // Not lazy: one socket for every operation (a lazy client closes it between them and upgrades again).
    let upgrades = 0;
    const client = createClient({ url: `${limited.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, on: { connected: () => void upgrades++ } });
    try {
      const outcomes: unknown[] = [];
      for (let i = 0; i < 4; i += 1) {
        const query = follow(client, `{ getUser(userId: "u-1") { userId } }`);
        await query.finished();
        outcomes.push(query.ended === "complete" ? query.results : (query.ended as Array<{ extensions?: { code?: string; grpcCode?: number } }>).map((error) => [error.extensions?.code, error.extensions?.grpcCode]));
      }
      const answered = [{ data: { getUser: { userId: "u-1" } } }];
      expect(outcomes).toEqual([answered, answered, answered, [["RESOURCE_EXHAUSTED", 8]]]);
      expect(upgrades).toBe(1);
    } finally {
      await client.dispose();
      await limited.close();
    }
  });

  it("regression: the upgrade's grpc-timeout shortens each query's deadline, as it does over HTTP", async () => {
    const clock = createFakeClock();
    const slow = await startUserBackend({ getUser: () => undefined }); // never answers
    const upstreams = Object.fromEntries(backends.services.map((s) => [s, backends.address]));
    upstreams["demo.v1.UserService"] = slow.address;
    const timed = await startTestGateway(upstreams, { graphql: { enabled: true, deadlineMs: 60_000 } }, { timers: clock });
    const withTimeout = class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { "grpc-timeout": "2S" } });
      }
    };
    const client = createClient({ url: `${timed.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: withTimeout, retryAttempts: 0, lazy: true });
    try {
      const query = follow(client, `{ getUser(userId: "u-1") { userId } }`);
      await within(
        (async () => {
          while (slow.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
        })(),
        WAIT_MS,
        "the backend's GetUser call",
      );
      clock.advance(2_000);
      await query.finished();
      expect(query.results.map((result) => result.errors?.map((error) => error.extensions?.code))).toEqual([["DEADLINE_EXCEEDED"]]);
    } finally {
      await client.dispose();
      await timed.close();
      slow.forceClose();
    }
  });

  describe("GraphQL over SSE (distinct connections mode)", () => {
    /** Opens an SSE operation; `events()` reads the stream's events as they come. */
    async function openSse(query: string, key: string | null = READER) {
      const abort = new AbortController();
      const response = await fetch(`${gateway.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", ...(key === null ? {} : { "x-api-key": key }) },
        body: JSON.stringify({ query }),
        signal: abort.signal,
      });
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      let buffered = "";
      const decoder = new TextDecoder();
      /** The next whole event (`event:` and `data:` lines), or undefined at the stream's end. */
      const nextEvent = async (): Promise<{ event: string; data: string } | undefined> => {
        for (;;) {
          const end = buffered.indexOf("\n\n");
          if (end >= 0) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            const field = (name: string) => block.split("\n").find((line) => line.startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? "";
            if (block.split("\n").every((line) => line.startsWith(":"))) continue; // a comment, not an event
            return { event: field("event"), data: field("data") };
          }
          reader ??= response.body!.getReader();
          const chunk = await reader.read();
          if (chunk.done) return undefined;
          buffered += decoder.decode(chunk.value, { stream: true });
        }
      };
      return { response, abort, nextEvent: () => within(nextEvent(), WAIT_MS, "the next SSE event") };
    }

    it("a subscription's events arrive as `event: next`; the client going away cancels the upstream stream", async () => {
      const before = calls.length;
      const sse = await openSse(SUBSCRIBE);
      expect(sse.response.status).toBe(200);
      expect(sse.response.headers.get("content-type")).toBe("text/event-stream");
      await within(subscribers.until(() => calls.length > before), WAIT_MS, "the backend's Subscribe call");
      const call = calls[before];
      call.write(message(3, "over sse"));
      expect(await sse.nextEvent()).toEqual({ event: "next", data: JSON.stringify({ data: { subscribe: { room: "lobby", sequence: "3", text: "over sse" } } }) });
      sse.abort.abort();
      await within(whenCancelled(call), WAIT_MS, "the backend seeing its stream cancelled");
      expect(call.cancelled).toBe(true);
    });

    it("a stream that ends sends `event: complete`", async () => {
      const before = calls.length;
      const sse = await openSse(SUBSCRIBE);
      await within(subscribers.until(() => calls.length > before), WAIT_MS, "the backend's Subscribe call");
      calls[before].end();
      expect(await sse.nextEvent()).toEqual({ event: "complete", data: "" });
      expect(await sse.nextEvent()).toBeUndefined();
    });

    it("a query is one `next` and `complete`; a refused one (depth, permission) says why", async () => {
      const query = await openSse(`{ getUser(userId: "u-1") { displayName } }`);
      expect(await query.nextEvent()).toEqual({ event: "next", data: JSON.stringify({ data: { getUser: { displayName: "Ada Lovelace" } } }) });
      expect((await query.nextEvent())?.event).toBe("complete");
      const deep = await openSse(`{ listOrders(parent: "users/u-1") { orders { user { userId } } } }`);
      const refused = JSON.parse((await deep.nextEvent())?.data ?? "{}") as { errors?: Array<{ extensions?: { code?: string } }> };
      expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(["DEPTH_LIMIT_EXCEEDED"]);
      const denied = await openSse(SUBSCRIBE, NOBODY);
      const result = JSON.parse((await denied.nextEvent())?.data ?? "{}") as Result;
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual(["PERMISSION_DENIED"]);
      expect((await denied.nextEvent())?.event).toBe("complete");
    });

    it("without credentials: 401 with a google.rpc.Status body, as over HTTP", async () => {
      const sse = await openSse(SUBSCRIBE, null);
      expect(sse.response.status).toBe(401);
      expect(JSON.parse(await sse.response.text())).toMatchObject({ code: 16 });
    });
  });

  it("shutdown: at the drain deadline a graphql-ws socket closes with 1001 and an SSE subscription completes; both upstream streams are cancelled", async () => {
    const clock = createFakeClock();
    const watch = watchExchanges();
    const upstreams = Object.fromEntries(backends.services.map((s) => [s, backends.address]));
    upstreams["demo.v1.ChatService"] = chat.address;
    const draining = await startTestGateway(upstreams, { auth: AUTH, graphql: { enabled: true }, server: { drainTimeoutMs: 10_000 } }, { timers: clock, observe: { observers: [watch.observer] } });
    const before = calls.length;
    const client = createClient({ url: `${draining.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: keyedWebSocket(READER), retryAttempts: 0, lazy: true });
    const wsClosed = new Promise<number>((resolve) => client.on("closed", (event) => resolve((event as { code: number }).code)));
    follow(client, SUBSCRIBE);
    const response = await fetch(`${draining.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", accept: "text/event-stream", "x-api-key": READER }, body: JSON.stringify({ query: SUBSCRIBE }) });
    await within(subscribers.until(() => calls.length >= before + 2), WAIT_MS, "two Subscribe calls");
    const closed = draining.close();
    clock.advance(10_000);
    expect(await within(wsClosed, WAIT_MS, "the socket closing")).toBe(1001);
    const text = await within(response.text(), WAIT_MS, "the SSE body's end");
    expect(text.trimEnd().endsWith("event: complete\ndata:")).toBe(true);
    await within(Promise.all(calls.slice(before).map((call) => whenCancelled(call))), WAIT_MS, "both streams cancelled");
    await closed;
    // Regression: the socket the gateway closed at shutdown was recorded as OK.
    expect(watch.ended.map((exchange) => [exchange.status, exchange.grpcCode]).sort()).toEqual([
      [101, 14],
      [200, 14],
    ]);
  });
});

import { GraphQLError, parse, subscribe, type ExecutionResult } from "graphql";
import { describe, expect, it } from "vitest";
import { buildExecutableSchema, type ResolverContext } from "../../../src/graphql/executable-schema.js";
import { RpcEvents } from "../../../src/graphql/subscriptions/rpc-events.js";
import { subscribeThroughContext } from "../../../src/graphql/subscriptions/subscribe-to-rpc.js";
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { graphqlMap } from "../../../generated/graphql-map.js";
import { descriptorSetBase64 } from "../../../generated/protogate.descriptors.js";

/** Reply bytes from a list; `next()` after the list waits until `return()` (like an open stream). */
function source(replies: string[], failWith?: unknown): AsyncIterator<Uint8Array> & { returned: number } {
  let index = 0;
  let wake: (() => void) | undefined;
  const it = {
    returned: 0,
    next: async (): Promise<IteratorResult<Uint8Array>> => {
      if (index < replies.length) return { done: false, value: Buffer.from(replies[index++]) };
      if (failWith !== undefined) throw failWith;
      await new Promise<void>((resolve) => (wake = resolve));
      return { done: true, value: undefined };
    },
    return: async (): Promise<IteratorResult<Uint8Array>> => {
      it.returned++;
      wake?.();
      return { done: true, value: undefined };
    },
  };
  return it;
}

const toJson = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
const toError = (thrown: unknown) => new GraphQLError(`failed: ${String(thrown)}`, { extensions: { code: "UNAVAILABLE", grpcCode: 14 } });

describe("RpcEvents", () => {
  it("maps replies to JSON, and hands a failure over as the last event", async () => {
    const events = new RpcEvents(source(['{"text":"a"}', '{"text":"b"}'], "gone"), toJson, toError);
    const seen: unknown[] = [];
    for await (const event of events) seen.push(event instanceof GraphQLError ? event.message : event);
    expect(seen).toEqual([{ text: "a" }, { text: "b" }, "failed: gone"]);
  });

  it("return() reaches the source at once, even while a next() waits, and that next() ends", async () => {
    const replies = source([]);
    const events = new RpcEvents(replies, toJson, toError);
    const pending = events.next();
    await events.return();
    expect(replies.returned).toBe(1);
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await expect(events.next()).resolves.toEqual({ done: true, value: undefined });
  });
});

describe("Subscription fields through the context's stream", () => {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(descriptorSetBase64, "base64")));
  const sdl = readFileSync(new URL("../../../generated/schema.graphql", import.meta.url), "utf8");
  const schema = buildExecutableSchema({ sdl, map: graphqlMap, message: (typeName) => registry.getMessage(typeName), subscribe: subscribeThroughContext });
  const document = parse(`subscription { subscribe(room: "lobby", limit: 2) { text sequence } }`);

  function contextStreaming(events: Array<Record<string, unknown> | GraphQLError>, asked: unknown[]): ResolverContext {
    return {
      rpc: () => Promise.reject(new Error("no unary call expected")),
      loaders: undefined as never,
      stream: (rpcPath, request, what) => {
        asked.push({ rpcPath, request, what });
        return (async function* () {
          yield* events;
        })();
      },
    };
  }

  it("opens the field's RPC with the arguments as its request; each reply is an event, a failure an error on the field", async () => {
    const asked: unknown[] = [];
    const failure = new GraphQLError("missing scope chat:read", { extensions: { code: "PERMISSION_DENIED", grpcCode: 7, details: [] } });
    const result = await subscribe({ schema, document, contextValue: contextStreaming([{ text: "hi", sequence: "1" }, failure], asked) });
    const results: ExecutionResult[] = [];
    for await (const item of result as AsyncIterable<ExecutionResult>) results.push(item);
    expect(asked).toEqual([{ rpcPath: "/demo.v1.ChatService/Subscribe", request: { room: "lobby", limit: 2 }, what: "Subscription.subscribe (demo.v1.ChatService/Subscribe)" }]);
    expect(results[0]).toEqual({ data: { subscribe: { text: "hi", sequence: "1" } } });
    expect(results[1].data).toEqual({ subscribe: null });
    expect(results[1].errors?.map((e) => [e.message, e.extensions.code, e.path])).toEqual([["missing scope chat:read", "PERMISSION_DENIED", ["subscribe"]]]);
    expect(results).toHaveLength(2);
  });

  it("a context without a stream (POST /graphql) refuses the subscription with an error, not a crash", async () => {
    const result = (await subscribe({ schema, document, contextValue: { rpc: () => Promise.reject(new Error("none")), loaders: undefined as never } })) as ExecutionResult;
    expect(result.errors?.[0].extensions.code).toBe("SUBSCRIPTIONS_NOT_SERVED");
  });
});

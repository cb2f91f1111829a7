import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, OperationTypeNode, parse } from "graphql";
import { describe, expect, it } from "vitest";
import type { ResolverContext } from "../../../src/graphql/executable-schema.js";
import { sseEvents } from "../../../src/graphql/subscriptions/sse-events.js";
import { ClientDisconnect } from "../../../src/http/client-disconnect.js";
import { createFakeClock } from "../../support/fake-clock.js";

/** Events pushed by the test; `next()` waits for the next push (or the end). */
function pushSource() {
  const queued: number[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const iterator: AsyncIterableIterator<number> = {
    [Symbol.asyncIterator]: () => iterator,
    next: async () => {
      while (queued.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      return queued.length > 0 ? { done: false, value: queued.shift() as number } : { done: true, value: undefined };
    },
    return: async () => {
      ended = true;
      wake?.();
      return { done: true, value: undefined };
    },
  };
  return {
    iterator,
    push(value: number) {
      queued.push(value);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
  };
}

function subscriptionOf(source: ReturnType<typeof pushSource>) {
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString, resolve: () => "ok" } } }),
    subscription: new GraphQLObjectType({ name: "Subscription", fields: { ticks: { type: GraphQLInt, subscribe: () => source.iterator, resolve: (tick: number) => tick } } }),
  });
  return { schema, document: parse("subscription { ticks }"), variableValues: undefined, operationName: undefined, kind: OperationTypeNode.SUBSCRIPTION };
}

/** Lets the generator run until it has set its keep-alive timer (no time passes). */
async function timerSet(clock: ReturnType<typeof createFakeClock>): Promise<void> {
  for (let turn = 0; turn < 100 && clock.pending() === 0; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(clock.pending()).toBe(1);
}

describe("sseEvents", () => {
  it("sends a keep-alive comment each keepAliveMs a subscription stays quiet, and none once events flow", async () => {
    const clock = createFakeClock();
    const source = pushSource();
    const events = sseEvents({ checked: subscriptionOf(source), context: {} as ResolverContext, gone: new ClientDisconnect(), keepAliveMs: 1000, timers: clock });
    expect((await events.next()).value).toBe(": subscribed\n\n");
    const quiet = events.next();
    await timerSet(clock);
    clock.advance(1000);
    expect((await quiet).value).toBe(": keep-alive\n\n");
    const stillQuiet = events.next();
    await timerSet(clock);
    clock.advance(1000);
    expect((await stillQuiet).value).toBe(": keep-alive\n\n");
    const tick = events.next();
    source.push(7);
    expect((await tick).value).toBe(`event: next\ndata: ${JSON.stringify({ data: { ticks: 7 } })}\n\n`);
    const last = events.next();
    source.end();
    expect((await last).value).toBe("event: complete\ndata:\n\n");
    expect((await events.next()).done).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it("sends no keep-alive when keepAliveMs is 0", async () => {
    const clock = createFakeClock();
    const source = pushSource();
    const events = sseEvents({ checked: subscriptionOf(source), context: {} as ResolverContext, gone: new ClientDisconnect(), keepAliveMs: 0, timers: clock });
    await events.next();
    const tick = events.next();
    for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(clock.pending()).toBe(0);
    source.push(1);
    expect((await tick).value).toContain("event: next");
    await events.return(undefined);
  });
});

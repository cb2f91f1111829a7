import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../generated/demo/v1/chat.js";
import { toTimestamp } from "../../src/demo/timestamps.js";
import { atRest } from "../support/at-rest.js";
import { violationsOf } from "./support/demo-harness.js";
import { CHAT_EPOCH, collect, headerOf, postAll, postOk, sequences, startChatHarness, texts, type ChatHarness } from "./support/chat-harness.js";

let chat: ChatHarness;
afterEach(async () => {
  // Whatever a test did, every call it made has ended: no subscriber is left behind.
  await chat.allEnded();
  expect(chat.rooms.subscriberCount()).toBe(0);
  await chat.close();
});

async function start(options: { historySize?: number } = {}): Promise<ChatHarness> {
  chat = await startChatHarness(options);
  return chat;
}

const numbered = (count: number, prefix = "m", size = 0) =>
  Array.from({ length: count }, (_, i) => ({ author: "ada", text: `${prefix}${i + 1}`.padEnd(size, ".") }));

/** Opens a subscription and waits until the server has it in place (its header has arrived). */
async function subscribed(room: string, replay: number, limit: number) {
  const call = chat.client.subscribe({ room, replay, limit });
  await headerOf(call);
  return call;
}

describe("PostMessages", () => {
  it("numbers each room's messages from 1, stamps them with the clock and answers the count and last sequence", async () => {
    await start();
    expect(await postOk(chat.client, "lobby", numbered(3))).toEqual({ count: 3, lastSequence: "3" });
    chat.setNow(new Date(CHAT_EPOCH.getTime() + 1500));
    expect(await postOk(chat.client, "lobby", numbered(2, "n"))).toEqual({ count: 2, lastSequence: "5" });
    expect(await postOk(chat.client, "kitchen", numbered(1, "k"))).toEqual({ count: 1, lastSequence: "1" });

    const { messages, error } = await collect(chat.client.subscribe({ room: "lobby", replay: 10, limit: 5 }));
    expect(error).toBeUndefined();
    expect(messages[0]).toEqual({ room: "lobby", sequence: "1", author: "ada", text: "m1", postTime: toTimestamp(CHAT_EPOCH) });
    expect(sequences(messages)).toEqual([1, 2, 3, 4, 5]);
    expect(messages[4].postTime).toEqual(toTimestamp(new Date(CHAT_EPOCH.getTime() + 1500)));
  });

  it("answers count 0 and last sequence 0 for an empty stream", async () => {
    await start();
    expect(await postOk(chat.client, "lobby", [])).toEqual({ count: 0, lastSequence: "0" });
  });

  it("fails on a bad message with INVALID_ARGUMENT naming its index; the messages before it stay posted", async () => {
    await start();
    const { error } = await postAll(chat.client, "lobby", [{ text: "first" }, { text: "   " }, { text: "never posted" }]);
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(violationsOf(error!)).toEqual([{ field: "text", description: "must not be empty (message 1 of the stream)" }]);
    const { messages } = await collect(chat.client.subscribe({ room: "lobby", replay: 10, limit: 1 }));
    expect(texts(messages)).toEqual(["first"]);
    expect(chat.rooms.room("lobby").lastSequence).toBe(1);
  });

  it.each([
    { name: "an empty room", post: { room: "", text: "hi" }, fields: ["room"] },
    { name: "a room name over 64 characters", post: { room: "r".repeat(65), text: "hi" }, fields: ["room"] },
    { name: "an author over 64 characters", post: { author: "a".repeat(65), text: "hi" }, fields: ["author"] },
    { name: "a text over 2,000 characters", post: { text: "t".repeat(2001) }, fields: ["text"] },
    { name: "an empty text and a long author", post: { author: "a".repeat(65), text: "" }, fields: ["author", "text"] },
  ])("refuses $name with BadRequest details", async ({ post, fields }) => {
    await start();
    const { error } = await postAll(chat.client, "lobby", [post]);
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(violationsOf(error!).map((violation) => violation.field)).toEqual(fields);
  });

  it("accepts the limits exactly: a 64-character room and author, a 2,000-character text", async () => {
    await start();
    const room = "r".repeat(64);
    expect(await postOk(chat.client, room, [{ author: "a".repeat(64), text: "t".repeat(2000) }])).toEqual({ count: 1, lastSequence: "1" });
  });

  it("regression: text length counts characters, not UTF-16 code units (2,000 emoji are 4,000 units)", async () => {
    await start();
    expect(await postOk(chat.client, "lobby", [{ text: "😀".repeat(2000) }])).toEqual({ count: 1, lastSequence: "1" });
    const { error } = await postAll(chat.client, "lobby", [{ text: "😀".repeat(2001) }]);
    expect(violationsOf(error!)[0].description).toContain("got 2001");
  });
});

describe("Subscribe", () => {
  it("replays the last `replay` messages, then ends after `limit`", async () => {
    await start();
    await postOk(chat.client, "lobby", numbered(5));
    const outcome = await collect(chat.client.subscribe({ room: "lobby", replay: 3, limit: 3 }));
    expect(texts(outcome.messages)).toEqual(["m3", "m4", "m5"]);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.status.metadata.get("x-demo-served-by")).toEqual(["demo"]);
  });

  it("replays at most what the room keeps (its history)", async () => {
    await start({ historySize: 4 });
    await postOk(chat.client, "lobby", numbered(6));
    const { messages } = await collect(chat.client.subscribe({ room: "lobby", replay: 100, limit: 4 }));
    expect(sequences(messages)).toEqual([3, 4, 5, 6]);
  });

  it("follows a room: messages posted after subscribing arrive live, replayed ones first", async () => {
    await start();
    await postOk(chat.client, "lobby", numbered(2));
    const call = await subscribed("lobby", 1, 4);
    const outcome = collect(call);
    await postOk(chat.client, "lobby", numbered(3, "live"));
    const { messages, error } = await outcome;
    expect(error).toBeUndefined();
    expect(texts(messages)).toEqual(["m2", "live1", "live2", "live3"]);
  });

  it("fans every new message out to each subscriber, in order, and only the room's", async () => {
    await start();
    const first = collect(await subscribed("lobby", 0, 3));
    const second = collect(await subscribed("lobby", 0, 3));
    await postOk(chat.client, "kitchen", numbered(1, "elsewhere"));
    await postOk(chat.client, "lobby", numbered(3));
    for (const outcome of await Promise.all([first, second])) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.messages.map((m) => [m.room, m.sequence, m.text])).toEqual([
        ["lobby", "1", "m1"],
        ["lobby", "2", "m2"],
        ["lobby", "3", "m3"],
      ]);
    }
  });

  it("echoes x-request-id as header metadata", async () => {
    await start();
    const metadata = new Metadata();
    metadata.set("x-request-id", "req-sub");
    const call = chat.client.subscribe({ room: "lobby", replay: 0, limit: 1 }, metadata);
    expect((await headerOf(call)).get("x-request-id")).toEqual(["req-sub"]);
    const outcome = collect(call);
    await postOk(chat.client, "lobby", numbered(1));
    expect(texts((await outcome).messages)).toEqual(["m1"]);
  });

  it.each([
    { request: { room: "", replay: 0, limit: 0 }, fields: ["room"] },
    { request: { room: "x".repeat(65), replay: 0, limit: 0 }, fields: ["room"] },
    { request: { room: "lobby", replay: -1, limit: -2 }, fields: ["replay", "limit"] },
  ])("refuses $request with INVALID_ARGUMENT and BadRequest details", async ({ request, fields }) => {
    await start();
    const outcome = await collect(chat.client.subscribe(request));
    expect(outcome.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(violationsOf(outcome.error!).map((violation) => violation.field)).toEqual(fields);
    expect(outcome.status.metadata.get("x-demo-served-by")).toEqual(["demo"]);
  });

  it("a cancelled subscription is removed from its room at once", async () => {
    await start();
    const call = await subscribed("lobby", 0, 0);
    const [server] = chat.subscribeCalls;
    const other = await subscribed("lobby", 0, 0);
    expect(chat.rooms.subscribers("lobby")).toHaveLength(2);
    call.on("error", () => undefined); // the CANCELLED status
    call.cancel();
    await chat.ended(server);
    expect(chat.rooms.subscribers("lobby")).toHaveLength(1);
    other.on("error", () => undefined);
    other.cancel();
    await chat.allEnded();
    expect(chat.rooms.subscriberCount()).toBe(0);
    // Posting to the room after the cancellations touches no stale subscriber.
    expect(await postOk(chat.client, "lobby", numbered(2))).toEqual({ count: 2, lastSequence: "2" });
  });

  it("a subscription that reached its limit is removed from its room", async () => {
    await start();
    await postOk(chat.client, "lobby", numbered(2));
    await collect(chat.client.subscribe({ room: "lobby", replay: 2, limit: 2 }));
    expect(chat.rooms.subscriberCount()).toBe(0);
  });
});

describe("Subscribe back-pressure", () => {
  /**
   * A subscriber on its own connection that takes one message and then reads nothing more. (A
   * grpc-js client that never reads at all buffers without bound on its side, in grpc-js: the
   * first read is what makes it stop taking data from the connection when it is not read.)
   */
  async function stalledSubscriber(room: string, limit: number) {
    const client = chat.separateClient();
    const call = client.subscribe({ room, replay: 0, limit });
    await headerOf(call);
    const replies = call[Symbol.asyncIterator]() as AsyncIterator<ChatMessage>;
    /**
     * A subscription the server refuses at once (an invalid room: header and status, no DATA), on
     * the stalled subscriber's connection: its answer comes after the server read (and acted on)
     * what the client sent before it, such as a WINDOW_UPDATE.
     */
    const roundTrip = async () => expect((await collect(client.subscribe({ room: "", replay: 0, limit: 0 }))).error?.code).toBe(status.INVALID_ARGUMENT);
    return { replies, first: replies.next(), roundTrip, server: chat.subscribeCalls[chat.subscribeCalls.length - 1] };
  }

  /** The remaining messages of an iterated stream (a stream read by an iterator must go on so). */
  async function rest(replies: AsyncIterator<ChatMessage>): Promise<{ messages: ChatMessage[]; error: ServiceError | undefined }> {
    const messages: ChatMessage[] = [];
    try {
      for (let next = await replies.next(); !next.done; next = await replies.next()) messages.push(next.value);
      return { messages, error: undefined };
    } catch (error) {
      return { messages, error: error as ServiceError };
    }
  }

  it("stops writing to a subscriber that does not read (waits for drain), then delivers everything in order", { timeout: 30_000 }, async () => {
    const total = 2_000;
    await start({ historySize: total });
    const { replies, first, roundTrip, server } = await stalledSubscriber("firehose", total);
    // 2,000 messages of 1 KB are far more than the HTTP/2 windows and stream buffers between the
    // server and the subscriber hold.
    await postOk(chat.client, "firehose", numbered(total, "m", 1_000));
    expect(Number((await first).value.sequence)).toBe(1);
    const [feed] = chat.rooms.subscribers("firehose");
    // At rest: neither the feed's writes nor grpc-js handing them on to HTTP/2 (writes less those
    // buffered) move across a round trip on the subscriber's connection.
    await atRest(() => 2 * feed.delivered - server.writableLength, roundTrip);
    expect(feed.waitingForDrain).toBe(true);
    const writtenWhilePaused = feed.delivered;
    expect(writtenWhilePaused).toBeLessThan(total / 2);
    // Still paused after more I/O on its connection: nothing more is written without a drain.
    await roundTrip();
    expect(feed.delivered).toBe(writtenWhilePaused);
    expect(feed.waitingForDrain).toBe(true);

    const { messages, error } = await rest(replies);
    expect(error).toBeUndefined();
    expect(sequences(messages)).toEqual(Array.from({ length: total - 1 }, (_, i) => i + 2));
    expect(feed.delivered).toBe(total);
    expect(feed.waitingForDrain).toBe(false);
  });

  it("ends a subscriber that fell behind the room's history with RESOURCE_EXHAUSTED, after the messages it had", { timeout: 30_000 }, async () => {
    await start({ historySize: 50 });
    const { replies, first, roundTrip, server } = await stalledSubscriber("firehose", 0);
    await postOk(chat.client, "firehose", numbered(1_000, "m", 1_000));
    expect(Number((await first).value.sequence)).toBe(1);
    const [feed] = chat.rooms.subscribers("firehose");
    await atRest(() => 2 * feed.delivered - server.writableLength, roundTrip);
    expect(feed.waitingForDrain).toBe(true);
    const { messages, error } = await rest(replies);
    expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error?.details).toMatch(/fell behind: message \d+ of room "firehose" is no longer kept \(the room keeps the last 50\)/);
    // A gap-free run after the first: messages are never skipped silently.
    expect(messages.length).toBeGreaterThan(0);
    expect(sequences(messages)).toEqual(Array.from({ length: messages.length }, (_, i) => i + 2));
    expect(feed.delivered).toBe(messages.length + 1);
  });
});

describe("Chat", () => {
  it("echoes each message before the next is sent, interleaved with other people's, and ends after the half-close", async () => {
    await start();
    const call = chat.client.chat();
    await headerOf(call);
    const replies = call[Symbol.asyncIterator]() as AsyncIterator<ChatMessage>;
    call.write({ room: "lobby", author: "ada", text: "hello" });
    expect((await replies.next()).value).toMatchObject({ room: "lobby", sequence: "1", author: "ada", text: "hello" });
    await postOk(chat.client, "lobby", [{ author: "grace", text: "hi Ada" }]);
    expect((await replies.next()).value).toMatchObject({ sequence: "2", author: "grace", text: "hi Ada" });
    call.write({ room: "lobby", author: "ada", text: "bye" });
    expect((await replies.next()).value).toMatchObject({ sequence: "3", author: "ada", text: "bye" });
    call.end();
    expect((await replies.next()).done).toBe(true);
  });

  it("after a half-close, finishes once the caller's last message has been echoed", async () => {
    await start();
    const call = chat.client.chat();
    const outcome = collect(call);
    for (const text of ["one", "two", "three"]) call.write({ room: "lobby", author: "ada", text });
    call.end();
    const { messages, error, status: final } = await outcome;
    expect(error).toBeUndefined();
    expect(final.code).toBe(status.OK);
    expect(final.metadata.get("x-demo-served-by")).toEqual(["demo"]);
    expect(messages.map((m) => [m.sequence, m.text])).toEqual([
      ["1", "one"],
      ["2", "two"],
      ["3", "three"],
    ]);
  });

  it("ends at once when the caller half-closes without sending anything", async () => {
    await start();
    const call = chat.client.chat();
    const outcome = collect(call);
    call.end();
    expect(await outcome).toMatchObject({ messages: [], error: undefined });
  });

  it("shows the caller's messages to the room's subscribers", async () => {
    await start();
    const watcher = collect(await subscribed("lobby", 0, 2));
    const call = chat.client.chat();
    const own = collect(call);
    call.write({ room: "lobby", author: "ada", text: "one" });
    call.write({ room: "lobby", author: "ada", text: "two" });
    call.end();
    expect(texts((await own).messages)).toEqual(["one", "two"]);
    expect(texts((await watcher).messages)).toEqual(["one", "two"]);
  });

  it("fails with INVALID_ARGUMENT when a later message names another room, after echoing the earlier ones", async () => {
    await start();
    const call = chat.client.chat();
    const outcome = collect(call);
    call.write({ room: "lobby", author: "ada", text: "one" });
    call.write({ room: "kitchen", author: "ada", text: "two" });
    const { messages, error } = await outcome;
    expect(texts(messages)).toEqual(["one"]);
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(violationsOf(error!)).toEqual([{ field: "room", description: 'must be the room of the call\'s first message, "lobby" (message 1 of the stream)' }]);
    call.end();
    expect(chat.rooms.room("kitchen").lastSequence).toBe(0);
  });

  it("a cancelled chat is removed from its room at once", async () => {
    await start();
    const call = chat.client.chat();
    const replies = call[Symbol.asyncIterator]() as AsyncIterator<ChatMessage>;
    call.write({ room: "lobby", author: "ada", text: "one" });
    await replies.next();
    expect(chat.rooms.subscriberCount()).toBe(1);
    call.on("error", () => undefined); // the CANCELLED status
    call.cancel();
    await chat.allEnded();
    expect(chat.rooms.subscriberCount()).toBe(0);
  });
});

import { EventEmitter } from "node:events";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import type { ChatMessage } from "../../generated/demo/v1/chat.js";
import { createChatRooms, type ChatRooms } from "../../src/demo/chat-rooms.js";
import { startRoomFeed, type FeedSink } from "../../src/demo/room-feed.js";
import { fuzzRuns } from "../support/fuzz.js";

/** A call's writing side whose buffer holds `capacity` messages until the test drains it. */
class FakeSink extends EventEmitter implements FeedSink {
  readonly written: ChatMessage[] = [];
  private buffered = 0;

  constructor(private readonly capacity: number) {
    super();
  }

  write(message: ChatMessage): boolean {
    this.written.push(message);
    this.buffered++;
    return this.buffered < this.capacity;
  }

  /** The client took everything buffered. */
  drain(): void {
    this.buffered = 0;
    this.emit("drain");
  }

  get texts(): string[] {
    return this.written.map((message) => message.text);
  }
}

function postN(rooms: ChatRooms, room: string, count: number, from = 1): void {
  for (let i = from; i < from + count; i++) rooms.post(room, "ada", `m${i}`);
}

describe("startRoomFeed", () => {
  it("writes from `from` on, including messages posted later", () => {
    const rooms = createChatRooms();
    postN(rooms, "a", 3);
    const sink = new FakeSink(100);
    startRoomFeed(rooms, "a", sink, { from: 2, limit: 0, onFinish: () => undefined });
    expect(sink.texts).toEqual(["m2", "m3"]);
    postN(rooms, "a", 2, 4);
    expect(sink.texts).toEqual(["m2", "m3", "m4", "m5"]);
  });

  it("stops writing when write() returns false and resumes on drain, without queuing anything itself", () => {
    const rooms = createChatRooms();
    const sink = new FakeSink(2);
    const feed = startRoomFeed(rooms, "a", sink, { from: 1, limit: 0, onFinish: () => undefined });
    postN(rooms, "a", 5);
    expect(sink.texts).toEqual(["m1", "m2"]);
    expect(feed).toMatchObject({ delivered: 2, waitingForDrain: true });
    expect(sink.listenerCount("drain")).toBe(1);
    sink.drain();
    expect(sink.texts).toEqual(["m1", "m2", "m3", "m4"]);
    sink.drain();
    expect(sink.texts).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    expect(feed).toMatchObject({ delivered: 5, waitingForDrain: false });
    expect(sink.listenerCount("drain")).toBe(0);
  });

  it("finishes after `limit` messages and unsubscribes", () => {
    const rooms = createChatRooms();
    postN(rooms, "a", 5);
    const sink = new FakeSink(100);
    const onFinish = vi.fn();
    startRoomFeed(rooms, "a", sink, { from: 2, limit: 3, onFinish });
    expect(sink.texts).toEqual(["m2", "m3", "m4"]);
    expect(onFinish).toHaveBeenCalledExactlyOnceWith(undefined);
    expect(rooms.subscriberCount()).toBe(0);
  });

  it("finishAfter: finishes once the given sequence has been written, even if it waits for a drain first", () => {
    const rooms = createChatRooms();
    const sink = new FakeSink(1);
    const onFinish = vi.fn();
    const feed = startRoomFeed(rooms, "a", sink, { from: 1, limit: 0, onFinish });
    postN(rooms, "a", 3);
    feed.finishAfter(2);
    expect(onFinish).not.toHaveBeenCalled();
    sink.drain();
    expect(sink.texts).toEqual(["m1", "m2"]);
    expect(onFinish).not.toHaveBeenCalled();
    sink.drain();
    expect(onFinish).toHaveBeenCalledExactlyOnceWith(undefined);
    expect(sink.texts).toEqual(["m1", "m2"]);
    expect(rooms.subscriberCount()).toBe(0);
  });

  it("finishAfter a sequence already written finishes at once", () => {
    const rooms = createChatRooms();
    const sink = new FakeSink(100);
    const onFinish = vi.fn();
    const feed = startRoomFeed(rooms, "a", sink, { from: 1, limit: 0, onFinish });
    postN(rooms, "a", 2);
    feed.finishAfter(2);
    expect(onFinish).toHaveBeenCalledOnce();
  });

  it("stop() unsubscribes and removes its drain listener (no leak), and is idempotent", () => {
    const rooms = createChatRooms();
    const sink = new FakeSink(1);
    const onFinish = vi.fn();
    const feed = startRoomFeed(rooms, "a", sink, { from: 1, limit: 0, onFinish });
    postN(rooms, "a", 2);
    expect(sink.listenerCount("drain")).toBe(1);
    feed.stop();
    feed.stop();
    expect(sink.listenerCount("drain")).toBe(0);
    expect(rooms.subscriberCount()).toBe(0);
    sink.drain();
    postN(rooms, "a", 1, 3);
    expect(sink.texts).toEqual(["m1"]);
    expect(onFinish).not.toHaveBeenCalled();
  });

  it("ends with RESOURCE_EXHAUSTED when the next message left the history, never skipping it", () => {
    const rooms = createChatRooms({ historySize: 3 });
    const sink = new FakeSink(1);
    const onFinish = vi.fn();
    startRoomFeed(rooms, "a", sink, { from: 1, limit: 0, onFinish });
    postN(rooms, "a", 6);
    sink.drain();
    expect(sink.texts).toEqual(["m1"]);
    expect(onFinish).toHaveBeenCalledOnce();
    expect(onFinish.mock.calls[0][0]).toMatchObject({ code: 8, message: expect.stringContaining('message 2 of room "a" is no longer kept (the room keeps the last 3)') });
    expect(rooms.subscriberCount()).toBe(0);
  });
});

describe("startRoomFeed under any interleaving of posts and drains", () => {
  it("writes a gap-free run in order, at most the sink's capacity between drains, catches up when not waiting, or ends (limit, RESOURCE_EXHAUSTED)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.constantFrom("post", "drain"), { maxLength: 60 }),
        (capacity, historySize, limit, steps) => {
          const rooms = createChatRooms({ historySize });
          const sink = new FakeSink(capacity);
          let finished: unknown[] | undefined;
          const feed = startRoomFeed(rooms, "a", sink, { from: 1, limit, onFinish: (...args) => (finished = args) });
          let sinceDrain = 0;
          let posted = 0;
          for (const step of steps) {
            const before = sink.written.length;
            if (step === "post") rooms.post("a", "ada", `m${++posted}`);
            else {
              sink.drain();
              sinceDrain = 0;
            }
            sinceDrain += sink.written.length - before;
            expect(sinceDrain).toBeLessThanOrEqual(capacity);
          }
          const sequences = sink.written.map((message) => Number(message.sequence));
          expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
          if (limit > 0) expect(sequences.length).toBeLessThanOrEqual(limit);
          if (finished === undefined) {
            expect(rooms.subscriberCount()).toBe(1);
            // Not waiting for a drain means caught up: nothing posted is left unwritten.
            if (!feed.waitingForDrain) expect(sequences.length).toBe(posted);
          } else {
            expect(rooms.subscriberCount()).toBe(0);
            const [error] = finished;
            if (error === undefined) expect(sequences.length).toBe(limit);
            else expect(error).toMatchObject({ code: 8 });
          }
        },
      ),
      fuzzRuns(300),
    );
  });
});

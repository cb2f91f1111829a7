import { describe, expect, it } from "vitest";
import { createChatRooms, type RoomSubscriber } from "../../src/demo/chat-rooms.js";
import { toTimestamp } from "../../src/demo/timestamps.js";

const subscriber = (notify: () => void = () => undefined): RoomSubscriber => ({ notify, delivered: 0, waitingForDrain: false });

describe("createChatRooms", () => {
  it("numbers each room's messages from 1 and stamps them with the clock", () => {
    let now = new Date("2027-01-01T00:00:00Z");
    const rooms = createChatRooms({ now: () => now });
    expect(rooms.post("a", "ada", "one")).toEqual({ room: "a", sequence: "1", author: "ada", text: "one", postTime: toTimestamp(now) });
    now = new Date("2027-01-01T00:00:01.5Z");
    expect(rooms.post("a", "bob", "two")).toMatchObject({ sequence: "2", postTime: toTimestamp(now) });
    expect(rooms.post("b", "ada", "elsewhere").sequence).toBe("1");
    expect(rooms.room("a").lastSequence).toBe(2);
  });

  it("creates a room empty on first use", () => {
    const rooms = createChatRooms();
    const room = rooms.room("new");
    expect({ lastSequence: room.lastSequence, firstKept: room.firstKept }).toEqual({ lastSequence: 0, firstKept: 1 });
    expect(room.read(1)).toEqual({ kind: "not-yet" });
  });

  it("keeps the last historySize messages: older ones read as evicted, later ones as not-yet", () => {
    const rooms = createChatRooms({ historySize: 3 });
    for (let i = 1; i <= 5; i++) rooms.post("a", "ada", `m${i}`);
    const room = rooms.room("a");
    expect(room.firstKept).toBe(3);
    expect([1, 2, 3, 4, 5, 6].map((sequence) => {
      const read = room.read(sequence);
      return read.kind === "message" ? read.message.text : read.kind;
    })).toEqual(["evicted", "evicted", "m3", "m4", "m5", "not-yet"]);
  });

  it("tells a room's subscribers after each post, and only that room's", () => {
    const rooms = createChatRooms();
    const told: string[] = [];
    rooms.subscribe("a", subscriber(() => told.push(`first saw ${rooms.room("a").lastSequence}`)));
    rooms.subscribe("a", subscriber(() => told.push(`second saw ${rooms.room("a").lastSequence}`)));
    rooms.subscribe("b", subscriber(() => told.push("b")));
    rooms.post("a", "ada", "one");
    expect(told).toEqual(["first saw 1", "second saw 1"]);
    expect(rooms.subscribers("a")).toHaveLength(2);
    expect(rooms.subscriberCount()).toBe(3);
  });

  it("unsubscribes idempotently, also from inside a notification", () => {
    const rooms = createChatRooms();
    const calls: string[] = [];
    const unsubscribeFirst: () => void = rooms.subscribe("a", subscriber(() => {
      calls.push("first");
      unsubscribeFirst();
    }));
    rooms.subscribe("a", subscriber(() => calls.push("second")));
    rooms.post("a", "ada", "one");
    rooms.post("a", "ada", "two");
    expect(calls).toEqual(["first", "second", "second"]);
    unsubscribeFirst();
    expect(rooms.subscriberCount()).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses a historySize of %s", (historySize) => {
    expect(() => createChatRooms({ historySize })).toThrow(RangeError);
  });
});

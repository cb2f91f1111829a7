import type { ChatMessage } from "../../generated/demo/v1/chat.js";
import type { ChatRooms, RoomSubscriber } from "./chat-rooms.js";
import { resourceExhausted, type DemoRpcError } from "./rpc-error.js";

/** The writing side of a grpc-js server-streaming or bidirectional call, as a feed uses it. */
export interface FeedSink {
  /** Writes a message; false when the call's buffer is full (wait for "drain" before writing more). */
  write(message: ChatMessage): boolean;
  once(event: "drain", listener: () => void): unknown;
  removeListener(event: "drain", listener: () => void): unknown;
}

export interface RoomFeedOptions {
  /** The first sequence number to write. */
  readonly from: number;
  /** Finish after this many messages (0: no limit). */
  readonly limit: number;
  /**
   * Called once when the feed finishes on its own: at its limit or after `finishAfter` (no error),
   * or with RESOURCE_EXHAUSTED when the subscriber fell behind the room's kept history. Never
   * called after `stop()`.
   */
  readonly onFinish: (error?: DemoRpcError) => void;
}

/** A room's messages being written to one call, in order, at the pace the call takes them. */
export interface RoomFeed extends RoomSubscriber {
  /** Finishes once every message up to `sequence` has been written (a bidi caller's half-close). */
  finishAfter(sequence: number): void;
  /** Stops for good: unsubscribes and stops waiting for "drain". Idempotent. */
  stop(): void;
}

/**
 * Subscribes `sink` to a room and writes the room's messages from `options.from` on, including
 * those posted later. Back-pressure: when `write` returns false the feed stops writing until the
 * call drains, and the messages posted meanwhile wait in the room's history (nothing is queued
 * per subscriber); a subscriber so slow that its next message left the history is ended with
 * RESOURCE_EXHAUSTED instead of silently skipping messages.
 */
export function startRoomFeed(rooms: ChatRooms, roomName: string, sink: FeedSink, options: RoomFeedOptions): RoomFeed {
  const room = rooms.room(roomName);
  let cursor = options.from;
  let delivered = 0;
  let waiting = false;
  let stopped = false;
  let finishAt: number | undefined;

  const onDrain = (): void => {
    waiting = false;
    pump();
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    if (waiting) sink.removeListener("drain", onDrain);
    waiting = false;
  };
  const finish = (error?: DemoRpcError): void => {
    stop();
    options.onFinish(error);
  };
  const pump = (): void => {
    while (!stopped && !waiting) {
      if (finishAt !== undefined && cursor > finishAt) return finish();
      const read = room.read(cursor);
      if (read.kind === "not-yet") return;
      if (read.kind === "evicted") {
        return finish(resourceExhausted(`the subscriber fell behind: message ${cursor} of room "${roomName}" is no longer kept (the room keeps the last ${room.lastSequence - room.firstKept + 1}); read faster, or subscribe again with replay`));
      }
      cursor++;
      delivered++;
      const more = sink.write(read.message);
      if (options.limit > 0 && delivered >= options.limit) return finish();
      if (!more) {
        waiting = true;
        sink.once("drain", onDrain);
      }
    }
  };

  const feed: RoomFeed = {
    notify: pump,
    get delivered() {
      return delivered;
    },
    get waitingForDrain() {
      return waiting;
    },
    finishAfter(sequence) {
      finishAt = sequence;
      pump();
    },
    stop,
  };
  const unsubscribe = rooms.subscribe(roomName, feed);
  pump();
  return feed;
}

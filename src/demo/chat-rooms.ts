import type { ChatMessage } from "../../generated/demo/v1/chat.js";
import { toTimestamp } from "./timestamps.js";

/** How many recent messages a room keeps by default (the most Subscribe can replay). */
export const DEFAULT_HISTORY_SIZE = 100;

/**
 * Something that follows a room: told after each post, it reads the new messages itself (at its
 * own pace, by sequence number), so a room never queues messages per subscriber.
 */
export interface RoomSubscriber {
  /** Called synchronously after each post to the room. */
  notify(): void;
  /** Messages written to the subscriber's call so far (for diagnostics and tests). */
  readonly delivered: number;
  /** Whether the subscriber is waiting for its call to drain before writing more. */
  readonly waitingForDrain: boolean;
}

/** What a subscriber finds at a sequence number. */
export type RoomRead = { readonly kind: "message"; readonly message: ChatMessage } | { readonly kind: "not-yet" } | { readonly kind: "evicted" };

/** One chat room: the last `historySize` messages and who follows it. */
export interface ChatRoom {
  readonly name: string;
  /** The sequence number of the last message posted, 0 before the first. */
  readonly lastSequence: number;
  /** The oldest sequence number still kept (lastSequence + 1 when the room is empty). */
  readonly firstKept: number;
  /** The message at `sequence`, `not-yet` when it has not been posted, `evicted` when no longer kept. */
  read(sequence: number): RoomRead;
}

/** The chat rooms of one demo instance, each created on first use. */
export interface ChatRooms {
  /** The room named `name`, created empty when it does not exist yet. */
  room(name: string): ChatRoom;
  /** Posts a message: the room's next sequence number, the clock's time; then tells the subscribers. */
  post(room: string, author: string, text: string): ChatMessage;
  /** Adds a subscriber to a room; returns the function that removes it (idempotent). */
  subscribe(room: string, subscriber: RoomSubscriber): () => void;
  /** The subscribers of a room, in subscription order (for diagnostics and tests). */
  subscribers(room: string): readonly RoomSubscriber[];
  /** How many subscribers all rooms have together (0 once every call has ended: no leak). */
  subscriberCount(): number;
}

export interface ChatRoomsOptions {
  /** The clock of post times (default: the system clock). */
  now?: () => Date;
  /** Messages kept per room (default 100): the replay bound and how far a subscriber may fall behind. */
  historySize?: number;
}

/** A room's state: its history as a ring buffer (the message with sequence s at s % size). */
class Room implements ChatRoom {
  lastSequence = 0;
  readonly subscribers = new Set<RoomSubscriber>();
  private readonly ring: ChatMessage[] = [];

  constructor(
    readonly name: string,
    private readonly historySize: number,
  ) {}

  get firstKept(): number {
    return Math.max(1, this.lastSequence - this.historySize + 1);
  }

  read(sequence: number): RoomRead {
    if (sequence > this.lastSequence) return { kind: "not-yet" };
    if (sequence < this.firstKept) return { kind: "evicted" };
    return { kind: "message", message: this.ring[sequence % this.historySize] };
  }

  append(message: Omit<ChatMessage, "room" | "sequence">): ChatMessage {
    const sequence = this.lastSequence + 1;
    const full: ChatMessage = { ...message, room: this.name, sequence: String(sequence) };
    this.ring[sequence % this.historySize] = full;
    this.lastSequence = sequence;
    return full;
  }
}

/**
 * Creates the rooms. Memory is bounded per room: `historySize` messages, and nothing per
 * subscriber but a cursor, because a subscriber reads from the history instead of being pushed
 * a copy of every message.
 */
export function createChatRooms(options: ChatRoomsOptions = {}): ChatRooms {
  const now = options.now ?? (() => new Date());
  const historySize = options.historySize ?? DEFAULT_HISTORY_SIZE;
  if (!Number.isInteger(historySize) || historySize < 1) throw new RangeError(`historySize must be a positive integer, got ${historySize}`);
  const rooms = new Map<string, Room>();

  const room = (name: string): Room => {
    let state = rooms.get(name);
    if (!state) {
      state = new Room(name, historySize);
      rooms.set(name, state);
    }
    return state;
  };

  return {
    room,
    post(name, author, text) {
      const state = room(name);
      const message = state.append({ author, text, postTime: toTimestamp(now()) });
      // A copy: a subscriber that finishes while being told unsubscribes during the loop.
      for (const subscriber of [...state.subscribers]) subscriber.notify();
      return message;
    },
    subscribe(name, subscriber) {
      const state = room(name);
      state.subscribers.add(subscriber);
      return () => {
        state.subscribers.delete(subscriber);
      };
    },
    subscribers: (name) => [...(rooms.get(name)?.subscribers ?? [])],
    subscriberCount() {
      let count = 0;
      for (const state of rooms.values()) count += state.subscribers.size;
      return count;
    },
  };
}

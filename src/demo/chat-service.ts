import type { sendUnaryData, ServerDuplexStream, ServerReadableStream, ServerWritableStream } from "@grpc/grpc-js";
import type { ChatMessage, ChatServiceServer, PostMessageRequest, PostMessagesResponse, SubscribeRequest } from "../../generated/demo/v1/chat.js";
import { errorStatus, sendHeader, servedByTrailer } from "./call-metadata.js";
import type { ChatRooms } from "./chat-rooms.js";
import { startRoomFeed, type RoomFeed } from "./room-feed.js";
import { assertNoViolations, type FieldViolation } from "./rpc-error.js";
import { characterCount } from "./validation.js";

export const MAX_ROOM_NAME = 64;
export const MAX_AUTHOR = 64;
export const MAX_TEXT = 2_000;

/**
 * demo.v1.ChatService over chat rooms (created on first use):
 * - Subscribe replays the last `replay` messages kept (at most the room's history), then follows
 *   the room, and ends OK after `limit` messages when `limit` > 0;
 * - PostMessages posts each message as it arrives and answers how many and the last sequence;
 * - Chat posts each message and streams back every message of the room from the moment the
 *   caller's first message arrives (its own and everyone else's); after the caller half-closes it
 *   ends OK once the caller's last message has been written back.
 * Every call echoes `x-request-id` and sets the served-by trailer like the unary demo methods;
 * streaming calls send their header at once, after the subscription is in place. Writes honour
 * back-pressure (room-feed.ts) and a cancelled call unsubscribes at once.
 */
export function createChatService(rooms: ChatRooms): ChatServiceServer {
  return {
    subscribe: (call) => subscribe(rooms, call),
    postMessages: (call, callback) => postMessages(rooms, call, callback),
    chat: (call) => chat(rooms, call),
  };
}

/** The end of a streaming call: OK with the served-by trailer, or the error's status. */
function endCall(call: ServerWritableStream<SubscribeRequest, ChatMessage> | ServerDuplexStream<PostMessageRequest, ChatMessage>, error?: unknown): void {
  if (error === undefined) call.end(servedByTrailer());
  // grpc-js sends an emitted error as the call's status, after the messages already written.
  else call.emit("error", errorStatus(error));
}

function subscribe(rooms: ChatRooms, call: ServerWritableStream<SubscribeRequest, ChatMessage>): void {
  const request = call.request;
  // The subscription below is in place in this same tick: a client that has the header is subscribed.
  sendHeader(call, true);
  try {
    validateSubscribe(request);
  } catch (error) {
    endCall(call, error);
    return;
  }
  const room = rooms.room(request.room);
  const from = Math.max(room.firstKept, room.lastSequence - request.replay + 1);
  const feed = startRoomFeed(rooms, request.room, call, { from, limit: request.limit, onFinish: (error) => endCall(call, error) });
  call.on("cancelled", () => feed.stop());
}

function postMessages(rooms: ChatRooms, call: ServerReadableStream<PostMessageRequest, PostMessagesResponse>, callback: sendUnaryData<PostMessagesResponse>): void {
  sendHeader(call);
  let count = 0;
  let lastSequence = "0";
  let failed = false;
  call.on("data", (request: PostMessageRequest) => {
    if (failed) return;
    try {
      validatePost(request, count, undefined);
    } catch (error) {
      // The messages before the bad one stay posted: each was posted as it arrived.
      failed = true;
      callback(errorStatus(error));
      return;
    }
    lastSequence = rooms.post(request.room, request.author, request.text).sequence;
    count++;
  });
  call.on("end", () => {
    if (!failed) callback(null, { count, lastSequence }, servedByTrailer());
  });
}

function chat(rooms: ChatRooms, call: ServerDuplexStream<PostMessageRequest, ChatMessage>): void {
  sendHeader(call, true);
  let feed: RoomFeed | undefined;
  let room: string | undefined;
  let count = 0;
  let lastOwnSequence = 0;
  let done = false;
  const finish = (error?: unknown): void => {
    if (done) return;
    done = true;
    feed?.stop();
    endCall(call, error);
  };
  call.on("data", (request: PostMessageRequest) => {
    if (done) return;
    try {
      validatePost(request, count, room);
    } catch (error) {
      finish(error);
      return;
    }
    if (feed === undefined) {
      room = request.room;
      // Joined just before the first post, so the caller's own first message comes back too.
      feed = startRoomFeed(rooms, room, call, { from: rooms.room(room).lastSequence + 1, limit: 0, onFinish: finish });
    }
    lastOwnSequence = Number(rooms.post(request.room, request.author, request.text).sequence);
    count++;
  });
  call.on("end", () => {
    if (done) return;
    if (feed === undefined) finish();
    else feed.finishAfter(lastOwnSequence);
  });
  call.on("cancelled", () => {
    done = true;
    feed?.stop();
  });
}

function validateSubscribe(request: SubscribeRequest): void {
  const violations: FieldViolation[] = [];
  checkRoom(request.room, "", violations);
  if (request.replay < 0) violations.push({ field: "replay", description: `must not be negative (got ${request.replay})` });
  if (request.limit < 0) violations.push({ field: "limit", description: `must not be negative (got ${request.limit}); 0 follows the room until the call ends` });
  assertNoViolations(violations);
}

/**
 * Checks message `index` of a stream; `room` is the room of the call's first message, which every
 * later message of a Chat must name too.
 */
function validatePost(request: PostMessageRequest, index: number, room: string | undefined): void {
  const violations: FieldViolation[] = [];
  const at = ` (message ${index} of the stream)`;
  checkRoom(request.room, at, violations);
  if (room !== undefined && request.room !== "" && request.room !== room) violations.push({ field: "room", description: `must be the room of the call's first message, "${room}"${at}` });
  if (characterCount(request.author) > MAX_AUTHOR) violations.push({ field: "author", description: `must be at most ${MAX_AUTHOR} characters${at}` });
  if (request.text.trim() === "") violations.push({ field: "text", description: `must not be empty${at}` });
  else if (characterCount(request.text) > MAX_TEXT) violations.push({ field: "text", description: `must be at most ${MAX_TEXT} characters (got ${characterCount(request.text)})${at}` });
  assertNoViolations(violations);
}

function checkRoom(room: string, at: string, violations: FieldViolation[]): void {
  if (room === "") violations.push({ field: "room", description: `must not be empty${at}` });
  else if (characterCount(room) > MAX_ROOM_NAME) violations.push({ field: "room", description: `must be at most ${MAX_ROOM_NAME} characters${at}` });
}

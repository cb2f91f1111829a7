import { Server, ServerCredentials, type ServerDuplexStream, type ServerReadableStream, type ServerWritableStream, type sendUnaryData } from "@grpc/grpc-js";
import { ChatServiceService, type ChatMessage, type PostMessageRequest, type PostMessagesResponse, type SubscribeRequest } from "../../../generated/demo/v1/chat.js";

/** A demo.v1.ChatService backend whose handlers a test supplies (unsupplied ones answer UNIMPLEMENTED). */
export interface ChatHandlers {
  subscribe?: (call: ServerWritableStream<SubscribeRequest, ChatMessage>) => void;
  postMessages?: (call: ServerReadableStream<PostMessageRequest, PostMessagesResponse>, callback: sendUnaryData<PostMessagesResponse>) => void;
  chat?: (call: ServerDuplexStream<PostMessageRequest, ChatMessage>) => void;
}

export async function startChatBackend(handlers: ChatHandlers): Promise<{ address: string; close(): Promise<void> }> {
  const server = new Server();
  const unimplemented = (call: { destroy?: (error: Error) => void; emit: (event: string, error: unknown) => boolean }) =>
    call.emit("error", { code: 12, details: "not implemented by this test backend" });
  server.addService(ChatServiceService, {
    subscribe: handlers.subscribe ?? ((call: ServerWritableStream<SubscribeRequest, ChatMessage>) => unimplemented(call)),
    postMessages: handlers.postMessages ?? ((_call: unknown, callback: sendUnaryData<PostMessagesResponse>) => callback({ code: 12, details: "not implemented by this test backend" })),
    chat: handlers.chat ?? ((call: ServerDuplexStream<PostMessageRequest, ChatMessage>) => unimplemented(call)),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** Resolves once the client (here the gateway) has cancelled `call`: grpc-js sets `cancelled` and emits 'cancelled'. */
export function whenCancelled(call: { readonly cancelled: boolean; once(event: "cancelled", listener: () => void): unknown }): Promise<void> {
  return call.cancelled ? Promise.resolve() : new Promise((resolve) => void call.once("cancelled", () => resolve()));
}

/** The n-th message of a test stream. */
export function message(sequence: number, text = `message ${sequence}`): ChatMessage {
  return { room: "lobby", sequence: String(sequence), author: "backend", text, postTime: undefined };
}

/** What a flow-controlled writer saw: how many it wrote, and how often the stream made it wait. */
export interface WriteStats {
  written: number;
  /** Messages whose `write` completed (grpc-js handed them on to HTTP/2, as flow control let it). */
  flushed: number;
  /** Times `write` returned false (the gateway stopped reading: HTTP/2 flow control reached the backend). */
  paused: number;
  cancelled: boolean;
  cancelledAt: number | undefined;
  /** Resolves the first time `write` returns false. */
  readonly firstPause: Promise<void>;
  /** Resolves when the call is cancelled. */
  readonly cancellation: Promise<void>;
  /** Resolves once more than `count` messages were written. */
  writtenPast(count: number): Promise<void>;
}

/**
 * Writes `count` messages as fast as the call takes them, waiting for 'drain' whenever `write`
 * returns false, then ends the call (unless cancelled meanwhile).
 */
export function writeMessages(call: ServerWritableStream<SubscribeRequest, ChatMessage>, count: number, text?: (sequence: number) => string): WriteStats {
  let paused: () => void = () => undefined;
  let cancel: () => void = () => undefined;
  const waiters = new Set<{ count: number; resolve(): void }>();
  const stats: WriteStats = {
    written: 0,
    flushed: 0,
    paused: 0,
    cancelled: false,
    cancelledAt: undefined,
    firstPause: new Promise((resolve) => (paused = resolve)),
    cancellation: new Promise((resolve) => (cancel = resolve)),
    writtenPast: (past) => (stats.written > past ? Promise.resolve() : new Promise((resolve) => void waiters.add({ count: past, resolve }))),
  };
  call.on("cancelled", () => {
    stats.cancelled = true;
    stats.cancelledAt = Date.now();
    cancel();
  });
  const pump = (): void => {
    while (stats.written < count && !stats.cancelled) {
      stats.written++;
      for (const waiter of waiters) {
        if (stats.written <= waiter.count) continue;
        waiters.delete(waiter);
        waiter.resolve();
      }
      if (!call.write(message(stats.written, text?.(stats.written)), () => void stats.flushed++)) {
        stats.paused++;
        paused();
        call.once("drain", pump);
        return;
      }
    }
    if (!stats.cancelled) call.end();
  };
  pump();
  return stats;
}

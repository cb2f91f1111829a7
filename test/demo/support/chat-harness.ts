import { credentials, Metadata, Server, ServerCredentials, type ClientReadableStream, type ServerDuplexStream, type ServerWritableStream, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { ChatServiceClient, ChatServiceService, type ChatMessage, type PostMessageRequest, type PostMessagesResponse, type SubscribeRequest } from "../../../generated/demo/v1/chat.js";
import { createChatRooms, type ChatRooms } from "../../../src/demo/chat-rooms.js";
import { createChatService } from "../../../src/demo/chat-service.js";

/** A grpc-js server with only the ChatService, over rooms the test can inspect, and a client. */
export interface ChatHarness {
  readonly rooms: ChatRooms;
  readonly client: ChatServiceClient;
  /** The server side of each Subscribe call so far (grpc-js's call: `writableLength` is what it has not yet handed to HTTP/2). */
  readonly subscribeCalls: ServerWritableStream<SubscribeRequest, ChatMessage>[];
  /** Resolves once the server's side of `call` (a Subscribe or Chat call) has ended: finished, or cancelled (after the service's own cleanup). */
  ended(call: ServerWritableStream<SubscribeRequest, ChatMessage> | ServerDuplexStream<PostMessageRequest, ChatMessage>): Promise<void>;
  /** Resolves once every Subscribe and Chat call the server has had so far has ended. */
  allEnded(): Promise<void>;
  /** Another client on its own connection (HTTP/2 windows are per connection too), closed with the harness. */
  separateClient(): ChatServiceClient;
  /** Sets the time the next posts get. */
  setNow(date: Date): void;
  close(): Promise<void>;
}

export const CHAT_EPOCH = new Date("2027-05-06T07:08:09.000Z");

/** Starts the ChatService on 127.0.0.1:0 with a settable clock. */
export async function startChatHarness(options: { historySize?: number } = {}): Promise<ChatHarness> {
  let now = CHAT_EPOCH;
  const rooms = createChatRooms({ now: () => now, historySize: options.historySize });
  const server = new Server();
  const service = createChatService(rooms);
  const subscribeCalls: ServerWritableStream<SubscribeRequest, ChatMessage>[] = [];
  const endings = new Map<object, Promise<void>>();
  // Watched after the service has set its own listeners up, so that they have run when these do.
  const watch = (call: ServerWritableStream<SubscribeRequest, ChatMessage> | ServerDuplexStream<PostMessageRequest, ChatMessage>) =>
    endings.set(call, new Promise<void>((resolve) => void call.once("finish", () => resolve()).once("cancelled", () => resolve())));
  server.addService(ChatServiceService, {
    ...service,
    subscribe: (call: ServerWritableStream<SubscribeRequest, ChatMessage>) => {
      subscribeCalls.push(call);
      service.subscribe(call);
      watch(call);
    },
    chat: (call: ServerDuplexStream<PostMessageRequest, ChatMessage>) => {
      service.chat(call);
      watch(call);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const client = new ChatServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const others: ChatServiceClient[] = [];
  return {
    rooms,
    client,
    subscribeCalls,
    ended: (call) => endings.get(call) ?? Promise.reject(new Error("not a call of this server")),
    allEnded: async () => void (await Promise.all(endings.values())),
    separateClient() {
      // grpc-js shares connections between clients of one target unless told otherwise.
      const other = new ChatServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
      others.push(other);
      return other;
    },
    setNow: (date) => (now = date),
    close: async () => {
      for (const other of others) other.close();
      client.close();
      // Tests end their calls; forceShutdown only cuts a call a failed test left open.
      server.forceShutdown();
    },
  };
}

/** A message to post, without the room. */
export interface Post {
  readonly author?: string;
  readonly text: string;
}

/** The outcome of a PostMessages call. */
export interface PostOutcome {
  readonly response: PostMessagesResponse | undefined;
  readonly error: ServiceError | undefined;
}

/** Posts `posts` to `room` in one PostMessages call (every message naming `room` unless it sets its own). */
export function postAll(client: ChatServiceClient, room: string, posts: readonly (Post & { room?: string })[]): Promise<PostOutcome> {
  return new Promise((resolve) => {
    const call = client.postMessages((error, response) => resolve(error ? { response: undefined, error } : { response, error: undefined }));
    for (const post of posts) call.write({ room: post.room ?? room, author: post.author ?? "ada", text: post.text });
    call.end();
  });
}

/** Posts that must succeed; the response. */
export async function postOk(client: ChatServiceClient, room: string, posts: readonly Post[]): Promise<PostMessagesResponse> {
  const outcome = await postAll(client, room, posts);
  if (outcome.error) throw new Error(`PostMessages failed: ${outcome.error.code} ${outcome.error.details}`);
  return outcome.response as PostMessagesResponse;
}

/** Resolves with the call's header metadata (the demo sends it once the subscription is in place). */
export function headerOf(call: { once(event: "metadata", listener: (metadata: Metadata) => void): unknown }): Promise<Metadata> {
  return new Promise((resolve) => call.once("metadata", resolve));
}

/** Everything a streaming call produced. */
export interface StreamOutcome {
  readonly messages: ChatMessage[];
  readonly error: ServiceError | undefined;
  readonly status: StatusObject;
}

/** Reads a stream to its end: its messages, its error (if it failed) and its status. */
export function collect(call: ClientReadableStream<ChatMessage> | NodeJS.ReadableStream): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const messages: ChatMessage[] = [];
    let error: ServiceError | undefined;
    let status: StatusObject | undefined;
    let ended = false;
    const settle = () => {
      // grpc-js emits "error" and "status" as the status arrives, possibly before the messages
      // still buffered in the stream have been delivered: let those through first.
      if (status !== undefined && (ended || error !== undefined)) setImmediate(() => resolve({ messages, error, status: status as StatusObject }));
    };
    call.on("data", (message: ChatMessage) => messages.push(message));
    call.on("end", () => {
      ended = true;
      settle();
    });
    call.on("error", (failure: ServiceError) => {
      error = failure;
      settle();
    });
    call.on("status", (received: StatusObject) => {
      status = received;
      settle();
    });
  });
}

/** The texts of messages, for compact assertions. */
export function texts(messages: readonly ChatMessage[]): string[] {
  return messages.map((message) => message.text);
}

/** The sequence numbers of messages, as numbers. */
export function sequences(messages: readonly ChatMessage[]): number[] {
  return messages.map((message) => Number(message.sequence));
}

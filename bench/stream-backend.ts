// Child process: a demo.v1.ChatService whose Subscribe streams `limit` messages as fast as the
// caller takes them (honouring HTTP/2 flow control), for the streaming benchmark.
import { Server, ServerCredentials, type ServerWritableStream } from "@grpc/grpc-js";
import { ChatServiceService, type ChatMessage, type SubscribeRequest } from "../generated/demo/v1/chat.js";

const TEXT = "x".repeat(64);
const server = new Server();
server.addService(ChatServiceService, {
  subscribe: (call: ServerWritableStream<SubscribeRequest, ChatMessage>) => {
    const limit = call.request.limit;
    let sent = 0;
    let cancelled = false;
    call.on("cancelled", () => (cancelled = true));
    const pump = (): void => {
      while (sent < limit && !cancelled) {
        sent++;
        if (!call.write({ room: call.request.room, sequence: String(sent), author: "bench", text: TEXT, postTime: undefined })) {
          call.once("drain", pump);
          return;
        }
      }
      if (!cancelled) call.end();
    };
    pump();
  },
  postMessages: (_call: unknown, callback: (error: { code: number; details: string }) => void) => callback({ code: 12, details: "not in the bench backend" }),
  chat: (call: { emit(event: string, error: unknown): void }) => call.emit("error", { code: 12, details: "not in the bench backend" }),
});
const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
console.log(`stream backend listening on 127.0.0.1:${port}`);
process.once("SIGTERM", () => {
  server.forceShutdown();
  process.exit(0);
});

// Child process: reads one server stream of `--messages` messages and prints its rate, either
// straight from the backend with grpc-js (`--direct ADDR`) or through the gateway as NDJSON
// (`--url BASE`, with the gateway's CPU time per message read from /proc of `--server-pid`).
import { credentials, makeGenericClientConstructor, type ClientReadableStream } from "@grpc/grpc-js";
import { request } from "node:http";
import { parseArgs } from "node:util";
import { ChatServiceService, type ChatMessage } from "../generated/demo/v1/chat.js";
import { processCpuMs } from "./process-cpu.js";
import { STREAM_RESULT_PREFIX } from "./stream-result.js";


const { values } = parseArgs({ options: { direct: { type: "string" }, url: { type: "string" }, messages: { type: "string" }, "server-pid": { type: "string" } } });
const messages = Number(values.messages);

async function direct(address: string): Promise<number> {
  const Client = makeGenericClientConstructor(ChatServiceService, "ChatService");
  const client = new Client(address, credentials.createInsecure());
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    const call = (client as unknown as { subscribe(request: unknown): ClientReadableStream<ChatMessage> }).subscribe({ room: "bench", replay: 0, limit: messages });
    call.on("data", () => count++);
    call.on("end", resolve);
    call.on("error", reject);
  });
  client.close();
  return count;
}

async function http(base: string): Promise<number> {
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    const req = request(new URL(`/v1/rooms/bench/messages:subscribe?limit=${messages}`, base), { agent: false }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
      response.on("data", (chunk: Buffer) => {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
      });
      response.on("end", resolve);
      response.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
  return count;
}

const serverPid = values["server-pid"] === undefined ? undefined : Number(values["server-pid"]);
const cpuBefore = serverPid === undefined ? process.cpuUsage() : processCpuMs(serverPid);
const started = process.hrtime.bigint();
const received = values.direct !== undefined ? await direct(values.direct) : await http(values.url ?? "");
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
let cpuMs: number | undefined;
if (serverPid === undefined) {
  const used = process.cpuUsage(cpuBefore as NodeJS.CpuUsage);
  cpuMs = (used.user + used.system) / 1000;
} else {
  const after = processCpuMs(serverPid);
  cpuMs = after === undefined || cpuBefore === undefined ? undefined : after - (cpuBefore as number);
}
if (received !== messages) {
  console.error(`received ${received} of ${messages} messages`);
  process.exit(1);
}
console.log(`${STREAM_RESULT_PREFIX}${JSON.stringify({ messages: received, seconds, messagesPerSecond: received / seconds, cpuMs })}`);

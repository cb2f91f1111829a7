// A stand-in OTLP/HTTP collector for `npm run bench` (the tracing variants): it accepts the
// gateway's protobuf trace exports on /v1/traces, answers 200 and counts them; GET /stats answers
// {"exports":N,"spans":N}, and GET /wait?spans=N answers the same once N spans have arrived (a
// long poll: the measuring process waits without spending CPU on it). It runs in a process of its own, off the gateway's CPU, and never parses
// a body beyond the message lengths (it counts ScopeSpans.spans fields), so that it keeps up with a saturated gateway.
// Usage: otlp-sink.ts [--port N]; prints `otlp sink listening on http://127.0.0.1:PORT/v1/traces`.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });

/** The spans in an ExportTraceServiceRequest: resource_spans (1) > scope_spans (2) > spans (2), skipping their content. */
function countSpans(body: Uint8Array): number {
  let spans = 0;
  const each = (bytes: Uint8Array, field: number, visit: (inner: Uint8Array) => void) => {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [number, wireType] = reader.tag();
      if (number === field && wireType === WireType.LengthDelimited) visit(reader.bytes());
      else reader.skip(wireType);
    }
  };
  each(body, 1, (resourceSpans) => each(resourceSpans, 2, (scopeSpans) => each(scopeSpans, 2, () => spans++)));
  return spans;
}
const stats = { exports: 0, spans: 0 };
const waiting: Array<{ spans: number; answer: () => void }> = [];
const answerWaiting = () => {
  for (let i = waiting.length - 1; i >= 0; i--) if (stats.spans >= waiting[i].spans) waiting.splice(i, 1)[0].answer();
};

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/stats") {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
    return;
  }
  const wait = request.method === "GET" && request.url?.startsWith("/wait?") ? Number(new URL(request.url, "http://sink").searchParams.get("spans")) : undefined;
  if (wait !== undefined && Number.isSafeInteger(wait)) {
    waiting.push({ spans: wait, answer: () => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats)) });
    answerWaiting();
    return;
  }
  if (request.method !== "POST" || request.url !== "/v1/traces") {
    request.resume();
    response.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    stats.exports++;
    stats.spans += countSpans(Buffer.concat(chunks));
    response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    answerWaiting();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`otlp sink listening on http://127.0.0.1:${port}/v1/traces`);
});

// Child process: the bench's floor, a bare Fastify server answering the bench routes with the
// bytes and headers Protogate sent for them (captured at start, see bench/floor-responses.ts),
// without any upstream call: what any Fastify server on this machine pays per request. The POST
// body is still read and JSON.parse'd by Fastify's own JSON parser, as a hand-written server would.
// Usage: floor-server.ts --responses FILE.json [--port N]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import Fastify from "fastify";
import type { CapturedResponse, CapturedResponses } from "./floor-responses.js";

const { values } = parseArgs({ options: { responses: { type: "string" }, port: { type: "string", default: "0" } } });
if (!values.responses) throw new Error("--responses FILE.json is required");
const captured = JSON.parse(readFileSync(values.responses, "utf8")) as CapturedResponses;

/** The answer for a route id, decoded once: the handlers only write prepared bytes. */
function prepared(routeId: string): { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: Buffer } {
  const answer: CapturedResponse | undefined = captured[routeId];
  if (answer === undefined) throw new Error(`${values.responses} has no response for route ${routeId}`);
  return { status: answer.status, headers: answer.headers, body: Buffer.from(answer.bodyBase64, "base64") };
}

const getUser = prepared("get-user");
const searchUsers = prepared("search-users");

const app = Fastify({ logger: false });
// Parametric, as a hand-written server (and bench/handwritten-proxy.ts) would route it.
app.get("/v1/users/:userId", (_request, reply) => {
  void reply.code(getUser.status).headers(getUser.headers).send(getUser.body);
});
app.post<{ Body: unknown }>("/v1/users::search", (request, reply) => {
  // Fastify has read and parsed the JSON body by now; a body that is not an object is refused, so
  // the parse cannot be skipped unnoticed.
  if (typeof request.body !== "object" || request.body === null) {
    void reply.code(400).send({ message: "expected a JSON object" });
    return;
  }
  void reply.code(searchUsers.status).headers(searchUsers.headers).send(searchUsers.body);
});

const address = await app.listen({ host: "127.0.0.1", port: Number(values.port) });
console.log(`floor listening on ${address}`);
const stop = () => void app.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

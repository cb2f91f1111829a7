// Child process: the baseline, a REST proxy as a team would write it by hand for these two
// routes (Fastify + @grpc/proto-loader + grpc-js, proto-loader's lenient JSON objects).
// Usage: handwritten-proxy.ts --upstream HOST:PORT [--port N]
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyReply } from "fastify";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const { values } = parseArgs({ options: { upstream: { type: "string" }, port: { type: "string", default: "0" } } });
if (!values.upstream) throw new Error("--upstream HOST:PORT is required");

const definition = protoLoader.loadSync("demo/v1/user.proto", {
  includeDirs: [fileURLToPath(new URL("../proto", import.meta.url)), fileURLToPath(new URL("../node_modules/google-proto-files", import.meta.url))],
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
// Boundary: loadPackageDefinition is untyped; these are the two methods the proxy calls.
type Unary = (request: object, callback: (error: grpc.ServiceError | null, response?: object) => void) => grpc.ClientUnaryCall;
const demo = grpc.loadPackageDefinition(definition).demo as grpc.GrpcObject;
const UserService = (demo.v1 as grpc.GrpcObject).UserService as grpc.ServiceClientConstructor;
const client = new UserService(values.upstream, grpc.credentials.createInsecure()) as unknown as Record<"GetUser" | "SearchUsers", Unary>;

const HTTP_STATUS: Partial<Record<grpc.status, number>> = {
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.FAILED_PRECONDITION]: 400,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
};

function forward(method: Unary, request: object, reply: FastifyReply): void {
  method.call(client, request, (error, response) => {
    if (error) void reply.code(HTTP_STATUS[error.code] ?? 500).send({ code: error.code, message: error.details });
    else void reply.send(response);
  });
}

const app = Fastify({ logger: false });
app.get<{ Params: { userId: string } }>("/v1/users/:userId", (request, reply) => {
  forward(client.GetUser, { userId: request.params.userId }, reply);
});
app.post<{ Body: object }>("/v1/users::search", (request, reply) => {
  forward(client.SearchUsers, request.body ?? {}, reply);
});

const address = await app.listen({ host: "127.0.0.1", port: Number(values.port) });
console.log(`handwritten proxy listening on ${address}`);
const stop = () => void app.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

import { Metadata, status } from "@grpc/grpc-js";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { encodeRpcStatus } from "../../src/errors/rpc-status.js";
import { send, startTestGateway, startUserBackend, type TestResponse } from "./support/gateway-harness.js";

/** google.rpc.BadRequest{field_violations: [{field: "user_id", description: "bad"}]}, encoded by hand. */
const badRequest = new BinaryWriter().tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("user_id").tag(2, WireType.LengthDelimited).string("bad").join().finish();

const user = (userId: string) => ({ userId, displayName: "Ada", email: "ada@example.com", role: 0, labels: new Map([["team", "core"]]), tags: ["a"], balanceCents: "12" });

const TRANSPORTS = ["http2", "wire", "grpc-js"] as const;

/** What the client sees of a response, minus the one header that differs by time. */
function comparable(response: TestResponse): { status: number; headers: Array<[string, string]>; body: string } {
  const headers = [...response.headers.entries()].filter(([name]) => name !== "date");
  return { status: response.status, headers, body: response.text };
}

describe("the http2, wire and grpc-js transports give byte-identical REST responses", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  const gateways = new Map<string, RunningGateway>();

  beforeAll(async () => {
    backend = await startUserBackend({
      getUser: (call, callback) => {
        const { userId } = call.request as { userId: string };
        const headers = new Metadata();
        headers.set("x-served-by", "backend-1");
        headers.add("x-multi", "a");
        headers.add("x-multi", "b");
        headers.set("x-trace-bin", Buffer.from([1, 2, 3]));
        const trailers = new Metadata();
        trailers.set("x-cost", "7");
        trailers.add("x-t-bin", Buffer.from([4]));
        trailers.add("x-t-bin", Buffer.from([5, 6]));
        switch (userId) {
          case "ok":
            call.sendMetadata(headers);
            return callback(null, user(userId), trailers);
          case "missing":
            return callback({ code: status.NOT_FOUND, details: "no such user", metadata: trailers });
          case "headers-then-error":
            call.sendMetadata(headers);
            return callback({ code: status.FAILED_PRECONDITION, details: "after headers", metadata: trailers });
          case "details": {
            const withDetails = new Metadata();
            const rpcStatus = encodeRpcStatus({ code: status.INVALID_ARGUMENT, message: "bad id", details: [{ typeUrl: "type.googleapis.com/google.rpc.BadRequest", value: badRequest }] });
            withDetails.set("grpc-status-details-bin", Buffer.from(rpcStatus));
            return callback({ code: status.INVALID_ARGUMENT, details: "bad id", metadata: withDetails });
          }
          case "unicode":
            return callback({ code: status.ABORTED, details: "conflit café ✓ 100% sûr\nsecond line" });
          case "unavailable":
            return callback({ code: status.UNAVAILABLE, details: "database is down" });
          default:
            return callback(null, user(userId));
        }
      },
    });
    for (const transport of TRANSPORTS) {
      gateways.set(transport, await startTestGateway({}, { upstreams: { "demo.v1.UserService": { address: backend.address, transport } } }));
    }
  });
  afterAll(async () => {
    for (const gateway of gateways.values()) await gateway.close();
    await backend?.close();
  });

  it.each(["ok", "missing", "headers-then-error", "details", "unicode", "unavailable", "plain"])("GET /v1/users/%s", async (userId) => {
    const [http2, wire, grpcJs] = await Promise.all(TRANSPORTS.map((transport) => send(gateways.get(transport)!.url, "GET", `/v1/users/${userId}`, { headers: { "x-request-id": "r-1" } })));
    expect(comparable(http2)).toEqual(comparable(grpcJs));
    expect(comparable(wire)).toEqual(comparable(http2));
    expect(http2.status).not.toBe(500);
  });

  it("really compared the two clients (each identifies itself to the backend)", () => {
    const agents = new Set(backend.calls.map((call) => String(call.metadata.get("user-agent")[0])));
    expect([...agents].sort()).toEqual(["protogate", expect.stringMatching(/^protogate grpc-node-js\//)]);
  });

  it("passes the upstream's metadata through on success and on errors", async () => {
    const ok = await send(gateways.get("http2")!.url, "GET", "/v1/users/ok");
    expect(ok.headers.get("grpc-metadata-x-multi")).toBe("a, b");
    expect(ok.headers.get("grpc-metadata-x-t-bin")).toBe("BA==, BQY=");
    const missing = await send(gateways.get("http2")!.url, "GET", "/v1/users/missing");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("grpc-metadata-x-cost")).toBe("7");
  });

  it.each(TRANSPORTS)("returns the header metadata sent before an error as well as the trailers, every value (%s)", async (transport) => {
    const response = await send(gateways.get(transport)!.url, "GET", "/v1/users/headers-then-error");
    expect(response.status).toBe(400);
    expect(response.headers.get("grpc-metadata-x-served-by")).toBe("backend-1");
    expect(response.headers.get("grpc-metadata-x-multi")).toBe("a, b");
    expect(response.headers.get("grpc-metadata-x-t-bin")).toBe("BA==, BQY=");
    expect(response.headers.get("grpc-metadata-x-cost")).toBe("7");
  });

  it("the same 503 for an upstream that is down", async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    const responses: TestResponse[] = [];
    for (const transport of TRANSPORTS) {
      const gateway = await startTestGateway({}, { upstreams: { "demo.v1.UserService": { address: `127.0.0.1:${port}`, transport } } });
      try {
        responses.push(await send(gateway.url, "GET", "/v1/users/u-1", { headers: { "x-request-id": "r-down" } }));
      } finally {
        await gateway.close();
      }
    }
    expect(responses[0].status).toBe(503);
    expect(comparable(responses[1])).toEqual(comparable(responses[0]));
    expect(comparable(responses[2])).toEqual(comparable(responses[0]));
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { User } from "../../generated/demo/v1/user.js";
import { createPipelineHarness, gatewayRequest, type PipelineHarness } from "./support/pipeline-harness.js";

/*
 * The pipeline with a scripted upstream: what an upstream's reply that the gateway cannot decode
 * turns into, and that it is not logged as a gateway bug.
 */

const nest = (times: number, leaf: unknown): unknown => {
  let json = leaf;
  for (let i = 0; i < times; i++) json = { a: json };
  return json;
};

describe("replies the gateway cannot decode (pipeline, scripted upstream)", () => {
  let reply: Uint8Array = new Uint8Array(0);
  let harness: PipelineHarness;

  beforeAll(async () => {
    harness = await createPipelineHarness();
    harness.upstream.unary = async () => ({ response: reply, headers: [], trailers: [] });
  });
  afterAll(() => harness?.close());

  const getUser = () => harness.pipeline.handle(gatewayRequest("GET", "/v1/users/u-1"));
  const errors = () => harness.errors;

  it.each([
    ["nested beyond the decoder's 100 message levels", () => User.encode({ ...User.decode(new Uint8Array(0)), profile: nest(40, 1) as Record<string, unknown> }).finish(), /nested more than 100 message levels/],
    ["malformed bytes", () => Uint8Array.from([0x4a, 0x7f, 0x01]), /malformed protobuf bytes/],
  ])("regression: a reply %s was a 500 with an internal-error log line; it is a 502 PG_ERR_UPSTREAM_BAD_RESPONSE", async (_name, bytes, detail) => {
    reply = bytes();
    harness.errors.length = 0;
    const response = await getUser();
    expect(response.status).toBe(502);
    const body = JSON.parse(String(response.body)) as { code: number; message: string; details: Array<{ reason?: string }> };
    expect(body.code).toBe(13);
    expect(body.message).toMatch(detail);
    expect(body.message).toContain("/demo.v1.UserService/GetUser");
    expect(body.details[0].reason).toBe("PG_ERR_UPSTREAM_BAD_RESPONSE");
    expect(errors()).toEqual([]);
  });

  it("a reply at the limit is rendered", async () => {
    // User 1 > Struct 2 > entry 3 > Value 4 > Struct 5 ...: 32 objects with a number at level 98.
    const profile = nest(32, 1) as Record<string, unknown>;
    reply = User.encode({ ...User.decode(new Uint8Array(0)), profile }).finish();
    const response = await getUser();
    expect(response.status).toBe(200);
    expect(JSON.parse(String(response.body))).toEqual({ profile });
  });
});

describe("upstream failures in the log", () => {
  it("regression: a failed upstream call was logged without its cause; it is one warning per interval naming the RPC, the error and its code", async () => {
    const { GrpcCode } = await import("../../src/errors/grpc-code.js");
    const { UpstreamError } = await import("../../src/upstream/upstream-error.js");
    const harness = await createPipelineHarness();
    try {
      harness.upstream.unary = async (call) => {
        const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:50051"), { code: "ECONNREFUSED" });
        throw new UpstreamError({ rpcPath: call.rpcPath, timeoutMs: 1000 }, { origin: "connection", code: GrpcCode.UNAVAILABLE, message: "connect ECONNREFUSED 127.0.0.1:50051", cause: refused });
      };
      for (let i = 0; i < 5; i++) expect((await harness.pipeline.handle(gatewayRequest("GET", "/v1/users/u-1"))).status).toBe(503);
      expect(harness.warnings).toEqual([
        {
          message: "upstream call failed",
          details: { rpc: "/demo.v1.UserService/GetUser", origin: "connection", error: "connect ECONNREFUSED 127.0.0.1:50051", code: "ECONNREFUSED", reason: "PG_ERR_UPSTREAM_UNAVAILABLE", requestId: "test-request" },
        },
      ]);
    } finally {
      await harness.close();
    }
  });
});

describe("the internal-error log line", () => {
  it("names the request by its ID and path, never its query string (which can carry credentials)", async () => {
    const harness = await createPipelineHarness({ transcoding: { ignoreUnknownQueryParameters: true } });
    try {
      const bug = new Error("a bug");
      harness.upstream.unary = async () => {
        throw bug;
      };
      const response = await harness.pipeline.handle(gatewayRequest("GET", "/v1/users/u-1?api_key=query-secret-123"));
      expect(response.status).toBe(500);
      expect(harness.errors).toEqual([{ message: "internal error", details: { err: bug, method: "GET", path: "/v1/users/u-1", requestId: "test-request" } }]);
      expect(JSON.stringify(harness.errors)).not.toContain("query-secret-123");
    } finally {
      await harness.close();
    }
  });
});

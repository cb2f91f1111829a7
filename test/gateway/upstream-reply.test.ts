import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { User } from "../../generated/demo/v1/user.js";
import { createEdgeAuth, type EdgeAuth } from "../../src/auth/edge-auth.js";
import { configFromObject } from "../../src/config/load-config.js";
import { createGatewayPipeline, type GatewayPipeline } from "../../src/gateway/handler.js";
import { rateLimiterFromConfig } from "../../src/ratelimit/create-rate-limiter.js";
import type { RateLimiter } from "../../src/ratelimit/rate-limiter.js";
import { createCodecRegistry } from "../../src/transcode/json/codec-registry.js";
import type { UnaryResult } from "../../src/upstream/upstream.js";
import { demoGenerated } from "../e2e/support/gateway-harness.js";

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
  const errors: Array<{ details: object; message: string }> = [];
  let pipeline: GatewayPipeline;
  let auth: EdgeAuth;
  let rateLimiter: RateLimiter;

  beforeAll(async () => {
    const generated = await demoGenerated();
    const config = configFromObject({ auth: { mode: "off" }, logging: { level: "silent" } }, { upstreams: { "demo.v1.UserService": "127.0.0.1:1" } });
    auth = await createEdgeAuth(config.auth);
    rateLimiter = await rateLimiterFromConfig(config.rateLimits, { error: () => undefined, warn: () => undefined, info: () => undefined });
    const upstream = {
      call: async (): Promise<UnaryResult> => ({ response: reply, headers: [], trailers: [] }),
      stream: () => {
        throw new Error("no streaming in this test");
      },
      close: () => undefined,
    };
    pipeline = createGatewayPipeline({
      config,
      bindings: generated.bindings,
      codecs: createCodecRegistry(generated.descriptorSet, { ignoreUnknownFields: false }),
      upstreams: { get: () => upstream, close: () => undefined },
      auth,
      rateLimiter,
      log: { error: (details, message) => errors.push({ details, message }) },
    });
  });
  afterAll(async () => {
    auth?.close();
    await rateLimiter?.close();
  });

  const getUser = () =>
    pipeline.handle({
      head: { method: "GET", url: "/v1/users/u-1", headers: {}, rawHeaders: [], client: { ip: "127.0.0.1", host: "localhost", protocol: "http" } },
      readBody: async () => undefined,
      signal: new AbortController().signal,
    });

  it.each([
    ["nested beyond the decoder's 100 message levels", () => User.encode({ ...User.decode(new Uint8Array(0)), profile: nest(40, 1) as Record<string, unknown> }).finish(), /nested more than 100 message levels/],
    ["malformed bytes", () => Uint8Array.from([0x4a, 0x7f, 0x01]), /malformed protobuf bytes/],
  ])("regression: a reply %s was a 500 with an internal-error log line; it is a 502 PG_ERR_UPSTREAM_BAD_RESPONSE", async (_name, bytes, detail) => {
    reply = bytes();
    errors.length = 0;
    const response = await getUser();
    expect(response.status).toBe(502);
    const body = JSON.parse(String(response.body)) as { code: number; message: string; details: Array<{ reason?: string }> };
    expect(body.code).toBe(13);
    expect(body.message).toMatch(detail);
    expect(body.message).toContain("/demo.v1.UserService/GetUser");
    expect(body.details[0].reason).toBe("PG_ERR_UPSTREAM_BAD_RESPONSE");
    expect(errors).toEqual([]);
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

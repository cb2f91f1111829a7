import { describe, expect, it } from "vitest";
import { User } from "../../generated/demo/v1/user.js";
import { bodyText, createPipelineHarness, gatewayRequest } from "../gateway/support/pipeline-harness.js";

const dashboard = (onError: string) => ({
  name: "dash",
  path: "/api/dash/{userId}",
  calls: { user: { rpc: "demo.v1.UserService.GetUser", request: { user_id: { path: "userId" } }, select: ["userId"], onError } },
});
const userReply = (userId: string) => ({ response: User.encode({ ...User.decode(new Uint8Array(0)), userId }).finish(), headers: [], trailers: [] });

describe("aggregate rate limits", () => {
  it("the aggregate's own limit (selector aggregate.NAME) answers 429 before any call, with its RateLimit fields on the 200s", async () => {
    const harness = await createPipelineHarness({
      aggregates: [dashboard("fail")],
      rateLimits: { limits: [{ name: "dash", key: "ip", requests: 1, periodSeconds: 60, methods: ["aggregate.dash"] }] },
    });
    let calls = 0;
    harness.upstream.unary = async () => {
      calls++;
      return userReply("u-1");
    };
    const first = await harness.pipeline.handle(gatewayRequest("GET", "/api/dash/u-1"));
    expect(first.status).toBe(200);
    expect(first.headers.ratelimit).toBeDefined();
    expect(JSON.parse(await bodyText(first))).toEqual({ user: { userId: "u-1" } });
    const second = await harness.pipeline.handle(gatewayRequest("GET", "/api/dash/u-1"));
    expect(second.status).toBe(429);
    expect(calls).toBe(1);
    await harness.close();
  });

  it("each call counts against its method's limits, as if the client had called it: over the limit, the call's policy applies", async () => {
    const harness = await createPipelineHarness({
      aggregates: [dashboard("partial")],
      rateLimits: { limits: [{ name: "users", key: "ip", requests: 1, periodSeconds: 60, methods: ["demo.v1.UserService.GetUser"] }] },
    });
    harness.upstream.unary = async () => userReply("u-1");
    // The REST route and the aggregate's call share the method's bucket.
    expect((await harness.pipeline.handle(gatewayRequest("GET", "/v1/users/u-1"))).status).toBe(200);
    const limited = await harness.pipeline.handle(gatewayRequest("GET", "/api/dash/u-1"));
    expect(limited.status).toBe(200);
    const body = JSON.parse(await bodyText(limited)) as { errors: { user: { code: number; message: string } } };
    expect(body.errors.user.code).toBe(8);
    expect(body.errors.user.message).toMatch(/rate limit exceeded \(users\)/);
    await harness.close();
  });
});

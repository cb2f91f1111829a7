import { credentials, Metadata, status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PostMessagesResponse } from "../../generated/demo/v1/chat.js";
import { UserServiceClient, type User } from "../../generated/demo/v1/user.js";
import { startDemoBackends } from "../../src/demo/index.js";
import { toTimestamp } from "../../src/demo/timestamps.js";
import { collect } from "./support/chat-harness.js";
import { callUnary, FIXED_NOW, ok, startDemoHarness, statusDetails, type DemoHarness } from "./support/demo-harness.js";

let demo: DemoHarness;
beforeEach(async () => {
  demo = await startDemoHarness();
});
afterEach(async () => {
  await demo.close();
});

const withRequestId = (id: string) => {
  const metadata = new Metadata();
  metadata.set("x-request-id", id);
  return metadata;
};

describe("startDemoBackends", () => {
  it("serves the five demo services on one loopback address", () => {
    expect(demo.backends.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(demo.backends.address).not.toBe("127.0.0.1:0");
    expect(demo.backends.services).toEqual(["demo.v1.UserService", "demo.v1.OrderService", "demo.v1.PaymentService", "demo.v1.ChatService", "demo.v1.RecommendationService"]);
  });

  it("serves the ChatService, its post times from the demo's clock", async () => {
    const posted = await new Promise<PostMessagesResponse>((resolve, reject) => {
      const call = demo.chat.postMessages((error, response) => (error ? reject(error) : resolve(response)));
      call.write({ room: "lobby", author: "ada", text: "hello" });
      call.end();
    });
    expect(posted).toEqual({ count: 1, lastSequence: "1" });
    const { messages } = await collect(demo.chat.subscribe({ room: "lobby", replay: 1, limit: 1 }));
    expect(messages).toEqual([{ room: "lobby", sequence: "1", author: "ada", text: "hello", postTime: toTimestamp(FIXED_NOW) }]);
  });

  it("echoes x-request-id as header metadata and sets the served-by trailer", async () => {
    const outcome = await callUnary<User>((md, cb) => demo.users.getUser({ userId: "u-1" }, md, cb), withRequestId("req-123"));
    expect(outcome.error).toBeUndefined();
    expect(outcome.header.get("x-request-id")).toEqual(["req-123"]);
    expect(outcome.trailer.get("x-demo-served-by")).toEqual(["demo"]);
  });

  it("sends no x-request-id header when the request has none", async () => {
    const outcome = await callUnary<User>((md, cb) => demo.users.getUser({ userId: "u-1" }, md, cb));
    expect(outcome.header.get("x-request-id")).toEqual([]);
    expect(outcome.trailer.get("x-demo-served-by")).toEqual(["demo"]);
  });

  it("keeps the metadata on errors, with the status in grpc-status-details-bin", async () => {
    const outcome = await callUnary((md, cb) => demo.users.createUser({ user: undefined }, md, cb), withRequestId("req-err"));
    expect(outcome.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(outcome.header.get("x-request-id")).toEqual(["req-err"]);
    expect(outcome.trailer.get("x-demo-served-by")).toEqual(["demo"]);
    const details = statusDetails(outcome.error!);
    expect(details).toMatchObject({ code: status.INVALID_ARGUMENT, message: outcome.error!.details });
    expect(details?.details.map((detail) => detail.typeUrl)).toEqual(["type.googleapis.com/google.rpc.BadRequest"]);
  });

  it("sends no status details for errors without violations", async () => {
    const outcome = await callUnary((md, cb) => demo.users.getUser({ userId: "u-404" }, md, cb));
    expect(outcome.error?.code).toBe(status.NOT_FOUND);
    expect(statusDetails(outcome.error!)).toBeUndefined();
    expect(outcome.trailer.get("x-demo-served-by")).toEqual(["demo"]);
  });

  it("gives every instance its own store", async () => {
    const other = await startDemoBackends({ host: "127.0.0.1", port: 0 });
    const otherUsers = new UserServiceClient(other.address, credentials.createInsecure());
    try {
      await ok((md, cb) => demo.users.deleteUser({ userId: "u-2" }, md, cb));
      const survivor = await ok<User>((md, cb) => otherUsers.getUser({ userId: "u-2" }, md, cb));
      expect(survivor.displayName).toBe("Grace Hopper");
    } finally {
      otherUsers.close();
      await other.close();
    }
  });

  it("stops serving after close", async () => {
    const other = await startDemoBackends();
    await other.close();
    const client = new UserServiceClient(other.address, credentials.createInsecure());
    try {
      const deadline = new Date(Date.now() + 2_000);
      const outcome = await callUnary<User>((md, cb) => client.getUser({ userId: "u-1" }, md, { deadline }, cb));
      expect(outcome.error?.code).toBeOneOf([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);
    } finally {
      client.close();
    }
  });
});

import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { JoinLoaders, type JsonObject } from "../../src/graphql/join-loader.js";
import type { GraphqlJoin } from "../../src/graphql/schema-map.js";

const ONE_BY_ONE: GraphqlJoin = {
  type: "Order",
  protoType: "demo.v1.Order",
  field: "user",
  keyField: "userId",
  list: false,
  rpcPath: "/demo.v1.UserService/GetUser",
  requestType: "demo.v1.GetUserRequest",
  requestField: "userId",
  source: "test",
};
const BATCHED: GraphqlJoin = {
  ...ONE_BY_ONE,
  batch: { rpcPath: "/demo.v1.UserService/BatchGetUsers", requestType: "demo.v1.BatchGetUsersRequest", requestField: "userIds", responseField: "users", keyField: "userId" },
};

/** A fake RPC maker recording every call. */
function recordingRpc(answer: (rpcPath: string, request: JsonObject) => JsonObject) {
  const calls: Array<{ rpcPath: string; request: JsonObject }> = [];
  return {
    calls,
    rpc: (rpcPath: string, request: JsonObject) => {
      calls.push({ rpcPath, request });
      try {
        return Promise.resolve(answer(rpcPath, request));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
  };
}

describe("join loaders (one per join per request)", () => {
  it("without a batch RPC: one call per distinct key, however many objects ask", async () => {
    const { calls, rpc } = recordingRpc((_path, request) => ({ userId: request.userId, displayName: `name of ${String(request.userId)}` }));
    const loader = new JoinLoaders(rpc).loaderOf(ONE_BY_ONE);
    const users = await Promise.all(["u-1", "u-2", "u-1", "u-1"].map((key) => loader.load(key)));
    expect(users.map((u) => u?.displayName)).toEqual(["name of u-1", "name of u-2", "name of u-1", "name of u-1"]);
    expect(calls).toEqual([
      { rpcPath: "/demo.v1.UserService/GetUser", request: { userId: "u-1" } },
      { rpcPath: "/demo.v1.UserService/GetUser", request: { userId: "u-2" } },
    ]);
  });

  it("with a batch RPC: ONE call for the keys, results matched by key field (missing: null)", async () => {
    const { calls, rpc } = recordingRpc(() => ({ users: [{ userId: "u-2", displayName: "Grace" }, { userId: "u-1", displayName: "Ada" }] }));
    const loader = new JoinLoaders(rpc).loaderOf(BATCHED);
    const users = await Promise.all(["u-1", "u-2", "u-9", "u-1"].map((key) => loader.load(key)));
    expect(users.map((u) => u?.displayName ?? null)).toEqual(["Ada", "Grace", null, "Ada"]);
    expect(calls).toEqual([{ rpcPath: "/demo.v1.UserService/BatchGetUsers", request: { userIds: ["u-1", "u-2", "u-9"] } }]);
  });

  it("a failing key fails only its own loads", async () => {
    const denied = new GraphQLError("denied", { extensions: { code: "PERMISSION_DENIED" } });
    const { rpc } = recordingRpc((_path, request) => {
      if (request.userId === "u-2") throw denied;
      return { userId: request.userId };
    });
    const loader = new JoinLoaders(rpc).loaderOf(ONE_BY_ONE);
    const settled = await Promise.allSettled(["u-1", "u-2"].map((key) => loader.load(key)));
    expect(settled[0]).toEqual({ status: "fulfilled", value: { userId: "u-1" } });
    expect(settled[1]).toEqual({ status: "rejected", reason: denied });
  });

  it("keeps one loader per join for the request, and none across requests", () => {
    const { rpc } = recordingRpc(() => ({}));
    const loaders = new JoinLoaders(rpc);
    expect(loaders.loaderOf(ONE_BY_ONE)).toBe(loaders.loaderOf(ONE_BY_ONE));
    expect(loaders.loaderOf(BATCHED)).not.toBe(loaders.loaderOf(ONE_BY_ONE));
    expect(new JoinLoaders(rpc).loaderOf(ONE_BY_ONE)).not.toBe(loaders.loaderOf(ONE_BY_ONE));
  });
});

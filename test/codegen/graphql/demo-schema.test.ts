import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, type GraphQLObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { graphqlMap } from "../../../generated/graphql-map.js";
import { bindings } from "../../../generated/index.js";

const GENERATED = join(import.meta.dirname, "../../../generated");

// The demo's generated/schema.graphql, as `npm run generate` wrote it (.ci/run checks it is up to date).
describe("the demo's generated/schema.graphql", () => {
  const schema = buildSchema(readFileSync(join(GENERATED, "schema.graphql"), "utf8"));
  const fields = (type: string) => (schema.getType(type) as GraphQLObjectType).getFields();

  it("is valid and joins each order to its user through UserService.GetUser, batched by BatchGetUsers", () => {
    expect(String(fields("Order").userId.type)).toBe("String!");
    expect(String(fields("Order").user.type)).toBe("User");
    expect(graphqlMap.joins).toEqual([
      {
        type: "Order",
        protoType: "demo.v1.Order",
        field: "user",
        keyField: "userId",
        list: false,
        rpcPath: "/demo.v1.UserService/GetUser",
        requestType: "demo.v1.GetUserRequest",
        requestField: "userId",
        batch: { rpcPath: "/demo.v1.UserService/BatchGetUsers", requestType: "demo.v1.BatchGetUsersRequest", requestField: "userIds", responseField: "users", keyField: "userId" },
        source: expect.stringMatching(/^demo\/v1\/order\.proto:\d+$/),
      },
    ]);
  });

  it("makes User, Order and Payment federation entities, each resolved by its Get RPC with the key in the request", () => {
    expect(graphqlMap.entities.map((e) => `${e.type} @key(${e.keyField}) ${e.rpcPath} ${e.requestField}`)).toEqual([
      "Order @key(name) /demo.v1.OrderService/GetOrder name",
      "Payment @key(paymentId) /demo.v1.PaymentService/GetPayment paymentId",
      "User @key(userId) /demo.v1.UserService/GetUser userId",
    ]);
    for (const entity of graphqlMap.entities) {
      expect(String(fields(entity.type)[entity.keyField]?.type)).toBe("String!");
      expect(graphqlMap.types[entity.type]?.protoType).toBe(entity.protoType);
    }
  });

  it("has a root field for every served unary and server-streaming RPC, each calling a route of the route table", () => {
    const served = new Set(bindings.filter((b) => b.kind === "unary" || b.kind === "server").map((b) => b.rpcPath));
    expect(new Set(graphqlMap.operations.map((op) => op.rpcPath))).toEqual(served);
    for (const op of graphqlMap.operations) expect(Object.keys(fields(op.root))).toContain(op.field);
    // SearchUsers is a POST placed under Query by its (protogate.v1.graphql) option.
    expect(graphqlMap.operations.find((op) => op.rpcPath === "/demo.v1.UserService/SearchUsers")?.root).toBe("Query");
    expect(Object.keys(fields("Subscription"))).toEqual(["subscribe"]);
  });
});

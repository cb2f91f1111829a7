import { createFileRegistry, fromBinary, type DescMethod } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { graphqlMap } from "../../generated/graphql-map.js";
import { bindings } from "../../generated/index.js";
import { descriptorSetBase64 } from "../../generated/protogate.descriptors.js";
import { checkConfiguredJoins, joinsConfigSchema, type JoinConfig } from "../../src/graphql/join-config.js";

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(descriptorSetBase64, "base64")));
const servedAll = new Map<string, DescMethod>(
  bindings.map((b) => {
    const method = registry.getService(b.service)?.methods.find((m) => m.name === b.method);
    if (method === undefined) throw new Error(`no ${b.rpcPath} in the descriptors`);
    return [`${b.service}.${b.method}`, method];
  }),
);

const check = (entries: JoinConfig[], served = servedAll) => checkConfiguredJoins(entries, registry, served);

describe("gateway.yaml graphql.joins", () => {
  it("parses entries with defaults and rejects unknown keys and bad names", () => {
    expect(joinsConfigSchema.parse(undefined)).toEqual([]);
    expect(joinsConfigSchema.parse([{ field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder", requestField: "name" }])).toHaveLength(1);
    for (const bad of [
      [{ field: "demo.v1.Payment.order_name", name: "__order", rpc: "demo.v1.OrderService.GetOrder" }],
      [{ field: "order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder" }],
      [{ field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder", extra: 1 }],
      [{ field: "demo.v1.Payment.order_name", name: "order" }],
    ]) {
      expect(joinsConfigSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("gives the same join-table row as the proto option for the same declaration", () => {
    const batch = { rpc: "demo.v1.UserService.BatchGetUsers", requestField: "user_ids", responseField: "users", keyField: "user_id" };
    const { joins, problems } = check([{ field: "demo.v1.Order.user_id", name: "user", rpc: "demo.v1.UserService.GetUser", requestField: "user_id", batch }]);
    expect(problems).toEqual([]);
    const { type: _type, source: _source, ...fromOption } = graphqlMap.joins[0];
    const { source, ...fromConfig } = joins[0].data;
    expect(fromConfig).toEqual(fromOption);
    expect(source).toBe("gateway.yaml");
  });

  it("joins a message the team does not own: each payment to its order", () => {
    const { joins, problems } = check([{ field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder", requestField: "name" }]);
    expect(problems).toEqual([]);
    expect(joins.map((j) => j.data)).toEqual([
      { protoType: "demo.v1.Payment", field: "order", keyField: "orderName", list: false, rpcPath: "/demo.v1.OrderService/GetOrder", requestType: "demo.v1.GetOrderRequest", requestField: "name", source: "gateway.yaml" },
    ]);
    expect(joins[0].rpc.output.typeName).toBe("demo.v1.Order");
  });

  it.each([
    [{ field: "demo.v1.Payment.nope", name: "order", rpc: "demo.v1.OrderService.GetOrder" }, "gateway.yaml graphql.joins[0]: demo.v1.Payment.nope is not a field of a message in the generated protos (write package.Message.field_name)"],
    [{ field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder" }, 'gateway.yaml graphql.joins[0]: demo.v1.Payment.order_name: request_field "order_name" is not a field of demo.v1.GetOrderRequest'],
    [{ field: "demo.v1.Payment.amount_minor", name: "order", rpc: "demo.v1.OrderService.GetOrder", requestField: "name" }, "gateway.yaml graphql.joins[0]: demo.v1.Payment.amount_minor: request field demo.v1.GetOrderRequest.name must be a singular uint64 field, like the key"],
    [{ field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.Nope", requestField: "name" }, 'gateway.yaml graphql.joins[0]: demo.v1.Payment.order_name: join rpc "demo.v1.OrderService.Nope" names no RPC (write the full name: package.Service.Method)'],
    [{ field: "demo.v1.Payment.order_name", name: "room", rpc: "demo.v1.ChatService.Subscribe", requestField: "room" }, "gateway.yaml graphql.joins[0]: demo.v1.Payment.order_name: join rpc demo.v1.ChatService.Subscribe is server-streaming; a join calls a unary RPC"],
  ] satisfies [JoinConfig, string][])("reports a bad entry by its index: %o", (entry, problem) => {
    expect(check([entry])).toEqual({ joins: [], problems: [problem], skipped: [] });
  });

  it("leaves out (skipped, not a problem) an entry whose RPC the gateway does not serve", () => {
    const served = new Map(servedAll);
    served.delete("demo.v1.OrderService.GetOrder");
    const result = check([{ field: "demo.v1.Payment.order_name", name: "order", rpc: "demo.v1.OrderService.GetOrder", requestField: "name" }], served);
    expect(result.joins).toEqual([]);
    expect(result.problems).toEqual([]);
    expect(result.skipped).toEqual([
      'gateway.yaml graphql.joins[0]: demo.v1.Payment.order_name: join "order" is left out of the GraphQL schema: join rpc demo.v1.OrderService.GetOrder is not served by the gateway (it has no google.api.http rule, or --exclude leaves it out), and a join calls only RPCs the gateway serves',
    ]);
  });
});

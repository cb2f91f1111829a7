import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { graphqlMap } from "../../generated/graphql-map.js";
import { descriptorSetBase64 } from "../../generated/protogate.descriptors.js";
import { buildExecutableSchema, defaultJson, GraphqlSchemaError } from "../../src/graphql/executable-schema.js";
import { GRAPHQL_MAP_FORMAT, type GraphqlMap } from "../../src/graphql/schema-map.js";

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(descriptorSetBase64, "base64")));
const sdl = readFileSync(new URL("../../generated/schema.graphql", import.meta.url), "utf8");
const message = (typeName: string) => registry.getMessage(typeName);

describe("the executable schema", () => {
  it("gives every root field of the map a resolver, and Subscription fields one only with a subscribe source", () => {
    const schema = buildExecutableSchema({ sdl, map: graphqlMap, message });
    for (const op of graphqlMap.operations.filter((o) => o.root !== "Subscription")) {
      const root = op.root === "Query" ? schema.getQueryType() : schema.getMutationType();
      expect(root?.getFields()[op.field].resolve, op.field).toBeTypeOf("function");
    }
    expect(schema.getSubscriptionType()?.getFields().subscribe.subscribe).toBeUndefined();
    const withSubscriptions = buildExecutableSchema({ sdl, map: graphqlMap, message, subscribe: () => (async function* () {})() });
    expect(withSubscriptions.getSubscriptionType()?.getFields().subscribe.subscribe).toBeTypeOf("function");
  });

  it("refuses a map of another format, asking to regenerate", () => {
    const stale = { ...graphqlMap, format: GRAPHQL_MAP_FORMAT + 1 } as unknown as GraphqlMap;
    expect(() => buildExecutableSchema({ sdl, map: stale, message })).toThrow(GraphqlSchemaError);
    expect(() => buildExecutableSchema({ sdl, map: stale, message })).toThrow(/run protogate generate again/);
  });

  it("refuses a map naming a root field the schema lacks", () => {
    const drifted: GraphqlMap = { ...graphqlMap, operations: [...graphqlMap.operations, { ...graphqlMap.operations[0], field: "gone" }] };
    expect(() => buildExecutableSchema({ sdl, map: drifted, message })).toThrow(/Query\.gone/);
  });

  it.each([
    ["demo.v1.User", "displayName", ""],
    ["demo.v1.User", "balanceCents", "0"],
    ["demo.v1.User", "role", "ROLE_UNSPECIFIED"],
    ["demo.v1.User", "tags", []],
    ["demo.v1.User", "labels", {}],
    ["demo.v1.User", "nickname", undefined],
    ["demo.v1.User", "createTime", undefined],
    ["demo.v1.Order", "discountRate", 0],
    ["demo.v1.Order", "shippingAddress", undefined],
    ["demo.v1.Payment", "fingerprint", ""],
  ])("the proto3 default of %s.%s is %j (undefined: none, the field may be null)", (type, field, expected) => {
    const desc = message(type)?.fields.find((f) => f.jsonName === field);
    expect(desc).toBeDefined();
    expect(defaultJson(desc!)).toEqual(expected);
  });
});

import { buildSchema, GraphQLError, type GraphQLInputObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { entriesToObject, inputToProtoJson, objectToEntries } from "../../src/graphql/input-json.js";
import type { GraphqlType } from "../../src/graphql/schema-map.js";

const schema = buildSchema(`
  type Query { x: Int }
  input ThingInput { name: String, labels: [Thing_LabelsEntryInput!], children: [ThingInput!], a: String, b: String, counts: [Thing_CountsEntryInput!] }
  input Thing_LabelsEntryInput { key: String!, value: String! }
  input Thing_CountsEntryInput { key: Int!, value: ThingInput! }
`);
const types: Record<string, GraphqlType> = {
  ThingInput: { kind: "input", protoType: "t.Thing", oneofs: [{ name: "choice", fields: ["a", "b"] }], mapEntries: ["labels", "counts"] },
};
const thing = schema.getType("ThingInput") as GraphQLInputObjectType;
const convert = (value: Record<string, unknown>) => inputToProtoJson(value, Object.values(thing.getFields()), types.ThingInput, types, "thing");

describe("GraphQL input values as proto3 JSON", () => {
  it.each([
    { name: "plain fields pass through", input: { name: "x" }, json: { name: "x" } },
    { name: "nulls are left out (proto3's default)", input: { name: null, a: null }, json: {} },
    { name: "map entries become an object; a later entry wins", input: { labels: [{ key: "k", value: "1" }, { key: "j", value: "2" }, { key: "k", value: "3" }] }, json: { labels: { k: "3", j: "2" } } },
    { name: "an empty entry list is an empty map", input: { labels: [] }, json: { labels: {} } },
    { name: "integer map keys become strings; message values are converted too", input: { counts: [{ key: 7, value: { labels: [{ key: "a", value: "b" }] } }] }, json: { counts: { "7": { labels: { a: "b" } } } } },
    { name: "nested input objects are converted", input: { children: [{ labels: [{ key: "x", value: "y" }] }] }, json: { children: [{ labels: { x: "y" } }] } },
    { name: "one member of a oneof is fine", input: { a: "1", b: null }, json: { a: "1" } },
  ])("$name", ({ input, json }) => {
    expect(convert(input)).toEqual(json);
  });

  it("refuses two members of a oneof, at any depth, naming the oneof and where", () => {
    for (const [input, where] of [
      [{ a: "1", b: "2" }, "thing"],
      [{ children: [{ name: "ok" }, { a: "1", b: "2" }] }, "thing.children[1]"],
    ] as const) {
      let thrown: unknown;
      try {
        convert(input);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(GraphQLError);
      const error = thrown as GraphQLError;
      expect(error.message).toContain(`${where}: a and b are members of oneof choice`);
      expect(error.extensions).toEqual({ code: "BAD_USER_INPUT", oneof: "choice" });
    }
  });

  it("map objects of replies become entry lists, in key order", () => {
    expect(objectToEntries({ b: 1, a: { x: 2 } })).toEqual([
      { key: "b", value: 1 },
      { key: "a", value: { x: 2 } },
    ]);
    expect(objectToEntries(undefined)).toEqual([]);
    // And back: entries -> object -> entries keeps them.
    const entries = [
      { key: "team", value: "engines" },
      { key: "tier", value: "gold" },
    ];
    expect(objectToEntries(entriesToObject(entries, thing.getFields().labels.type, types, "t"))).toEqual(entries);
  });
});

import { describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { createResponseShaper } from "../../src/transcode/response-shaper.js";
import * as kitchenGen from "../fixtures/kitchen/gen/kitchen/v1/kitchen.js";
import { gatewayErrorOf, kitchen, replyBinding } from "./json/kitchen-fixture.js";

type Obj = Record<string, unknown>;
const empty = (type: "GetThingRequest" | "UploadRequest" | "Inner" | "Tree"): Obj => kitchenGen[type].decode(new Uint8Array(0)) as unknown as Obj;
/** The shaper of a binding, fed the upstream's bytes of a message object. */
const shaper = (responseType: string, responseBody = "") => {
  const shape = createResponseShaper(kitchen, replyBinding(responseType, responseBody));
  return (message: Obj) => shape(kitchen.plan(responseType).encode(message));
};
const thing = (patch: Obj): Obj => ({ ...empty("GetThingRequest"), ...patch });

describe("createResponseShaper", () => {
  it("renders the whole message as proto3 JSON by default", () => {
    const shape = shaper("kitchen.v1.GetThingRequest");
    expect(shape(thing({ name: "n", id: "5", color: 1 }))).toEqual({ contentType: "application/json", body: '{"name":"n","id":"5","color":"COLOR_RED"}' });
    expect(shape(thing({}))).toEqual({ contentType: "application/json", body: "{}" });
  });

  it.each([
    ["name", { name: "n" }, '"n"'],
    ["name", {}, '""'],
    ["id", {}, '"0"'],
    ["flag", {}, "false"],
    ["ratio", { ratio: NaN }, '"NaN"'],
    ["filter", {}, "null"],
    ["filter", { filter: "" }, '""'],
    ["tags", {}, "[]"],
    ["tags", { tags: ["a"] }, '["a"]'],
    ["labels", {}, "{}"],
    ["labels", { labels: new Map([["k", "v"]]) }, '{"k":"v"}'],
    ["inner", {}, "{}"],
    ["inner", { inner: { ...empty("Inner"), name: "x" } }, '{"name":"x"}'],
    ["at", {}, "null"],
    ["at", { at: { seconds: "0", nanos: 0 } }, '"1970-01-01T00:00:00Z"'],
    ["limit", {}, "null"],
    ["limit", { limit: 0 }, "0"],
    ["attrs", {}, "{}"],
    ["attrs", { attrs: { a: 1 } }, '{"a":1}'],
    ["dyn", {}, "null"],
    ["dyn", { dyn: null }, "null"],
    ["dyn", { dyn: [1] }, "[1]"],
    ["read_mask", { readMask: ["a_b"] }, '"aB"'],
    ["tree.left", {}, "{}"],
    ["tree.left", { tree: { ...empty("Tree"), left: { ...empty("Tree"), nodeName: "deep" } } }, '{"nodeName":"deep"}'],
    ["tree.left.node_name", { tree: { ...empty("Tree"), left: { ...empty("Tree"), nodeName: "deep" } } }, '"deep"'],
  ])("response_body %s of %j renders %s", (field, patch, body) => {
    expect(shaper("kitchen.v1.GetThingRequest", field)(thing(patch))).toEqual({ contentType: "application/json", body });
  });

  it("sends an HttpBody response raw, with its content type", () => {
    const shape = shaper("google.api.HttpBody");
    expect(shape({ contentType: "text/csv", data: Buffer.from("a,b"), extensions: [] })).toEqual({ contentType: "text/csv", body: Buffer.from("a,b") });
    expect(shape({ contentType: "", data: new Uint8Array([1, 2]), extensions: [] })).toEqual({ contentType: "application/octet-stream", body: Buffer.from([1, 2]) });
  });

  it("sends an HttpBody response_body field raw", () => {
    const shape = shaper("kitchen.v1.UploadRequest", "file");
    expect(shape({ ...empty("UploadRequest"), file: { contentType: "image/png", data: Buffer.from([9]), extensions: [] } })).toEqual({ contentType: "image/png", body: Buffer.from([9]) });
    expect(shape(empty("UploadRequest"))).toEqual({ contentType: "application/octet-stream", body: Buffer.alloc(0) });
  });

  it("turns a message with no JSON form into INTERNAL", () => {
    const error = gatewayErrorOf(() => shaper("kitchen.v1.GetThingRequest")(thing({ at: { seconds: "999999999999", nanos: 0 } })));
    expect(error.code).toBe(GrpcCode.INTERNAL);
    expect(error.message).toContain('field "at"');
    expect(gatewayErrorOf(() => shaper("kitchen.v1.GetThingRequest", "attrs")(thing({ attrs: { a: NaN } }))).code).toBe(GrpcCode.INTERNAL);
  });

  it("refuses a response_body that does not exist at start-up", () => {
    expect(() => shaper("kitchen.v1.GetThingRequest", "nope")).toThrow(/response_body "nope"/);
    expect(() => shaper("kitchen.v1.GetThingRequest", "tags.x")).toThrow(/response_body/);
  });
});

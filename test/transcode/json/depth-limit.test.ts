import { createFileRegistry, fromBinary, fromJson as esFromJson, toBinary, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MessageFns } from "../../../src/binding.js";
import { GrpcCode } from "../../../src/errors/grpc-code.js";
import { MAX_DEPTH } from "../../../src/transcode/json/json-policy.js";
import { parseJsonText } from "../../../src/transcode/json/parse-json.js";
import { createRequestBuilder } from "../../../src/transcode/request-builder.js";
import { createResponseShaper } from "../../../src/transcode/response-shaper.js";
import * as kitchenGen from "../../fixtures/kitchen/gen/kitchen/v1/kitchen.js";
import { fuzzRuns } from "../../support/fuzz.js";
import { bodyField, makeBinding } from "../binding-fixture.js";
import { gatewayErrorOf, kitchen, kitchenDescriptorSet } from "./kitchen-fixture.js";

/*
 * The depth limit counts protobuf message levels the way the binary decoders count them (root = 1;
 * every nested message, map entry, Struct, fields entry, Value and ListValue one more), so every
 * request the codec accepts also decodes, in ts-proto (the gateway's own decoder and a ts-proto
 * upstream's) and in C++/Java/python (which allow one level more). Each case below is built
 * exactly at the limit and one level beyond it; the decoder is the judge of where that is.
 */

type Obj = Record<string, unknown>;
const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, kitchenDescriptorSet));
const url = (type: string): string => `type.googleapis.com/${type}`;

/** `wrap` applied `times` times to `leaf`. */
function nest(times: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown {
  let json = leaf;
  for (let i = 0; i < times; i++) json = wrap(json);
  return json;
}

interface BoundaryCase {
  readonly name: string;
  readonly type: "WellKnown" | "Tree" | "Kitchen";
  /** Deepest message level exactly MAX_DEPTH. */
  readonly atLimit: unknown;
  /** Deepest message level MAX_DEPTH + 1. */
  readonly beyond: unknown;
}

// Levels, with WellKnown/Kitchen/Tree as the root (level 1):
const cases: readonly BoundaryCase[] = [
  {
    // WellKnown 1 > Struct 2 > entry 3 > Value 4 > Struct 5 ...: the n-th object is at 3n-1, a number in it at 3n+1.
    name: "google.protobuf.Struct (3 levels per JSON object)",
    type: "WellKnown",
    atLimit: { struct: nest(33, 1, (v) => ({ a: v })) },
    beyond: { struct: nest(33, {}, (v) => ({ a: v })) },
  },
  {
    // WellKnown 1 > ListValue 2 > Value 3 > ListValue 4 ...: the m-th array is at 2m, a number in it at 2m+1.
    name: "google.protobuf.ListValue (2 levels per JSON array)",
    type: "WellKnown",
    atLimit: { listValue: nest(49, [], (v) => [v]) },
    beyond: { listValue: nest(49, [1], (v) => [v]) },
  },
  {
    // WellKnown 1 > Value 2 > ListValue 3 > Value 4 ...: the m-th array is at 2m+1, a number in it at 2m+2.
    name: "google.protobuf.Value",
    type: "WellKnown",
    atLimit: { value: nest(49, 1, (v) => [v]) },
    beyond: { value: nest(50, [], (v) => [v]) },
  },
  {
    name: "a recursive message (singular field)",
    type: "Tree",
    atLimit: nest(99, {}, (v) => ({ left: v })),
    beyond: nest(100, {}, (v) => ({ left: v })),
  },
  {
    name: "a recursive message (repeated field)",
    type: "Tree",
    atLimit: nest(99, { nodeName: "leaf" }, (v) => ({ children: [v] })),
    beyond: nest(100, { nodeName: "leaf" }, (v) => ({ children: [v] })),
  },
  {
    // Kitchen 1 > Maps 2 > map entry 3 > Struct 4 > entry 5 > Value 6 > Struct 7 ...: the map entry
    // counts, so 32 objects holding an empty array reach 100, holding [1] reach 101.
    name: "a map entry (map<string, Struct>)",
    type: "Kitchen",
    atLimit: { maps: { stringStruct: { k: nest(31, { l: [] }, (v) => ({ a: v })) } } },
    beyond: { maps: { stringStruct: { k: nest(31, { l: [1] }, (v) => ({ a: v })) } } },
  },
];

function tsProto(type: "WellKnown" | "Tree" | "Kitchen"): MessageFns<Obj> {
  return kitchenGen[type] as unknown as MessageFns<Obj>;
}

/** protobuf-es's binary of the JSON, with its own JSON recursion limit out of the way. */
function bytesOf(type: string, json: unknown): Uint8Array {
  const desc = files.getMessage(`kitchen.v1.${type}`)!;
  return toBinary(desc, esFromJson(desc, json as JsonValue, { registry: files, recursionLimit: 100_000 }));
}

describe("regression: deep Struct nesting answered 500 (the limit counted JSON levels; decoders count message levels)", () => {
  it("a Struct nested 35 JSON levels is a 400 PG_ERR_TOO_DEEP, not a request no decoder accepts", () => {
    const json = { struct: nest(35, 1, (v) => ({ a: v })) };
    // What went wrong before: the decoder the upstream (and the gateway) uses fails on it.
    expect(() => tsProto("WellKnown").decode(bytesOf("WellKnown", json))).toThrow(/recursion limit/);
    const error = gatewayErrorOf(() => kitchen.codec("kitchen.v1.WellKnown").fromJson(json));
    expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(error.reason).toBe("PG_ERR_TOO_DEEP");
    expect(error.message).toMatch(/^field "struct\.a\.a\.a\.\(\.\.\.\)\.a\.a\.a\.a" is nested too deeply: more than 100 protobuf message levels/);
  });

  it("MAX_DEPTH is ts-proto's decode limit", () => {
    expect(MAX_DEPTH).toBe(100);
  });

  describe.each(cases)("$name", ({ type, atLimit, beyond }) => {
    const codec = kitchen.codec<Obj>(`kitchen.v1.${type}`);
    const fns = tsProto(type);

    it("at the limit: accepted, encoded and decoded by ts-proto, and printed back the same", () => {
      const message = codec.fromJson(atLimit);
      const decoded = fns.decode(fns.encode(message).finish());
      expect(codec.toJson(decoded)).toEqual(atLimit);
      // The decoder agrees that this is the limit: the same JSON's bytes decode.
      expect(() => fns.decode(bytesOf(type, atLimit))).not.toThrow();
    });

    it("one level beyond: a 400 PG_ERR_TOO_DEEP from the codec, where ts-proto's decoder would fail", () => {
      expect(() => fns.decode(bytesOf(type, beyond))).toThrow(/recursion limit/);
      const error = gatewayErrorOf(() => codec.fromJson(beyond));
      expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
      expect(error.reason).toBe("PG_ERR_TOO_DEEP");
    });

    it("the writer prints whatever the decoder accepts (its count is the same)", () => {
      const decoded = fns.decode(bytesOf(type, atLimit));
      expect(codec.toJson(decoded)).toEqual(atLimit);
    });
  });

  describe("google.protobuf.Any (its payload counts one level below the Any)", () => {
    // WellKnown 1 > Any 2 > Tree payload 3 > left 4 ...
    const treeAny = (lefts: number) => ({ any: { "@type": url("kitchen.v1.Tree"), ...(nest(lefts, {}, (v) => ({ left: v })) as Obj) } });
    // WellKnown 1 > Any 2 > Any 3 > ... > Empty: each Any nests one more level.
    const anyChain = (anys: number) => ({ any: nest(anys - 1, { "@type": url("google.protobuf.Empty") }, (v) => ({ "@type": url("google.protobuf.Any"), value: v })) });
    const codec = kitchen.codec<Obj>("kitchen.v1.WellKnown");

    it.each([
      ["an inlined message payload", treeAny(97), treeAny(98)],
      ["Anys inside Anys", anyChain(98), anyChain(99)],
      // WellKnown 1 > Any 2 > Struct 3 > entry 4 > Value 5 > Struct 6 ...: the n-th object at 3n, its values at 3n+2.
      ["a Struct payload", { any: { "@type": url("google.protobuf.Struct"), value: nest(32, [1], (v) => ({ a: v })) } }, { any: { "@type": url("google.protobuf.Struct"), value: nest(32, [[]], (v) => ({ a: v })) } }],
    ])("%s: accepted at the limit, 400 one level beyond", (_name, atLimit, beyond) => {
      const message = codec.fromJson(atLimit);
      expect(codec.toJson(tsProto("WellKnown").decode(tsProto("WellKnown").encode(message).finish()))).toEqual(atLimit);
      const error = gatewayErrorOf(() => codec.fromJson(beyond));
      expect(error.reason).toBe("PG_ERR_TOO_DEEP");
      expect(error.message).toContain('field "any');
    });

    it("a reply whose Any payload nests beyond the limit is a 502 (the upstream's fault), not a 500", () => {
      // The Any's bytes are opaque to ts-proto's decoder, so only the gateway's own decode of the payload sees the depth.
      const payload = bytesOf("Tree", nest(98, {}, (v) => ({ left: v }))); // levels 3..101 below the Any
      const message = { ...codec.fromJson({}), any: { typeUrl: url("kitchen.v1.Tree"), value: payload } };
      const error = gatewayErrorOf(() => codec.toJson(message));
      expect(error.code).toBe(GrpcCode.INTERNAL);
      expect(error.httpStatus).toBe(502);
      expect(error.reason).toBe("PG_ERR_UPSTREAM_BAD_RESPONSE");
      expect(error.message).toMatch(/nested too deeply at field "any"/);
      const fine = { ...message, any: { typeUrl: url("kitchen.v1.Tree"), value: bytesOf("Tree", nest(97, {}, (v) => ({ left: v }))) } };
      expect(() => codec.toJson(fine)).not.toThrow();
    });

    it("an Any payload that does not decode is a 502 as well", () => {
      const message = { ...codec.fromJson({}), any: { typeUrl: url("kitchen.v1.Tree"), value: Buffer.from([0x12, 0x05, 0x01]) } };
      const error = gatewayErrorOf(() => codec.toJson(message));
      expect(error.httpStatus).toBe(502);
      expect(error.reason).toBe("PG_ERR_UPSTREAM_BAD_RESPONSE");
    });
  });

  describe("through the request builder and the response path", () => {
    it("a body field starts counting at its place in the request message", () => {
      // GetThingRequest 1 > Tree 2 (body: "tree") > left 3 ...
      const build = createRequestBuilder(kitchen, makeBinding({ requestType: "kitchen.v1.GetThingRequest", body: bodyField("tree") }), { ignoreUnknownQueryParameters: false });
      const call = (json: unknown) => build({ variables: [], query: [], body: Buffer.from(JSON.stringify(json)), contentType: "application/json" });
      expect(() => call(nest(98, {}, (v) => ({ left: v })))).not.toThrow();
      const error = gatewayErrorOf(() => call(nest(99, {}, (v) => ({ left: v }))));
      expect(error.reason).toBe("PG_ERR_TOO_DEEP");
      expect(error.message).toMatch(/^field "tree\.left\./);
    });

    it("query parameters that nest fields (a.b.c=) are held to the same limit", () => {
      const build = createRequestBuilder(kitchen, makeBinding({ requestType: "kitchen.v1.GetThingRequest", httpMethod: "GET" }), { ignoreUnknownQueryParameters: false });
      // GetThingRequest 1 > tree 2 > left 3 ... : the field holding nodeName is at level 1 + lefts + 1.
      const query = (lefts: number): Array<[string, string]> => [[["tree", ...Array<string>(lefts).fill("left"), "nodeName"].join("."), "x"]];
      const message = build({ variables: [], query: query(98), body: undefined, contentType: undefined }) as Obj;
      expect(() => kitchenGen.GetThingRequest.decode(kitchenGen.GetThingRequest.encode(message as never).finish())).not.toThrow();
      const error = gatewayErrorOf(() => build({ variables: [], query: query(99), body: undefined, contentType: undefined }));
      expect(error.reason).toBe("PG_ERR_TOO_DEEP");
      expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
      // A Timestamp leaf is a message level of its own.
      const at = (lefts: number): Array<[string, string]> => [[["tree", ...Array<string>(lefts).fill("left"), "inner", "name"].join("."), "x"]];
      expect(gatewayErrorOf(() => build({ variables: [], query: at(98), body: undefined, contentType: undefined })).reason).toBe("PG_ERR_TOO_DEEP");
    });

    it("a reply nested beyond what ts-proto decodes is a 502 PG_ERR_UPSTREAM_BAD_RESPONSE", () => {
      const binding = { ...makeBinding({ requestType: "kitchen.v1.Tree" }), responseCodec: tsProto("Tree") as MessageFns<unknown> };
      const ok = bytesOf("Tree", nest(99, {}, (v) => ({ left: v })));
      const shape = createResponseShaper(kitchen, binding);
      expect(shape(ok).body).toBe(JSON.stringify(nest(99, {}, (v) => ({ left: v }))));
      const error = gatewayErrorOf(() => shape(bytesOf("Tree", nest(100, {}, (v) => ({ left: v })))));
      expect(error.code).toBe(GrpcCode.INTERNAL);
      expect(error.httpStatus).toBe(502);
      expect(error.reason).toBe("PG_ERR_UPSTREAM_BAD_RESPONSE");
      expect(error.message).toContain("nested more than 100 message levels");
      expect(gatewayErrorOf(() => shape(Buffer.from([0x12, 0x7f]))).httpStatus).toBe(502);
    });
  });

  it("JSON nested 10,000 deep is a clean 400, never a stack overflow", () => {
    for (const [type, text] of [
      ["Tree", `${'{"left":'.repeat(10_000)}{}${"}".repeat(10_000)}`],
      ["WellKnown", `{"value": ${"[".repeat(10_000)}${"]".repeat(10_000)}}`],
      ["WellKnown", `{"struct": {"a": ${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}}`],
      ["Kitchen", `{"maps": {"stringValue": {"k": ${"[".repeat(10_000)}${"]".repeat(10_000)}}}}`],
    ] as const) {
      expect(gatewayErrorOf(() => kitchen.codec(`kitchen.v1.${type}`).fromJson(parseJsonText(text))).reason).toBe("PG_ERR_TOO_DEEP");
    }
  });

  it("a cyclic object is an error on output, not a stack overflow", () => {
    const tree = kitchen.codec<Obj>("kitchen.v1.Tree").fromJson({});
    tree.left = tree;
    expect(gatewayErrorOf(() => kitchen.codec("kitchen.v1.Tree").toJson(tree)).code).toBe(GrpcCode.INTERNAL);
  });
});

describe("the depth rule agrees with ts-proto's decoder on random nesting (property)", () => {
  // Tree chains, and dynamic JSON (objects and arrays) under each place a Struct, Value or
  // ListValue can sit in a Kitchen (directly, or as a map value), sized around the limit.
  const treeJson = fc.array(fc.boolean(), { minLength: 95, maxLength: 102 }).map((steps) => ({
    tree: steps.reduceRight<unknown>((inner, left) => (left ? { left: inner } : { children: [inner] }), { nodeName: "leaf" }),
  }));
  const places: ReadonlyArray<(nested: unknown) => unknown> = [
    (nested) => ({ wellKnown: { struct: { k: nested } } }),
    (nested) => ({ wellKnown: { value: nested } }),
    (nested) => ({ wellKnown: { listValue: [nested] } }),
    (nested) => ({ maps: { stringStruct: { m: { k: nested } } } }),
    (nested) => ({ maps: { stringValue: { m: nested } } }),
    (nested) => ({ maps: { stringList: { m: [nested] } } }),
  ];
  const dynamicJson = fc
    .record({
      place: fc.constantFrom(...places),
      steps: fc.array(fc.boolean(), { minLength: 28, maxLength: 50 }),
      leaf: fc.constantFrom<unknown>(1, "s", null, true, {}, []),
    })
    .map(({ place, steps, leaf }) => place(steps.reduceRight<unknown>((inner, object) => (object ? { k: inner } : [inner]), leaf)));

  it("the codec accepts a request exactly when ts-proto can decode its bytes", () => {
    const codec = kitchen.codec<Obj>("kitchen.v1.Kitchen");
    const fns = tsProto("Kitchen");
    fc.assert(
      fc.property(fc.oneof(treeJson, dynamicJson), (json) => {
        let decoderAccepts = true;
        try {
          fns.decode(bytesOf("Kitchen", json));
        } catch {
          decoderAccepts = false;
        }
        let message: Obj | undefined;
        try {
          message = codec.fromJson(json);
        } catch (error) {
          expect((error as { reason?: string }).reason).toBe("PG_ERR_TOO_DEEP");
        }
        expect(message !== undefined).toBe(decoderAccepts);
        if (message !== undefined) expect(codec.toJson(fns.decode(fns.encode(message).finish()))).toEqual(codec.toJson(message));
      }),
      fuzzRuns(200),
    );
  });
});

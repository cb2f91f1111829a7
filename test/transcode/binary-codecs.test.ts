import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createBinaryCodecs, RECURSION_LIMIT_MESSAGE } from "../../src/transcode/binary-codecs.js";
import { decodeReply } from "../../src/transcode/decode-reply.js";
import { MAX_DEPTH } from "../../src/transcode/json/json-policy.js";
import * as kitchenGen from "../fixtures/kitchen/gen/kitchen/v1/kitchen.js";
import { fuzzRuns } from "../support/fuzz.js";
import { arbitraryMessage } from "./json/arbitrary-message.js";
import { kitchenDescriptorSet } from "./json/kitchen-fixture.js";

const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, kitchenDescriptorSet));
const codecOf = createBinaryCodecs(files);
const types = ["Scalars", "Optionals", "Maps", "Oneofs", "WellKnown", "Tree", "Kitchen", "GetThingRequest"] as const;
const runs = fuzzRuns(150);

/** The runtime's codecs (from the descriptor set) stand in for ts-proto's generated ones: same bytes, same objects. */
describe.each(types)("binary codec of kitchen.v1.%s", (type) => {
  const codec = codecOf(`kitchen.v1.${type}`);
  const tsProto = kitchenGen[type] as unknown as { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): unknown };
  const messages = arbitraryMessage(files.getMessage(`kitchen.v1.${type}`)!);

  it("encodes to the bytes ts-proto writes", () => {
    fc.assert(
      fc.property(messages, (message) => {
        expect(Buffer.from(codec.encode(message).finish())).toEqual(Buffer.from(tsProto.encode(message).finish()));
      }),
      runs,
    );
  });

  it("decodes ts-proto's bytes to the object ts-proto decodes", () => {
    fc.assert(
      fc.property(messages, (message) => {
        const bytes = tsProto.encode(message).finish();
        expect(codec.decode(bytes)).toStrictEqual(tsProto.decode(bytes));
      }),
      runs,
    );
  });
});

describe("createBinaryCodecs", () => {
  it("gives one codec per type, and names a type missing from the set", () => {
    expect(codecOf("kitchen.v1.Tree")).toBe(codecOf("kitchen.v1.Tree"));
    expect(() => codecOf("kitchen.v1.Nope")).toThrow("unknown message type kitchen.v1.Nope: it is not in the generated descriptor set; regenerate the folder");
  });

  it("reports a reply nested deeper than the limit as too deep, as ts-proto's decoder did", () => {
    // Tree { repeated Tree children = 3 } nested MAX_DEPTH + 1 levels.
    let bytes = new Uint8Array(0);
    for (let i = 0; i < MAX_DEPTH; i++) bytes = new BinaryWriter().tag(3, WireType.LengthDelimited).bytes(bytes).finish();
    expect(() => codecOf("kitchen.v1.Tree").decode(new BinaryWriter().tag(3, WireType.LengthDelimited).bytes(new Uint8Array(0)).finish())).not.toThrow();
    const codec = codecOf("kitchen.v1.Tree");
    expect(() => codec.decode(bytes)).toThrow(RECURSION_LIMIT_MESSAGE);
    const binding = { rpcPath: "/kitchen.v1.K/Get", responseType: "kitchen.v1.Tree", responseCodec: codec } as unknown as Parameters<typeof decodeReply>[0];
    expect(() => decodeReply(binding, bytes)).toThrow(`nested more than ${MAX_DEPTH} message levels deep`);
  });
});

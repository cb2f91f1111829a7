import { createFileRegistry, fromBinary, fromJson as esFromJson, toBinary, toJson as esToJson, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { parseJsonText } from "../../../src/transcode/json/parse-json.js";
import * as kitchenGen from "../../fixtures/kitchen/gen/kitchen/v1/kitchen.js";
import { fuzzRuns } from "../../support/fuzz.js";
import { arbitraryMessage } from "./arbitrary-message.js";
import { kitchen, kitchenDescriptorSet, kitchenLenient } from "./kitchen-fixture.js";

const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, kitchenDescriptorSet));
const types = ["Scalars", "Optionals", "Maps", "Oneofs", "WellKnown", "Tree", "Kitchen", "GetThingRequest"] as const;
const runs = fuzzRuns(150);

type Obj = Record<string, unknown>;

describe.each(types)("kitchen.v1.%s", (type) => {
  const desc = files.getMessage(`kitchen.v1.${type}`)!;
  const codec = kitchen.codec<Obj>(`kitchen.v1.${type}`);
  const fns = kitchenGen[type] as unknown as { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): Obj };
  const messages = arbitraryMessage(desc);

  it("generates objects ts-proto round-trips (the arbitrary itself is sound)", () => {
    fc.assert(
      fc.property(messages, (message) => {
        expect(codec.toJson(fns.decode(fns.encode(message).finish()))).toEqual(codec.toJson(message));
      }),
      runs,
    );
  });

  it("toJson -> JSON text -> fromJson gives back the same object", () => {
    fc.assert(
      fc.property(messages, (message) => {
        const text = JSON.stringify(codec.toJson(message));
        expect(codec.fromJson(parseJsonText(text))).toStrictEqual(message);
      }),
      runs,
    );
  });

  it("reads protobuf-es's JSON of the same bytes into the same object", () => {
    fc.assert(
      fc.property(messages, (message) => {
        const es = fromBinary(desc, fns.encode(message).finish());
        const json = esToJson(desc, es, { registry: files });
        // protobuf-es builds Struct objects by assignment, so a "__proto__" key is lost there.
        fc.pre(!JSON.stringify(codec.toJson(message)).includes('"__proto__"'));
        expect(codec.fromJson(JSON.parse(JSON.stringify(json)))).toStrictEqual(fns.decode(fns.encode(message).finish()));
      }),
      runs,
    );
  });

  it("writes JSON that protobuf-es reads back to the same bytes", () => {
    fc.assert(
      fc.property(messages, (message) => {
        const text = JSON.stringify(codec.toJson(message));
        fc.pre(!text.includes('"__proto__"')); // protobuf-es keeps Struct fields in a plain object
        const json = JSON.parse(text) as JsonValue;
        const es = esFromJson(desc, json, { registry: files });
        expect(codec.toJson(fns.decode(toBinary(desc, es)))).toEqual(codec.toJson(message));
      }),
      runs,
    );
  });

  it("encodes and decodes the wire format (Any payloads) exactly like ts-proto", () => {
    const plan = kitchen.plan(`kitchen.v1.${type}`);
    fc.assert(
      fc.property(messages, (message) => {
        const tsProtoBytes = fns.encode(message).finish();
        expect(plan.decode(tsProtoBytes)).toStrictEqual(fns.decode(tsProtoBytes));
        expect(fns.decode(plan.encode(message))).toStrictEqual(fns.decode(tsProtoBytes));
      }),
      runs,
    );
  });

  it("throws nothing but GatewayError on arbitrary JSON", () => {
    const junk = fc.oneof(fc.jsonValue(), fc.anything(), fc.dictionary(fc.constantFrom(...desc.fields.flatMap((f) => [f.jsonName, f.name])), fc.jsonValue()));
    fc.assert(
      fc.property(junk, (json) => {
        for (const registry of [kitchen, kitchenLenient]) {
          try {
            registry.codec(`kitchen.v1.${type}`).fromJson(json);
          } catch (error) {
            expect(error).toBeInstanceOf(GatewayError);
            expect((error as GatewayError).reason).toBe("PG_ERR_BAD_FIELD");
          }
        }
      }),
      runs,
    );
  });

  it("throws nothing but GatewayError on valid JSON with one value replaced", () => {
    const mutated = fc.tuple(messages, fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([message, replacement, pick]) => {
      const json = codec.toJson(message) as Obj;
      const keys = Object.keys(json);
      if (keys.length > 0) json[keys[pick % keys.length]] = replacement;
      return json;
    });
    fc.assert(
      fc.property(mutated, (json) => {
        try {
          codec.fromJson(json);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
        }
      }),
      runs,
    );
  });
});

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { AnyBinding } from "../../../src/binding.js";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { createBinaryCodecs } from "../../../src/transcode/binary-codecs.js";
import { createCodecRegistry, type CodecRegistry } from "../../../src/transcode/json/codec-registry.js";
import { makeBinding } from "../binding-fixture.js";

/** Test helper: the kitchen fixture (test/fixtures/kitchen) and small assertion helpers. */

const here = dirname(fileURLToPath(import.meta.url));
export const kitchenDescriptorSet: Uint8Array = readFileSync(join(here, "..", "..", "fixtures", "kitchen", "kitchen.binpb"));

export const kitchen: CodecRegistry = createCodecRegistry(kitchenDescriptorSet, { ignoreUnknownFields: false });
export const kitchenLenient: CodecRegistry = createCodecRegistry(kitchenDescriptorSet, { ignoreUnknownFields: true });

const codecOf = createBinaryCodecs(createFileRegistry(fromBinary(FileDescriptorSetSchema, kitchenDescriptorSet)));

/** A kitchen binding replying `responseType` (decoded by the gateway's own codecs, as loaded routes are), with an optional response_body ("a.b"). */
export function replyBinding(responseType: string, responseBody = ""): AnyBinding {
  return { ...makeBinding({ requestType: "kitchen.v1.Inner", responseType, responseBody }), responseCodec: codecOf(responseType) };
}

/** Runs `fn` and returns the GatewayError it throws (fails the test if it throws nothing or something else). */
export function gatewayErrorOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw new Error(`expected a GatewayError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected a GatewayError, but nothing was thrown");
}

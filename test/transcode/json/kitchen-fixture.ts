import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { createCodecRegistry, type CodecRegistry } from "../../../src/transcode/json/codec-registry.js";

/** Test helper: the kitchen fixture (test/fixtures/kitchen) and small assertion helpers. */

const here = dirname(fileURLToPath(import.meta.url));
export const kitchenDescriptorSet: Uint8Array = readFileSync(join(here, "..", "..", "fixtures", "kitchen", "kitchen.binpb"));

export const kitchen: CodecRegistry = createCodecRegistry(kitchenDescriptorSet, { ignoreUnknownFields: false });
export const kitchenLenient: CodecRegistry = createCodecRegistry(kitchenDescriptorSet, { ignoreUnknownFields: true });

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

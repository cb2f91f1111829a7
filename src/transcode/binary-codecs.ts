import type { FileRegistry } from "@bufbuild/protobuf";
import type { MessageFns } from "../binding.js";
import { JsonFieldError } from "./json/json-field-error.js";
import { createPlanCache } from "./json/message-plans.js";
import type { MessagePlan, PlanContext } from "./json/plan-types.js";

/** What `encode` gives, in the shape of ts-proto's writer (`.finish()`); a class, so no closure per call. */
class Encoded {
  constructor(private readonly bytes: Uint8Array) {}
  finish(): Uint8Array {
    return this.bytes;
  }
}

/** The message of a decode that went deeper than the recursion limit (decode-reply.ts tells it apart). */
export const RECURSION_LIMIT_MESSAGE = "protobuf decode recursion limit exceeded";

/**
 * The binary codec of every message type of a descriptor set, in the object shape the JSON codec
 * reads and writes (ts-proto's, see codegen/ts-proto-options.ts). Generated route tables carry
 * only type names, so the gateway builds these instead of importing generated message code: a
 * large API (Compute v1: ~1000 messages) then starts without loading or compiling megabytes of
 * code, and each codec is compiled on its first call.
 */
export function createBinaryCodecs(files: FileRegistry): (typeName: string) => MessageFns<unknown> {
  // ignoreUnknownFields only changes JSON reading, which these plans never do.
  const plans: PlanContext = createPlanCache(false, (typeName) => files.getMessage(typeName));
  const codecs = new Map<string, MessageFns<unknown>>();
  return (typeName) => {
    let codec = codecs.get(typeName);
    if (codec !== undefined) return codec;
    const desc = files.getMessage(typeName);
    if (desc === undefined) throw new Error(`unknown message type ${typeName}: it is not in the generated descriptor set; regenerate the folder`);
    let plan: MessagePlan | undefined;
    const compiled = (): MessagePlan => (plan ??= plans.plan(desc));
    codec = {
      encode: (message) => new Encoded(compiled().encode(message)),
      decode: (input) => {
        try {
          return compiled().decode(input);
        } catch (error) {
          if (error instanceof JsonFieldError && error.problem === "depth") throw new Error(RECURSION_LIMIT_MESSAGE, { cause: error });
          throw error;
        }
      },
    };
    codecs.set(typeName, codec);
    return codec;
  };
}

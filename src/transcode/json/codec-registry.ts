import { createFileRegistry, fromBinary, type FileRegistry, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { toReadError, toWriteError } from "./json-field-error.js";
import { createPlanCache } from "./message-plans.js";
import type { MessagePlan } from "./plan-types.js";
import { writeAnyJson } from "./any-plan.js";

export type { JsonValue } from "@bufbuild/protobuf";

/** Options for reading JSON. */
export interface JsonReadOptions {
  /** Skip JSON keys that name no field (and unknown enum names) instead of rejecting them. */
  ignoreUnknownFields: boolean;
}

/** proto3 JSON for one message type, to and from ts-proto objects. */
export interface MessageJsonCodec<T> {
  readonly typeName: string;
  /** Strict proto3 JSON -> complete ts-proto object; GatewayError INVALID_ARGUMENT `PG_ERR_BAD_FIELD` otherwise. */
  fromJson(json: unknown): T;
  /** ts-proto object -> proto3 JSON value; GatewayError INTERNAL when the message has no JSON form. */
  toJson(message: T): JsonValue;
}

/** The JSON codecs of every message type in a descriptor set. */
export interface CodecRegistry {
  /** The codec of a fully qualified message type; throws if the type is unknown. */
  codec<T>(typeName: string): MessageJsonCodec<T>;
  /** JSON of a google.protobuf.Any given type URL + binary value, or undefined if the type is unknown. */
  anyToJson(typeUrl: string, value: Uint8Array): JsonValue | undefined;
  /** The compiled plan of a message type (for the request builder and response shaper). */
  plan(typeName: string): MessagePlan;
  /** The descriptor set's files (aggregate routes' CEL reads responses as @bufbuild/protobuf messages). */
  readonly files: FileRegistry;
}

/**
 * Builds the registry from a serialized `google.protobuf.FileDescriptorSet` (every file,
 * imports and well-known types included), or from the file registry of such a set. Codecs are compiled on first use and cached.
 */
export function createCodecRegistry(descriptorSet: Uint8Array | FileRegistry, options: JsonReadOptions): CodecRegistry {
  // A registry already built from the set is reused: parsing a large API's set takes a while.
  const files = descriptorSet instanceof Uint8Array ? createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet)) : descriptorSet;
  const plans = createPlanCache(options.ignoreUnknownFields, (typeName) => files.getMessage(typeName));
  const codecs = new Map<string, MessageJsonCodec<unknown>>();

  const plan = (typeName: string): MessagePlan => {
    const desc = files.getMessage(typeName);
    if (desc === undefined) throw new Error(`unknown message type ${typeName}: it is not in the descriptor set`);
    return plans.plan(desc);
  };

  const codec = <T>(typeName: string): MessageJsonCodec<T> => {
    let found = codecs.get(typeName);
    if (found === undefined) {
      const p = plan(typeName);
      found = {
        typeName,
        fromJson(json) {
          try {
            return p.readJson(json, 1);
          } catch (error) {
            throw toReadError(error, [], typeName);
          }
        },
        toJson(message) {
          try {
            return p.writeJson(message, 1);
          } catch (error) {
            throw toWriteError(error, typeName);
          }
        },
      };
      codecs.set(typeName, found);
    }
    return found as MessageJsonCodec<T>;
  };

  return {
    codec,
    plan,
    files,
    anyToJson(typeUrl, value) {
      if (plans.planForTypeUrl(typeUrl) === undefined) return undefined;
      try {
        return writeAnyJson(plans, typeUrl, value, 1);
      } catch (error) {
        throw toWriteError(error, "google.protobuf.Any");
      }
    },
  };
}

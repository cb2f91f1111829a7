import type { AnyBinding } from "../binding.js";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { CodecRegistry } from "./json/codec-registry.js";
import type { FieldPlan, MessagePlan } from "./json/plan-types.js";
import { isOutputOnly } from "./field-behavior/field-behavior.js";
import type { RequestInput } from "./request-builder.js";
import { readJsonBody } from "./request-body.js";

const FIELD_MASK = "google.protobuf.FieldMask";
const WELL_KNOWN_PREFIX = "google.protobuf.";

/** Options of the mask filler. */
export interface MaskFillerOptions {
  /** OUTPUT_ONLY fields are dropped from requests: a mask must not name them (the update would clear them). */
  readonly skipOutputOnly: boolean;
}

/**
 * For a PATCH rule whose body is a message field of a request that has a
 * `google.protobuf.FieldMask` field (`update_mask` when there are several), the function that
 * fills that mask when the client left it empty (no `updateMask` query parameter): the paths of
 * the fields present in the JSON body, as grpc-gateway's `FieldMaskFromRequestBody` does, relative
 * to the body's message and in proto field names. Objects of regular messages are descended into
 * (`address.city`); lists, maps, well-known types (Struct, Any, wrappers, Timestamp, ...), `{}`
 * and null are leaves. Keys that name no field, fields bound by the path template and (when they
 * are dropped) OUTPUT_ONLY fields are left out. Undefined when the rule is not such a PATCH.
 *
 * The mask is appended to the encoded request (protobuf merges a repeated field's occurrences),
 * so the encoders stay as they are; the body's JSON is parsed a second time, on these routes only.
 */
export function createMaskFiller(registry: CodecRegistry, binding: AnyBinding, options: MaskFillerOptions): ((input: RequestInput, request: Uint8Array) => Uint8Array) | undefined {
  if (binding.httpMethod !== "PATCH" || binding.body.kind !== "field" || binding.body.fieldPath.length !== 1) return undefined;
  const root = registry.plan(binding.requestType);
  const masks = root.fields.filter((f) => f.cardinality === "singular" && f.element.message?.typeName === FIELD_MASK);
  const mask = masks.length === 1 ? masks[0] : masks.find((f) => f.protoName === "update_mask");
  const bodyName = binding.body.fieldPath[0];
  const bodyField = root.fields.find((f) => f.protoName === bodyName);
  const resource = bodyField?.cardinality === "singular" ? bodyField.element.message : undefined;
  if (mask === undefined || resource === undefined || resource.typeName.startsWith(WELL_KNOWN_PREFIX)) return undefined;

  // Path-bound fields inside the body (`{user.user_id}`): the URL names the resource, the update does not set them.
  const pathBound = new Set(binding.template.variables.filter((v) => v.fieldPath[0] === bodyName && v.fieldPath.length > 1).map((v) => v.fieldPath.slice(1).join(".")));
  const skip = (field: FieldPlan, path: string): boolean => pathBound.has(path) || (options.skipOutputOnly && isOutputOnly(field.desc));
  const maskNumber = mask.desc.number;
  const prefix = [bodyField?.jsonName ?? bodyName];

  return (input, request) => {
    if (hasMaskPaths(request, maskNumber)) return request;
    const json = readJsonBody(input.body, input.contentType, prefix);
    const paths = bodyPaths(json, resource, skip);
    if (paths.length === 0) return request;
    const writer = new BinaryWriter();
    writer.raw(request);
    writer.tag(maskNumber, WireType.LengthDelimited).fork();
    for (const path of paths) writer.tag(1, WireType.LengthDelimited).string(path);
    writer.join();
    return writer.finish();
  };
}

/**
 * The field-mask paths of the fields present in a JSON body of `message` (see createMaskFiller),
 * sorted and without duplicates. Exported for tests.
 */
export function bodyPaths(json: unknown, message: MessagePlan, skip: (field: FieldPlan, path: string) => boolean = () => false): string[] {
  const paths = new Set<string>();
  const visit = (value: Record<string, unknown>, plan: MessagePlan, prefix: string): void => {
    for (const key of Object.keys(value)) {
      const field = plan.field(key);
      if (field === undefined) continue;
      const path = prefix + field.protoName;
      if (skip(field, path)) continue;
      const child = value[key];
      const nested = field.cardinality === "singular" ? field.element.message : undefined;
      if (nested !== undefined && !nested.typeName.startsWith(WELL_KNOWN_PREFIX) && isNonEmptyObject(child)) visit(child, nested, `${path}.`);
      else paths.add(path);
    }
  };
  if (isNonEmptyObject(json)) visit(json, message, "");
  return [...paths].sort();
}

function isNonEmptyObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
}

/** Whether the request's bytes set the mask field with at least one path (any occurrence with content). */
function hasMaskPaths(request: Uint8Array, maskNumber: number): boolean {
  const reader = new BinaryReader(request);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (number === maskNumber && wireType === WireType.LengthDelimited) {
      if (reader.bytes().length > 0) return true;
    } else reader.skip(wireType, number);
  }
  return false;
}

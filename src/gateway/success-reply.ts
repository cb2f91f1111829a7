import type { AnyBinding, LocationPart } from "../binding.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import type { FieldPlan, MessagePlan } from "../transcode/json/plan-types.js";
import { readStringField } from "../transcode/wire-string.js";

/** How a route answers a successful unary call, compiled once from its `success` row. */
export interface SuccessReply {
  /** 200, or the method's (protogate.v1.success) status. */
  readonly status: number;
  /** 204: no body and no Content-Type; the reply is not shaped at all. */
  readonly noContent: boolean;
  /** The `Location` header from the reply's bytes (201 with a location), or undefined. */
  readonly location: ((reply: Uint8Array) => string | undefined) | undefined;
}

const OK: SuccessReply = { status: 200, noContent: false, location: undefined };

/** The success answer of `binding`: 200 unless its row says otherwise. Field names are resolved here, once. */
export function createSuccessReply(registry: CodecRegistry, binding: AnyBinding): SuccessReply {
  const success = binding.success;
  if (success === undefined) return OK;
  const location = success.location === undefined ? undefined : compileLocation(registry.plan(binding.responseType), success.location, binding);
  return { status: success.status, noContent: success.status === 204, location };
}

type CompiledPart = string | readonly number[];

function compileLocation(root: MessagePlan, parts: readonly LocationPart[], binding: AnyBinding): (reply: Uint8Array) => string | undefined {
  const compiled: CompiledPart[] = parts.map((part) => ("text" in part ? part.text : fieldNumbers(root, part.field, binding)));
  return (reply) => {
    let text = "";
    for (const part of compiled) {
      if (typeof part === "string") {
        text += part;
        continue;
      }
      const value = readStringField(reply, part);
      // An empty field: the reply does not say what was created, so there is no Location to give.
      if (value === undefined) return undefined;
      text += encodePathValue(value);
    }
    return text;
  };
}

/** Field numbers of a proto field path (codegen checked it; a mismatch means the folder and descriptors disagree). */
function fieldNumbers(root: MessagePlan, path: readonly string[], binding: AnyBinding): number[] {
  const numbers: number[] = [];
  let plan: MessagePlan | undefined = root;
  for (const name of path) {
    const field: FieldPlan | undefined = plan?.fields.find((f) => f.protoName === name);
    if (field === undefined) throw new Error(`${binding.source}: the Location field "${path.join(".")}" is not a field of ${binding.responseType}; regenerate the route table`);
    numbers.push(field.desc.number);
    plan = field.element.message;
  }
  return numbers;
}

/** A field value as URL path text: each segment percent-encoded, its slashes kept (`users/u 1` -> `users/u%201`). */
export function encodePathValue(value: string): string {
  return value.split("/").map(encodeURIComponent).join("/");
}

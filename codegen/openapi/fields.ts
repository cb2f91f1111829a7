import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";

/**
 * The field at `fieldPath` (proto names) below `message`. Bindings reach the emitter validated,
 * so a path that does not resolve is an internal error; it names the path and the rule's source.
 */
export function resolveField(message: DescMessage, fieldPath: readonly string[], source: string): DescField {
  let current = message;
  let field: DescField | undefined;
  for (let i = 0; i < fieldPath.length; i++) {
    field = current.fields.find((f) => f.name === fieldPath[i]);
    if (!field) throw unresolved(message, fieldPath, source, `"${fieldPath[i]}" is not a field of ${current.typeName}`);
    if (i < fieldPath.length - 1) {
      if (field.fieldKind !== "message") throw unresolved(message, fieldPath, source, `"${field.name}" is not a singular message field`);
      current = field.message;
    }
  }
  if (!field) throw unresolved(message, fieldPath, source, "the field path is empty");
  return field;
}

/** Whether `path` starts with all of `prefix`. */
export function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((name, i) => path[i] === name);
}

function unresolved(message: DescMessage, fieldPath: readonly string[], source: string, why: string): GatewayError {
  return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", `${source}: field path "${fieldPath.join(".")}" of ${message.typeName}: ${why}`);
}

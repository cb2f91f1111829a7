import { getOption, hasOption, ScalarType, type DescExtension, type DescField, type DescMethod, type FileRegistry } from "@bufbuild/protobuf";
import type { LocationPart, SuccessData } from "../../src/binding.js";

/** Field number of the `protogate.v1.success` method option. */
export const SUCCESS_EXTENSION_NUMBER = 50422;
/** Field numbers of `SuccessResponse.status` and `.location` (for the problems' source lines). */
export const STATUS_FIELD_NUMBER = 1;
export const LOCATION_FIELD_NUMBER = 2;

const STATUSES: ReadonlySet<number> = new Set([200, 201, 202, 204]);

/** Finds `protogate.v1.success` in the registry, if any file imports response.proto. */
export function findSuccessExtension(registry: FileRegistry): DescExtension | undefined {
  return registry.getExtension("protogate.v1.success");
}

/** One reason the option cannot be served, and which of its fields it is about. */
export interface SuccessProblem {
  readonly field?: typeof STATUS_FIELD_NUMBER | typeof LOCATION_FIELD_NUMBER;
  readonly message: string;
}

/**
 * The method's `(protogate.v1.success)`: undefined when it declares none (or declares 200, the
 * default: nothing to carry), the route-table data, or the problems that make it unservable (a
 * streaming method, an unknown status, a Location on a status other than 201, a Location template
 * that is not a path or names a field that is not a singular string of the response).
 */
export function readSuccess(method: DescMethod, extension: DescExtension | undefined): { success: SuccessData } | { problems: SuccessProblem[] } | undefined {
  if (!extension || extension.extendee.typeName !== "google.protobuf.MethodOptions" || !hasOption(method, extension)) return undefined;
  const fields = successFields(extension);
  if (!fields) return { problems: [{ message: `(${extension.typeName}) is not a protogate.v1.SuccessResponse {int32 status = 1; string location = 2;}` }] };
  // Boundary: the option's type is only known at run time (it comes from the request); its shape was checked above.
  const value = getOption(method, extension) as unknown as Record<string, unknown>;
  const status = value[fields.status.localName];
  const location = value[fields.location.localName];
  if (typeof status !== "number" || typeof location !== "string") return { problems: [{ message: `(${extension.typeName}) could not be read as a protogate.v1.SuccessResponse` }] };

  const problems: SuccessProblem[] = [];
  if (method.methodKind !== "unary") problems.push({ message: `(${extension.typeName}) applies to unary methods only; a stream's responses always start with 200` });
  if (!STATUSES.has(status)) problems.push({ field: STATUS_FIELD_NUMBER, message: `status ${status} is not one of 200, 201, 202, 204` });
  let parts: LocationPart[] | undefined;
  if (location !== "") {
    if (status !== 201) problems.push({ field: LOCATION_FIELD_NUMBER, message: `location is for status 201 only (this status is ${status})` });
    const compiled = compileLocation(location, method);
    if ("problem" in compiled) problems.push({ field: LOCATION_FIELD_NUMBER, message: `location ${JSON.stringify(location)}: ${compiled.problem}` });
    else parts = compiled.parts;
  }
  if (problems.length > 0) return { problems };
  if (status === 200) return undefined;
  return { success: { status: status as SuccessData["status"], ...(parts === undefined ? {} : { location: parts }) } };
}

/** `/v1/{name}` as parts, each `{field}` checked to be a singular string field of the response. */
export function compileLocation(template: string, method: DescMethod): { parts: LocationPart[] } | { problem: string } {
  if (!template.startsWith("/")) return { problem: 'it must be a URL path starting with "/"' };
  if (/[\s"<>\\^`|]/.test(template)) return { problem: "it contains characters a URL path cannot hold (spaces, quotes, <, >, \\, ^, `, |)" };
  const parts: LocationPart[] = [];
  let rest = template;
  while (rest !== "") {
    const open = rest.indexOf("{");
    const close = rest.indexOf("}");
    if (open < 0) {
      if (close >= 0) return { problem: 'a "}" without its "{"' };
      parts.push({ text: rest });
      break;
    }
    if (close >= 0 && close < open) return { problem: 'a "}" without its "{"' };
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    if (close < 0) return { problem: 'a "{" without its "}"' };
    const reference = rest.slice(open + 1, close);
    const path = reference.split(".");
    const problem = checkStringField(method, path);
    if (problem !== undefined) return { problem: `{${reference}}: ${problem}` };
    parts.push({ field: path });
    rest = rest.slice(close + 1);
  }
  if (!parts.some((part) => "field" in part)) return { problem: "it names no response field ({field}); a constant Location says nothing about what was created" };
  return { parts };
}

/** Why `path` is not a singular string field of the method's response (through singular messages), or undefined. */
function checkStringField(method: DescMethod, path: readonly string[]): string | undefined {
  let message = method.output;
  for (let i = 0; i < path.length; i++) {
    const name = path[i];
    if (name === "") return "an empty field name";
    const field: DescField | undefined = message.fields.find((f) => f.name === name);
    if (!field) return `"${name}" is not a field of ${message.typeName}`;
    if (i < path.length - 1) {
      if (field.fieldKind !== "message") return `"${name}" is not a singular message field, so ".${path[i + 1]}" cannot follow it`;
      message = field.message;
    } else if (field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING) {
      return `"${name}" of ${message.typeName} is not a singular string field`;
    }
  }
  return undefined;
}

/** The two fields of SuccessResponse, when the extension's message has exactly the expected shape. */
function successFields(extension: DescExtension): { status: DescField; location: DescField } | undefined {
  if (extension.fieldKind !== "message") return undefined;
  const status = extension.message.fields.find((f) => f.number === STATUS_FIELD_NUMBER);
  const location = extension.message.fields.find((f) => f.number === LOCATION_FIELD_NUMBER);
  if (status?.fieldKind !== "scalar" || status.scalar !== ScalarType.INT32 || status.name !== "status") return undefined;
  if (location?.fieldKind !== "scalar" || location.scalar !== ScalarType.STRING || location.name !== "location") return undefined;
  return { status, location };
}

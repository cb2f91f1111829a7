import { getOption, hasOption, ScalarType, type DescExtension, type DescField, type DescMethod, type DescService, type FileRegistry } from "@bufbuild/protobuf";
import type { AuthRuleData } from "../../src/binding.js";

/** Field number of the `protogate.v1.rule` method option. */
export const AUTH_RULE_EXTENSION_NUMBER = 50420;
/** Field number of the `protogate.v1.default_rule` service option. */
export const DEFAULT_RULE_EXTENSION_NUMBER = 50421;
/** Field number of `AuthRule.scopes`. */
export const SCOPES_FIELD_NUMBER = 2;

/** The auth options found among the files of a request; absent when no file imports auth.proto. */
export interface AuthExtensions {
  readonly method: DescExtension | undefined;
  readonly service: DescExtension | undefined;
}

/** Finds `protogate.v1.rule` and `protogate.v1.default_rule` in the registry, if any file imports them. */
export function findAuthExtensions(registry: FileRegistry): AuthExtensions {
  return { method: registry.getExtension("protogate.v1.rule"), service: registry.getExtension("protogate.v1.default_rule") };
}

/** The option as declared (unchecked), or a reason it cannot be read. */
export type ReadAuthRule = { readonly rule: AuthRuleData } | { readonly problem: string };

/**
 * The auth option of a method or service, or undefined when it has none. A problem is returned,
 * not thrown, when the extension in the registry is not protogate's `AuthRule` (a team file
 * shadowing `protogate/v1/auth.proto` with another shape).
 */
export function readAuthRule(element: DescMethod | DescService, extension: DescExtension | undefined): ReadAuthRule | undefined {
  if (!extension || !hasOptionOf(element, extension)) return undefined;
  const fields = authRuleFields(extension);
  if (!fields) return { problem: `(${extension.typeName}) is not a protogate.v1.AuthRule {bool public = 1; repeated string scopes = 2; bool forward_authorization = 3;}` };
  // Boundary: the option's message type is only known at run time (it comes from the
  // CodeGeneratorRequest), so its value is read field by field after the shape check above.
  const value = getOption(element, extension) as unknown as Record<string, unknown>;
  const isPublic = value[fields.public.localName];
  const scopes = value[fields.scopes.localName];
  const forward = value[fields.forwardAuthorization.localName];
  if (typeof isPublic !== "boolean" || typeof forward !== "boolean" || !Array.isArray(scopes) || !scopes.every((s): s is string => typeof s === "string")) {
    return { problem: `(${extension.typeName}) could not be read as a protogate.v1.AuthRule` };
  }
  return { rule: { public: isPublic, scopes: [...scopes], forwardAuthorization: forward } };
}

// The extension comes from the request, so that it extends the element's options is checked here.
function hasOptionOf(element: DescMethod | DescService, extension: DescExtension): boolean {
  const extendee = element.kind === "rpc" ? "google.protobuf.MethodOptions" : "google.protobuf.ServiceOptions";
  return extension.extendee.typeName === extendee && hasOption(element, extension);
}

/** The three fields of AuthRule, when the extension's message has exactly the expected shape. */
function authRuleFields(extension: DescExtension): { public: DescField; scopes: DescField; forwardAuthorization: DescField } | undefined {
  if (extension.fieldKind !== "message") return undefined;
  const byNumber = (n: number) => extension.message.fields.find((f) => f.number === n);
  const isPublic = byNumber(1);
  const scopes = byNumber(2);
  const forward = byNumber(3);
  const isBool = (f: DescField | undefined): f is DescField => f?.fieldKind === "scalar" && f.scalar === ScalarType.BOOL;
  if (!isBool(isPublic) || isPublic.name !== "public") return undefined;
  if (!isBool(forward) || forward.name !== "forward_authorization") return undefined;
  if (scopes?.fieldKind !== "list" || scopes.listKind !== "scalar" || scopes.scalar !== ScalarType.STRING || scopes.name !== "scopes") return undefined;
  return { public: isPublic, scopes, forwardAuthorization: forward };
}

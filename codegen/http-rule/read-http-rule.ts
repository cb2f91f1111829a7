import { getOption, hasOption, type DescExtension, type DescMethod, type FileRegistry } from "@bufbuild/protobuf";

/** The pattern of an HttpRule: a standard method with a path, or a custom kind. */
export type HttpRulePattern =
  | { readonly case: "get" | "put" | "post" | "delete" | "patch"; readonly value: string }
  | { readonly case: "custom"; readonly value: { readonly kind: string; readonly path: string } }
  | { readonly case: undefined; readonly value?: undefined };

/** The fields of `google.api.HttpRule` that codegen reads. */
export interface HttpRuleShape {
  readonly pattern: HttpRulePattern;
  readonly body: string;
  readonly responseBody: string;
  readonly additionalBindings: readonly HttpRuleShape[];
}

/** Field number of the `google.api.http` method option. */
export const HTTP_RULE_EXTENSION_NUMBER = 72295728;
/** Field number of `HttpRule.additional_bindings`. */
export const ADDITIONAL_BINDINGS_FIELD_NUMBER = 11;

/** Finds the `google.api.http` extension among the files of the request, if any imports it. */
export function findHttpExtension(registry: FileRegistry): DescExtension | undefined {
  return registry.getExtension("google.api.http");
}

/** The method's `google.api.http` rule, or undefined when it has none. */
export function readHttpRule(method: DescMethod, extension: DescExtension): HttpRuleShape | undefined {
  if (!hasOption(method, extension)) return undefined;
  // Boundary: the extension's message type is only known at run time (it comes from the
  // CodeGeneratorRequest), so its value is typed by the shape we read from it.
  return getOption(method, extension) as unknown as HttpRuleShape;
}

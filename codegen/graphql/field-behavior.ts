import { getOption, hasOption, type DescExtension, type DescField, type FileRegistry } from "@bufbuild/protobuf";

/** google.api.FieldBehavior values the schema reads (google/api/field_behavior.proto). */
const REQUIRED = 2;
const OUTPUT_ONLY = 3;

/**
 * Reads `(google.api.field_behavior)` (absent when no file of the request imports it): an
 * OUTPUT_ONLY field is left out of input types and arguments (the server sets it and ignores a
 * client's value), and a REQUIRED top-level request field is a required (`!`) argument.
 */
export interface FieldBehavior {
  outputOnly(field: DescField): boolean;
  required(field: DescField): boolean;
}

export function fieldBehaviorOf(registry: FileRegistry): FieldBehavior {
  const extension = registry.getExtension("google.api.field_behavior");
  const has = (field: DescField, value: number) => extension !== undefined && behaviors(field, extension).includes(value);
  return { outputOnly: (field) => has(field, OUTPUT_ONLY), required: (field) => has(field, REQUIRED) };
}

function behaviors(field: DescField, extension: DescExtension): readonly number[] {
  if (extension.extendee.typeName !== "google.protobuf.FieldOptions" || !hasOption(field, extension)) return [];
  // Boundary: a repeated enum extension reads as an array of numbers; anything else is ignored.
  const value = getOption(field, extension) as unknown;
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
}

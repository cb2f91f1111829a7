import { getOption, hasOption, type DescExtension, type DescField, type DescFile } from "@bufbuild/protobuf";

/** `google.api.FieldBehavior` values the gateway acts on (google/api/field_behavior.proto). */
export const FieldBehavior = {
  REQUIRED: 2,
  OUTPUT_ONLY: 3,
} as const;

const EXTENSION_NAME = "google.api.field_behavior";

/**
 * Finds the `google.api.field_behavior` extension among `file` and its transitive imports (a
 * message's fields can only carry the option when its file imports field_behavior.proto).
 * Cached per file: every message of a file shares the answer.
 */
export function findFieldBehaviorExtension(file: DescFile): DescExtension | undefined {
  const cached = extensionByFile.get(file);
  if (cached !== undefined || extensionByFile.has(file)) return cached;
  let found: DescExtension | undefined;
  const seen = new Set<DescFile>();
  const queue: DescFile[] = [file];
  while (queue.length > 0 && found === undefined) {
    const next = queue.shift() as DescFile;
    if (seen.has(next)) continue;
    seen.add(next);
    found = next.extensions.find((e) => e.typeName === EXTENSION_NAME);
    queue.push(...next.dependencies);
  }
  extensionByFile.set(file, found);
  return found;
}

const extensionByFile = new WeakMap<DescFile, DescExtension | undefined>();

/** The field's declared behaviors (`[(google.api.field_behavior) = REQUIRED]`, ...): empty when none. */
export function fieldBehaviors(field: DescField): readonly number[] {
  const extension = findFieldBehaviorExtension(field.parent.file);
  if (extension === undefined || extension.extendee.typeName !== "google.protobuf.FieldOptions" || !hasOption(field, extension)) return [];
  // Boundary: the extension comes from the descriptor set; a repeated enum option reads as numbers.
  const value = getOption(field, extension) as unknown;
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
}

/** Whether the field is marked REQUIRED. */
export function isRequired(field: DescField): boolean {
  return fieldBehaviors(field).includes(FieldBehavior.REQUIRED);
}

/** Whether the field is marked OUTPUT_ONLY. */
export function isOutputOnly(field: DescField): boolean {
  return fieldBehaviors(field).includes(FieldBehavior.OUTPUT_ONLY);
}

import { invalidArgument, type FieldViolation } from "./rpc-error.js";

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

/** Whether `value` is a declared value of a ts-proto numeric enum (UNRECOGNIZED excluded). */
export function isKnownEnumValue(enumObject: Record<string, string | number>, value: number): boolean {
  return value >= 0 && typeof enumObject[value] === "string";
}

/** The length of a text in Unicode characters (code points), as a user counts them, not UTF-16 units. */
export function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/** A deliberately loose email check: something@something.tld, no spaces. */
export function isEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}

/**
 * AIP-158 page size: 0 means the default, larger than the maximum is coerced down, negative is a
 * violation (pushed to `violations`).
 */
export function effectivePageSize(pageSize: number, field: string, violations: FieldViolation[]): number {
  if (pageSize < 0) {
    violations.push({ field, description: `must not be negative (got ${pageSize})` });
    return DEFAULT_PAGE_SIZE;
  }
  if (pageSize === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(pageSize, MAX_PAGE_SIZE);
}

/** The names of an enum's declared values, for error messages ("ROLE_MEMBER, ROLE_ADMIN"). */
export function enumValueNames(enumObject: Record<string, string | number>, skipZero = true): string {
  return Object.entries(enumObject)
    .filter(([, value]) => typeof value === "number" && value >= (skipZero ? 1 : 0))
    .map(([name]) => name)
    .join(", ");
}

/** The value of a required message field; INVALID_ARGUMENT naming `field` when it is absent. */
export function requireMessage<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw invalidArgument([{ field, description: "is required" }]);
  return value;
}

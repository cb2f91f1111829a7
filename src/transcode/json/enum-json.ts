import type { DescEnum, JsonValue } from "@bufbuild/protobuf";
import { describe, valueError } from "./json-field-error.js";
import { ENUM_NUMBER_STRING } from "./json-policy.js";

/** Returned by a reader when the value is to be dropped (an unknown enum name with ignoreUnknownFields). */
export const SKIP: unique symbol = Symbol("skip");

/** JSON <-> ts-proto value (the number) for one enum type. */
export interface EnumJson {
  read(json: unknown): number | typeof SKIP;
  readString(text: string): number;
  write(value: unknown): JsonValue;
}

const NULL_VALUE = "google.protobuf.NullValue";

/**
 * Enum values are written by name (numbers without a name stay numbers); read by name or by
 * number. An unknown name is an error, or dropped when `ignoreUnknown` (like Google's
 * ignore_unknown_fields). Closed (proto2) enums reject numbers they do not define.
 */
export function enumJson(desc: DescEnum, ignoreUnknown: boolean): EnumJson {
  const byName = new Map<string, number>();
  const names: string[] = [];
  const byNumber = new Map<number, string>();
  for (const value of desc.values) {
    byName.set(value.name, value.number);
    if (!byNumber.has(value.number)) byNumber.set(value.number, value.name);
  }
  for (const [number, name] of byNumber) if (number >= 0 && number < 64) names[number] = name;
  const isNull = desc.typeName === NULL_VALUE;

  const fromNumber = (n: number, shown: unknown): number => {
    if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw valueError(`${describe(shown)} is not a valid enum number`);
    if (!desc.open && !byNumber.has(n)) throw valueError(`${describe(shown)} is not a value of enum ${desc.typeName}`);
    return n === 0 ? 0 : n;
  };
  const fromString = (text: string, lenient: boolean): number | typeof SKIP => {
    const known = byName.get(text);
    if (known !== undefined) return known;
    if (ENUM_NUMBER_STRING.test(text)) return fromNumber(Number(text), text);
    if (lenient) return SKIP;
    throw valueError(`${describe(text)} is not a value of enum ${desc.typeName}`);
  };

  return {
    read(json) {
      if (typeof json === "string") return fromString(json, ignoreUnknown);
      if (typeof json === "number") return fromNumber(json, json);
      if (json === null && isNull) return 0;
      throw valueError(`expected an enum name or number, got ${describe(json)}`);
    },
    readString: (text) => fromString(text, false) as number,
    write(value) {
      if (isNull) return null;
      const n = value as number;
      const name = n >= 0 && n < 64 ? names[n] : byNumber.get(n);
      return name ?? n;
    },
  };
}

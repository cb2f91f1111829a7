import { ScalarType } from "@bufbuild/protobuf";
import type { JsonValue } from "@bufbuild/protobuf";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { shortestFloat32 } from "./float32.js";
import { describe, valueError } from "./json-field-error.js";
import { integerFromString } from "./integer-string.js";
import { FLOAT32_MAX, FLOAT_STRING } from "./json-policy.js";
import { LosslessInteger } from "./lossless-integer.js";

/** JSON <-> ts-proto value for one scalar type (the shape ts-proto uses with forceLong=string). */
export interface ScalarJson {
  /** A JSON value (never null: callers handle null) to the ts-proto value; throws JsonFieldError. */
  read(json: unknown): unknown;
  /** The string form used by map keys, path variables and query parameters. */
  readString(text: string): unknown;
  write(value: unknown): JsonValue;
  /** The proto3 default, which implicit-presence fields omit. */
  readonly zero: unknown;
  isZero(value: unknown): boolean;
}

const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** The shared empty `bytes` value (ts-proto's default; never written to: it has no bytes). */
export function emptyBytes(): Buffer {
  return EMPTY_BYTES;
}

const INT32: readonly [number, number] = [-2147483648, 2147483647];
const UINT32: readonly [number, number] = [0, 4294967295];
const INT64: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
const UINT64: readonly [bigint, bigint] = [0n, 2n ** 64n - 1n];

/** The codec for a scalar type. */
export function scalarJson(type: ScalarType): ScalarJson {
  switch (type) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return INT32_JSON;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return UINT32_JSON;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return INT64_JSON;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return UINT64_JSON;
    case ScalarType.FLOAT:
      return FLOAT_JSON;
    case ScalarType.DOUBLE:
      return DOUBLE_JSON;
    case ScalarType.BOOL:
      return BOOL_JSON;
    case ScalarType.STRING:
      return STRING_JSON;
    case ScalarType.BYTES:
      return BYTES_JSON;
  }
}

function int32Codec(range: readonly [number, number], name: string): ScalarJson {
  const [min, max] = range;
  const check = (n: number, shown: unknown): number => {
    if (n < min || n > max) throw valueError(`${describe(shown)} is out of range for ${name}`);
    return n === 0 ? 0 : n; // -0 -> 0
  };
  const fromString = (text: string): number => {
    const value = integerFromString(text);
    if (value === undefined) throw valueError(`${describe(text)} is not an integer`);
    return check(typeof value === "bigint" ? Number(value) : value, text);
  };
  return {
    read(json) {
      if (typeof json === "number") {
        if (!Number.isInteger(json)) throw valueError(`${describe(json)} is not an integer`);
        return check(json, json);
      }
      if (typeof json === "string") return fromString(json);
      if (json instanceof LosslessInteger) throw valueError(`${json.text} is out of range for ${name}`);
      throw valueError(`expected an integer, got ${describe(json)}`);
    },
    readString: fromString,
    write: (value) => value as number,
    zero: 0,
    isZero: (value) => value === 0,
  };
}

function int64Codec(range: readonly [bigint, bigint], name: string): ScalarJson {
  const [min, max] = range;
  const fromValue = (value: number | bigint, shown: unknown): string => {
    if (typeof value === "number") {
      // A safe integer is inside every 64-bit range but uint64's sign.
      if (min === 0n && value < 0) throw valueError(`${describe(shown)} is out of range for ${name}`);
      return value === 0 ? "0" : String(value);
    }
    if (value < min || value > max) throw valueError(`${describe(shown)} is out of range for ${name}`);
    return value.toString();
  };
  const fromString = (text: string): string => {
    const value = integerFromString(text);
    if (value === undefined) throw valueError(`${describe(text)} is not a 64-bit integer`);
    return fromValue(value, text);
  };
  return {
    read(json) {
      if (typeof json === "string") return fromString(json);
      if (typeof json === "number") {
        if (!Number.isInteger(json)) throw valueError(`${describe(json)} is not an integer`);
        if (Number.isSafeInteger(json)) {
          if (min === 0n && json < 0) throw valueError(`${describe(json)} is out of range for ${name}`);
          return json === 0 ? "0" : String(json);
        }
        const big = BigInt(json);
        if (big < min || big > max) throw valueError(`${describe(json)} is out of range for ${name}`);
        return big.toString();
      }
      if (json instanceof LosslessInteger) return fromValue(BigInt(json.text), json);
      throw valueError(`expected a 64-bit integer (string or number), got ${describe(json)}`);
    },
    readString: fromString,
    write: (value) => String(value),
    zero: "0",
    isZero: (value) => value === "0",
  };
}

function floatCodec(float32: boolean): ScalarJson {
  const name = float32 ? "float" : "double";
  const check = (n: number, shown: unknown): number => {
    if (!Number.isFinite(n)) throw valueError(`${describe(shown)} is out of range for ${name}`);
    if (float32) {
      // Out of range means "rounds to infinity": FLT_MAX printed shortest (3.4028235e38) is a
      // bit above FLT_MAX as a double, and must read back.
      const f = Math.fround(n);
      if (!Number.isFinite(f)) throw valueError(`${describe(shown)} is out of range for float (max ${FLOAT32_MAX})`);
      return f;
    }
    return n;
  };
  const fromString = (text: string): number => {
    switch (text) {
      case "NaN":
        return NaN;
      case "Infinity":
        return Infinity;
      case "-Infinity":
        return -Infinity;
    }
    if (!FLOAT_STRING.test(text)) throw valueError(`${describe(text)} is not a number`);
    return check(Number(text), text);
  };
  return {
    read(json) {
      if (typeof json === "number") return check(json, json);
      if (typeof json === "string") return fromString(json);
      if (json instanceof LosslessInteger) return check(Number(json.text), json);
      throw valueError(`expected a number, got ${describe(json)}`);
    },
    readString: fromString,
    write(value) {
      const n = value as number;
      if (Number.isFinite(n)) return float32 ? shortestFloat32(n) : n;
      return n !== n ? "NaN" : n > 0 ? "Infinity" : "-Infinity";
    },
    zero: 0,
    isZero: (value) => value === 0,
  };
}

const INT32_JSON = int32Codec(INT32, "int32");
const UINT32_JSON = int32Codec(UINT32, "uint32");
const INT64_JSON = int64Codec(INT64, "int64");
const UINT64_JSON = int64Codec(UINT64, "uint64");
const FLOAT_JSON = floatCodec(true);
const DOUBLE_JSON = floatCodec(false);

const BOOL_JSON: ScalarJson = {
  read(json) {
    if (typeof json === "boolean") return json;
    throw valueError(`expected true or false, got ${describe(json)}`);
  },
  readString(text) {
    if (text === "true") return true;
    if (text === "false") return false;
    throw valueError(`expected "true" or "false", got ${describe(text)}`);
  },
  write: (value) => value as boolean,
  zero: false,
  isZero: (value) => value === false,
};

// A lone UTF-16 surrogate has no UTF-8 form: proto strings must be valid UTF-8.
const LONE_SURROGATE = /\p{Surrogate}/u;

function checkString(text: string): string {
  if (LONE_SURROGATE.test(text)) throw valueError("the string contains an unpaired surrogate (not valid Unicode)");
  return text;
}

const STRING_JSON: ScalarJson = {
  read(json) {
    if (typeof json === "string") return checkString(json);
    throw valueError(`expected a string, got ${describe(json)}`);
  },
  readString: checkString,
  write: (value) => value as string,
  zero: "",
  isZero: (value) => value === "",
};

function bytesFromString(text: string): Buffer {
  const bytes = decodeBase64(text);
  if (bytes === undefined) throw valueError(`${describe(text)} is not base64`);
  return bytes;
}

const BYTES_JSON: ScalarJson = {
  read(json) {
    if (typeof json === "string") return bytesFromString(json);
    throw valueError(`expected a base64 string, got ${describe(json)}`);
  },
  readString: bytesFromString,
  write: (value) => encodeBase64(value as Uint8Array),
  zero: EMPTY_BYTES,
  isZero: (value) => (value as Uint8Array).length === 0,
};

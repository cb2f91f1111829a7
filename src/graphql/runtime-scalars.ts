import { GraphQLError, Kind, type GraphQLScalarType, type GraphQLScalarTypeConfig, type ObjectValueNode, type ValueNode } from "graphql";

/**
 * What the runtime gives each named scalar of schema.graphql (codegen/graphql/scalars.ts names and
 * describes them): values are their proto3 JSON forms, so a reply's JSON is served as it is and an
 * argument's value goes into the request's JSON as it is. Inputs are checked here so that a bad
 * value is a GraphQL input error naming the scalar; the JSON codec checks them again when the
 * request message is built.
 */
export type ScalarBehaviour = Pick<GraphQLScalarTypeConfig<unknown, unknown>, "serialize" | "parseValue" | "parseLiteral">;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

function invalid(scalar: string, value: unknown, expected: string): GraphQLError {
  const shown = typeof value === "string" ? JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value) : typeof value === "object" ? (Array.isArray(value) ? "a list" : "an object") : String(value);
  return new GraphQLError(`${scalar} cannot represent ${shown}: expected ${expected}`);
}

/** A 64-bit integer as its decimal string, from a string or a (safe) number; `undefined` when out of range or not an integer. */
function decimal64(value: unknown, min: bigint, max: bigint): string | undefined {
  let n: bigint;
  if (typeof value === "string" && DECIMAL.test(value)) n = BigInt(value);
  else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === "bigint") n = value;
  else return undefined;
  return n < min || n > max ? undefined : n.toString();
}

function int64Scalar(name: string, min: bigint, max: bigint): ScalarBehaviour {
  const expected = `a decimal string (or an Int) from ${min} to ${max}`;
  const parse = (value: unknown): string => {
    const text = decimal64(value, min, max);
    if (text === undefined) throw invalid(name, value, expected);
    return text;
  };
  return {
    serialize: parse,
    parseValue: parse,
    parseLiteral: (node) => {
      if (node.kind === Kind.STRING || node.kind === Kind.INT) return parse(node.kind === Kind.INT ? BigInt(node.value) : node.value);
      throw invalid(name, literalShown(node), expected);
    },
  };
}

function uint32(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return value;
  throw invalid("UInt32", value, "an integer from 0 to 4294967295");
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_ANY = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Standard or URL-safe base64, padded or not, as standard padded base64 (what proto3 JSON writes). */
export function normalizeBase64(value: unknown): string {
  if (typeof value !== "string" || !BASE64_ANY.test(value)) throw invalid("Bytes", value, "base64 (standard or URL-safe)");
  const unpadded = value.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  if (unpadded.length % 4 === 1) throw invalid("Bytes", value, "base64 (standard or URL-safe)");
  const padded = unpadded + "=".repeat((4 - (unpadded.length % 4)) % 4);
  if (!BASE64.test(padded)) throw invalid("Bytes", value, "base64 (standard or URL-safe)");
  return padded;
}

/** RFC 3339 with an upper-case T and Z or an offset; the year 0001 to 9999 (the range of google.protobuf.Timestamp). */
const TIMESTAMP = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const DURATION = /^-?\d{1,12}(\.\d{1,9})?s$/;
const FIELD_MASK = /^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(,[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)*)?$/;

function patterned(name: string, pattern: RegExp, expected: string): ScalarBehaviour {
  const parse = (value: unknown): string => {
    if (typeof value === "string" && pattern.test(value) && (name !== "Timestamp" || validDate(value))) return value;
    throw invalid(name, value, expected);
  };
  return {
    serialize: parse,
    parseValue: parse,
    parseLiteral: (node) => {
      if (node.kind === Kind.STRING) return parse(node.value);
      throw invalid(name, literalShown(node), expected);
    },
  };
}

/** The day exists in its month (the pattern lets 02-31 through). */
function validDate(text: string): boolean {
  const year = Number(text.slice(0, 4));
  const lastDay = new Date(0);
  // Day 0 of the next month is the month's last day; setUTCFullYear takes years below 100 as written.
  lastDay.setUTCFullYear(year, Number(text.slice(5, 7)), 0);
  return year >= 1 && Number(text.slice(8, 10)) <= lastDay.getUTCDate();
}

/** A literal as a JSON value (JSON scalars accept object and list literals, with variables inside). */
export function literalToJson(node: ValueNode, variables: Readonly<Record<string, unknown>> | null | undefined): unknown {
  switch (node.kind) {
    case Kind.NULL:
      return null;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return node.value;
    case Kind.LIST:
      return node.values.map((item) => literalToJson(item, variables));
    case Kind.OBJECT:
      return objectLiteral(node, variables);
    case Kind.VARIABLE:
      return variables?.[node.name.value] ?? null;
  }
}

function objectLiteral(node: ObjectValueNode, variables: Readonly<Record<string, unknown>> | null | undefined): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const field of node.fields) object[field.name.value] = literalToJson(field.value, variables);
  return object;
}

function literalShown(node: ValueNode): unknown {
  return node.kind === Kind.VARIABLE ? `$${node.name.value}` : literalToJson(node, undefined);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function json(name: string, accepts: (value: unknown) => boolean, expected: string): ScalarBehaviour {
  const parse = (value: unknown): unknown => {
    if (accepts(value)) return value;
    throw invalid(name, value, expected);
  };
  return { serialize: parse, parseValue: parse, parseLiteral: (node, variables) => parse(literalToJson(node, variables)) };
}

const EMPTY: ScalarBehaviour = {
  // Always {}: a reply of google.protobuf.Empty (or a message without fields) has nothing in it.
  serialize: () => ({}),
  parseValue: (value) => {
    if (isObject(value) && Object.keys(value).length === 0) return {};
    throw invalid("Empty", value, "the empty object {}");
  },
  parseLiteral: (node, variables) => EMPTY.parseValue!(literalToJson(node, variables)),
};

/** The behaviour of every named scalar codegen may print, by name. */
export const RUNTIME_SCALARS: ReadonlyMap<string, ScalarBehaviour> = new Map<string, ScalarBehaviour>([
  ["Int64", int64Scalar("Int64", INT64_MIN, INT64_MAX)],
  ["UInt64", int64Scalar("UInt64", 0n, UINT64_MAX)],
  [
    "UInt32",
    {
      serialize: uint32,
      parseValue: uint32,
      parseLiteral: (node) => {
        if (node.kind === Kind.INT) return uint32(Number(node.value));
        throw invalid("UInt32", literalShown(node), "an integer from 0 to 4294967295");
      },
    },
  ],
  [
    "Bytes",
    {
      serialize: normalizeBase64,
      parseValue: normalizeBase64,
      parseLiteral: (node) => {
        if (node.kind === Kind.STRING) return normalizeBase64(node.value);
        throw invalid("Bytes", literalShown(node), "base64 (standard or URL-safe)");
      },
    },
  ],
  ["Timestamp", patterned("Timestamp", TIMESTAMP, 'an RFC 3339 date-time such as "2024-01-02T03:04:05.678Z"')],
  ["Duration", patterned("Duration", DURATION, 'seconds with up to 9 fractional digits and an "s" suffix, such as "1.5s"')],
  ["FieldMask", patterned("FieldMask", FIELD_MASK, 'field paths separated by commas, such as "displayName,profile.email"')],
  ["JSON", json("JSON", () => true, "a JSON value")],
  ["JSONObject", json("JSONObject", isObject, "a JSON object")],
  ["JSONArray", json("JSONArray", Array.isArray, "a JSON array")],
  ["Any", json("Any", (value) => isObject(value) && typeof value["@type"] === "string", 'a JSON object with a string "@type"')],
  ["Empty", EMPTY],
]);

/**
 * Gives the scalars of a schema built from SDL (`buildSchema`, whose custom scalars pass values
 * through unchecked) their runtime behaviour.
 */
export function applyScalarBehaviour(scalar: GraphQLScalarType): void {
  const behaviour = RUNTIME_SCALARS.get(scalar.name);
  // Boundary: graphql-js types a scalar's functions as readonly; buildSchema leaves no other way to give an SDL scalar its behaviour.
  if (behaviour !== undefined) Object.assign(scalar as unknown as Record<string, unknown>, behaviour);
}

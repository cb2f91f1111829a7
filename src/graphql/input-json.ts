import { GraphQLError, getNullableType, isInputObjectType, isListType, type GraphQLInputType } from "graphql";
import type { GraphqlOneof, GraphqlType } from "./schema-map.js";

/** What input conversion needs of a message's fields: which are maps, which form oneof groups. */
export interface MessageShape {
  readonly oneofs: readonly GraphqlOneof[];
  readonly mapEntries: readonly string[];
}

/** A GraphQL argument's or input field's name and its (coerced) value, with its type. */
export interface InputField {
  readonly name: string;
  readonly type: GraphQLInputType;
}

/**
 * Coerced GraphQL input values (arguments of a root field, or an input object) as proto3 JSON:
 * maps (lists of `{key, value}` entries in GraphQL) become objects, nulls are left out (proto3's
 * default), and each oneof group is checked: at most one member may be given, otherwise a GraphQL
 * error (`extensions.code: "BAD_USER_INPUT"`) naming the oneof and its members.
 * Everything else already is proto3 JSON: field names are JSON names, scalars their JSON forms.
 */
export function inputToProtoJson(
  values: Readonly<Record<string, unknown>>,
  fields: readonly InputField[],
  shape: MessageShape,
  types: Readonly<Record<string, GraphqlType>>,
  where: string,
): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  checkOneofs(values, shape.oneofs, where);
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined || value === null) continue;
    json[field.name] = shape.mapEntries.includes(field.name) ? entriesToObject(value, field.type, types, `${where}.${field.name}`) : valueToJson(value, field.type, types, `${where}.${field.name}`);
  }
  return json;
}

function checkOneofs(values: Readonly<Record<string, unknown>>, oneofs: readonly GraphqlOneof[], where: string): void {
  for (const oneof of oneofs) {
    const given = oneof.fields.filter((name) => values[name] !== undefined && values[name] !== null);
    if (given.length > 1) {
      throw new GraphQLError(`${where}: ${given.join(" and ")} are members of oneof ${oneof.name}: at most one of ${oneof.fields.join(", ")} may be given`, {
        extensions: { code: "BAD_USER_INPUT", oneof: oneof.name },
      });
    }
  }
}

function valueToJson(value: unknown, type: GraphQLInputType, types: Readonly<Record<string, GraphqlType>>, where: string): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    return (value as readonly unknown[]).filter((item) => item !== null).map((item, i) => valueToJson(item, nullable.ofType as GraphQLInputType, types, `${where}[${i}]`));
  }
  if (isInputObjectType(nullable)) {
    const shape = types[nullable.name] ?? NO_SHAPE;
    return inputToProtoJson(value as Record<string, unknown>, Object.values(nullable.getFields()), shape, types, where);
  }
  return value;
}

/** `[{key, value}, ...]` as the map's proto3 JSON object (keys are strings there, whatever their proto type); a later entry wins. */
export function entriesToObject(value: unknown, type: GraphQLInputType, types: Readonly<Record<string, GraphqlType>>, where: string): Record<string, unknown> {
  const list = getNullableType(type);
  const entryType = isListType(list) ? getNullableType(list.ofType) : undefined;
  const valueType = isInputObjectType(entryType) ? entryType.getFields().value?.type : undefined;
  const object: Record<string, unknown> = {};
  for (const entry of value as ReadonlyArray<{ key: unknown; value: unknown } | null>) {
    if (entry === null) continue;
    object[String(entry.key)] = valueType === undefined ? entry.value : valueToJson(entry.value, valueType, types, `${where}[${JSON.stringify(String(entry.key))}]`);
  }
  return object;
}

/** A map's proto3 JSON object as GraphQL's list of `{key, value}` entries (in the object's key order). */
export function objectToEntries(value: unknown): Array<{ key: string; value: unknown }> {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).map(([key, entry]) => ({ key, value: entry }));
}

const NO_SHAPE: MessageShape = { oneofs: [], mapEntries: [] };

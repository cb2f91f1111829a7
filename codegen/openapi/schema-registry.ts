import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isOutputOnly, isRequired } from "../../src/transcode/field-behavior/field-behavior.js";
import { commentOf } from "./comments.js";
import type { JsonSchema } from "./openapi-types.js";
import { scalarSchema } from "./scalar-schema.js";
import { hasSpecialSchema, specialSchema } from "./well-known.js";

/**
 * Collects `components.schemas`: every message and enum the operations reach, named by full
 * name and following the proto3 JSON mapping. Types are registered on first reference and
 * built lazily, so recursive messages are just `$ref` cycles.
 */
export interface SchemaRegistry {
  /** A `$ref` to the schema of a message or enum. */
  ref(desc: DescMessage | DescEnum): JsonSchema;
  /** A `$ref` to a schema the emitter defines itself (`google.rpc.Status`, well-known types). */
  refSpecial(typeName: string): JsonSchema;
  /** The JSON value schema of a field (singular, repeated or map), without annotations. */
  valueSchema(field: DescField): JsonSchema;
  /** The schema of a field as a message property: its value schema plus comment, oneof, deprecation. */
  propertySchema(field: DescField): JsonSchema;
  /**
   * The schema of `message` without the fields at `omit` (proto field paths): a `$ref` when
   * nothing is left out, else an inline object (nested omissions inline only the messages on
   * the way).
   */
  messageWithout(message: DescMessage, omit: readonly (readonly string[])[]): JsonSchema;
  /** Builds every registered schema (and those they reference), sorted by name. */
  components(): Record<string, JsonSchema>;
}

/** Creates an empty registry. */
export function createSchemaRegistry(): SchemaRegistry {
  const built = new Map<string, JsonSchema>();
  const pending = new Map<string, () => JsonSchema>();

  const register = (typeName: string, build: () => JsonSchema): JsonSchema => {
    if (!built.has(typeName) && !pending.has(typeName)) pending.set(typeName, build);
    return { $ref: `#/components/schemas/${typeName}` };
  };

  const refSpecial = (typeName: string): JsonSchema =>
    register(typeName, () => {
      const schema = specialSchema(typeName, refSpecial);
      if (!schema) throw new Error(`no built-in schema for ${typeName}`);
      return schema;
    });

  const ref = (desc: DescMessage | DescEnum): JsonSchema =>
    register(desc.typeName, () => specialSchema(desc.typeName, refSpecial) ?? (desc.kind === "enum" ? enumSchema(desc) : objectSchema(desc, [])));

  const valueSchema = (field: DescField): JsonSchema => {
    switch (field.fieldKind) {
      case "scalar":
        return scalarSchema(field.scalar);
      case "enum":
        return ref(field.enum);
      case "message":
        return ref(field.message);
      case "list":
        return { type: "array", items: field.listKind === "scalar" ? scalarSchema(field.scalar) : ref(field.listKind === "enum" ? field.enum : field.message) };
      case "map": {
        const value = field.mapKind === "scalar" ? scalarSchema(field.scalar) : ref(field.mapKind === "enum" ? field.enum : field.message);
        const keys = mapKeySchema(field.mapKey);
        return keys ? { type: "object", additionalProperties: value, propertyNames: keys } : { type: "object", additionalProperties: value };
      }
    }
  };

  const propertySchema = (field: DescField): JsonSchema => annotate(valueSchema(field), field);

  const objectSchema = (message: DescMessage, omit: readonly (readonly string[])[]): JsonSchema => {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const field of message.fields) {
      if (omit.some((path) => path.length === 1 && path[0] === field.name)) continue;
      if (isRequired(field)) required.push(field.jsonName);
      const nested = omit.filter((path) => path.length > 1 && path[0] === field.name).map((path) => path.slice(1));
      const schema = nested.length > 0 && field.fieldKind === "message" ? annotate(messageWithout(field.message, nested), field) : propertySchema(field);
      // A json_name may be "__proto__"; defineProperty keeps it an ordinary property.
      Object.defineProperty(properties, field.jsonName, { value: schema, enumerable: true, writable: true, configurable: true });
    }
    return withDocs({ type: "object", properties, ...(required.length > 0 ? { required } : {}) }, commentOf(message), message.deprecated);
  };

  const messageWithout = (message: DescMessage, omit: readonly (readonly string[])[]): JsonSchema => {
    const relevant = omit.filter((path) => path.length > 0 && message.fields.some((f) => f.name === path[0]));
    if (relevant.length === 0 || hasSpecialSchema(message.typeName)) return ref(message);
    return objectSchema(message, relevant);
  };

  const components = (): Record<string, JsonSchema> => {
    for (let next = first(pending); next; next = first(pending)) {
      const [name, build] = next;
      pending.delete(name);
      built.set(name, build());
    }
    const sorted: Record<string, JsonSchema> = {};
    for (const name of [...built.keys()].sort(compare)) sorted[name] = built.get(name) as JsonSchema;
    return sorted;
  };

  return { ref, refSpecial, valueSchema, propertySchema, messageWithout, components };
}

/** The constraint the JSON mapping puts on map keys (always strings in JSON), if any. */
export function mapKeySchema(key: ScalarType): JsonSchema | undefined {
  switch (key) {
    case ScalarType.STRING:
      return undefined;
    case ScalarType.BOOL:
      return { enum: ["true", "false"] };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { pattern: "^[0-9]+$" };
    default:
      return { pattern: "^-?[0-9]+$" };
  }
}

function enumSchema(desc: DescEnum): JsonSchema {
  const names = [...new Set(desc.values.map((v) => v.name))];
  const documented = desc.values.flatMap((v) => {
    const comment = commentOf(v);
    return comment === undefined ? [] : [`- \`${v.name}\`: ${comment.replace(/\n/g, " ")}`];
  });
  const comment = [commentOf(desc), documented.join("\n")].filter((s) => s !== undefined && s !== "").join("\n\n");
  return withDocs({ type: "string", enum: names }, comment === "" ? undefined : comment, desc.deprecated);
}

function annotate(schema: JsonSchema, field: DescField): JsonSchema {
  const oneof = field.fieldKind === "list" || field.fieldKind === "map" ? undefined : field.oneof;
  const oneofNote = oneof
    ? `Member of oneof \`${oneof.name}\`: at most one of ${oneof.fields.map((f) => `\`${f.jsonName}\``).join(", ")} is set.`
    : undefined;
  const description = [commentOf(field), oneofNote].filter((s) => s !== undefined).join("\n\n");
  const documented = withDocs(schema, description === "" ? undefined : description, field.deprecated);
  // OUTPUT_ONLY (google.api.field_behavior): set by the server; the gateway drops it from requests (or refuses it).
  const readOnly = isOutputOnly(field) ? { ...documented, readOnly: true } : documented;
  return oneof ? { ...readOnly, "x-protogate-oneof": oneof.name } : readOnly;
}

function withDocs(schema: JsonSchema, description: string | undefined, deprecated: boolean): JsonSchema {
  let out = schema;
  if (description !== undefined) out = { ...out, description: out.description === undefined ? description : `${description}\n\n${out.description}` };
  if (deprecated) out = { ...out, deprecated: true };
  return out;
}

function first<K, V>(map: Map<K, V>): [K, V] | undefined {
  const result = map.entries().next();
  return result.done ? undefined : result.value;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

import { getOption, hasOption, ScalarType, type DescExtension, type DescField, type DescMessage, type DescMethod, type FileRegistry } from "@bufbuild/protobuf";

/** Field numbers of Protogate's GraphQL options (proto/protogate/v1/graphql.proto). */
export const GRAPHQL_METHOD_EXTENSION_NUMBER = 50430;
export const JOIN_EXTENSION_NUMBER = 50431;

/** `(protogate.v1.graphql)` on a method, as declared. */
export interface GraphqlMethodOption {
  readonly name: string;
  readonly hide: boolean;
  /** GraphqlKind: 0 unspecified, 1 query, 2 mutation, 3 subscription. */
  readonly kind: number;
  /** `entity`, when set (empty strings where not given). */
  readonly entity: { readonly key: string; readonly requestField: string } | undefined;
}

/** `(protogate.v1.join)` on a field, as declared (empty strings where not given). */
export interface JoinOption {
  readonly name: string;
  readonly rpc: string;
  readonly requestField: string;
  readonly batch: { readonly rpc: string; readonly requestField: string; readonly responseField: string; readonly keyField: string } | undefined;
}

/** The GraphQL options found among a request's files; absent when no file imports graphql.proto. */
export interface GraphqlExtensions {
  readonly method: DescExtension | undefined;
  readonly join: DescExtension | undefined;
}

export function findGraphqlExtensions(registry: FileRegistry): GraphqlExtensions {
  return { method: registry.getExtension("protogate.v1.graphql"), join: registry.getExtension("protogate.v1.join") };
}

type Read<T> = { readonly value: T } | { readonly problem: string } | undefined;

type FieldShape = readonly [number: number, name: string, kind: "string" | "bool" | "enum" | "message"];

const METHOD_SHAPE: readonly FieldShape[] = [
  [1, "name", "string"],
  [2, "hide", "bool"],
  [3, "kind", "enum"],
];
/** `entity = 4` came later: a method option without it (an older copy of graphql.proto) is still read. */
const ENTITY_SHAPE: readonly FieldShape[] = [
  [1, "key", "string"],
  [2, "request_field", "string"],
];
const JOIN_SHAPE: readonly FieldShape[] = [
  [1, "name", "string"],
  [2, "rpc", "string"],
  [3, "request_field", "string"],
  [4, "batch", "message"],
];
const BATCH_SHAPE: readonly FieldShape[] = [
  [1, "rpc", "string"],
  [2, "request_field", "string"],
  [3, "response_field", "string"],
  [4, "key_field", "string"],
];

/** `(protogate.v1.graphql)` of a method: undefined when it has none, a problem when the option is not Protogate's shape. */
export function readGraphqlMethod(method: DescMethod, extension: DescExtension | undefined): Read<GraphqlMethodOption> {
  if (!extension || extension.extendee.typeName !== "google.protobuf.MethodOptions" || !hasOption(method, extension)) return undefined;
  const entityField = extension.fieldKind === "message" ? extension.message.fields.find((f) => f.number === 4) : undefined;
  const entityShaped = entityField === undefined || (entityField.name === "entity" && entityField.fieldKind === "message" && hasShape(entityField.message, ENTITY_SHAPE));
  if (extension.fieldKind !== "message" || !hasShape(extension.message, METHOD_SHAPE) || !entityShaped) {
    return { problem: `(${extension.typeName}) is not a protogate.v1.GraphqlMethod {string name = 1; bool hide = 2; GraphqlKind kind = 3; GraphqlEntity entity = 4;}` };
  }
  // Boundary: the option's message type comes from the CodeGeneratorRequest; its shape is checked above.
  const value = getOption(method, extension) as unknown as Record<string, unknown>;
  const fields = extension.message.field;
  const entity = entityField?.fieldKind === "message" ? (value[entityField.localName] as Record<string, unknown> | undefined) : undefined;
  const e = entityField?.fieldKind === "message" ? entityField.message.field : undefined;
  return {
    value: {
      name: String(value[fields.name.localName]),
      hide: value[fields.hide.localName] === true,
      kind: Number(value[fields.kind.localName]),
      entity: entity === undefined || e === undefined ? undefined : { key: String(entity[e.key.localName]), requestField: String(entity[e.requestField.localName]) },
    },
  };
}

/** `(protogate.v1.join)` of a field: undefined when it has none, a problem when the option is not Protogate's shape. */
export function readJoin(field: DescField, extension: DescExtension | undefined): Read<JoinOption> {
  if (!extension || extension.extendee.typeName !== "google.protobuf.FieldOptions" || !hasOption(field, extension)) return undefined;
  const batchField = extension.fieldKind === "message" ? extension.message.fields.find((f) => f.number === 4) : undefined;
  if (extension.fieldKind !== "message" || !hasShape(extension.message, JOIN_SHAPE) || batchField?.fieldKind !== "message" || !hasShape(batchField.message, BATCH_SHAPE)) {
    return { problem: `(${extension.typeName}) is not a protogate.v1.Join {string name = 1; string rpc = 2; string request_field = 3; JoinBatch batch = 4;}` };
  }
  // Boundary: as above.
  const value = getOption(field, extension) as unknown as Record<string, unknown>;
  const f = extension.message.field;
  const batch = value[f.batch.localName] as Record<string, unknown> | undefined;
  const b = batchField.message.field;
  return {
    value: {
      name: String(value[f.name.localName]),
      rpc: String(value[f.rpc.localName]),
      requestField: String(value[f.requestField.localName]),
      batch:
        batch === undefined
          ? undefined
          : { rpc: String(batch[b.rpc.localName]), requestField: String(batch[b.requestField.localName]), responseField: String(batch[b.responseField.localName]), keyField: String(batch[b.keyField.localName]) },
    },
  };
}

function hasShape(message: DescMessage, shape: readonly FieldShape[]): boolean {
  return shape.every(([number, name, kind]) => {
    const field = message.fields.find((f) => f.number === number);
    if (field === undefined || field.name !== name) return false;
    switch (kind) {
      case "string":
        return field.fieldKind === "scalar" && field.scalar === ScalarType.STRING;
      case "bool":
        return field.fieldKind === "scalar" && field.scalar === ScalarType.BOOL;
      case "enum":
        return field.fieldKind === "enum";
      case "message":
        return field.fieldKind === "message";
    }
  });
}

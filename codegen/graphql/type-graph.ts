import type { DescEnum, DescField, DescMessage, FileRegistry } from "@bufbuild/protobuf";
import type { BindingProblem } from "../bindings.js";
import type { GraphqlExtensions } from "./graphql-options.js";
import { readFieldJoin, type CheckedJoin, type ServedRpcs } from "./joins.js";
import { assignNames, localTypeName, pascalPackage } from "./names.js";
import { NULL_VALUE_ENUM, SCALAR_NAMES, wellKnownScalar } from "./scalars.js";

/**
 * A proto element the schema shows: a message (as an object type, an input type or both), an
 * enum, or a map field's entry type. Every message and entry gets an input name too, whether or
 * not it is used as input, so that using it another way later never renames anything.
 */
export type TypeNode =
  | { readonly kind: "message"; readonly message: DescMessage; readonly roles: Set<Role> }
  | { readonly kind: "enum"; readonly enum: DescEnum }
  | { readonly kind: "entry"; readonly field: DescField & { fieldKind: "map" }; readonly roles: Set<Role> };

/** Every type the schema needs, each with its GraphQL name, and the joins of each message. */
export interface TypeGraph {
  readonly nodes: ReadonlyMap<string, TypeNode>;
  /** GraphQL name by node key (`nodeKey`): the object (or enum) type's. */
  readonly names: ReadonlyMap<string, string>;
  /** The input type's name by node key (messages and map entries). */
  readonly inputNames: ReadonlyMap<string, string>;
  /** Checked joins by the full name of the message whose object type gets them. */
  readonly joins: ReadonlyMap<string, readonly CheckedJoin[]>;
}

export type Role = "object" | "input";

/** A message that stands for no GraphQL type of its own: a well-known type's scalar, or `Empty` for a message without fields. */
export function isScalarMessage(message: DescMessage): boolean {
  return wellKnownScalar(message.typeName) !== undefined || message.fields.length === 0;
}

export const nodeKey = {
  message: (message: DescMessage) => `message ${message.typeName}`,
  enum: (e: DescEnum) => `enum ${e.typeName}`,
  entry: (field: DescField) => `entry ${field.parent.typeName}.${field.name}`,
};

/** The suffix of an input type's name. */
export const INPUT_SUFFIX = "Input";

/** The names no proto type may take: the root types and the scalars. */
const RESERVED = new Set(["Query", "Mutation", "Subscription", ...SCALAR_NAMES]);

/**
 * Walks from the root fields' requests (input types) and responses (object types), and from each
 * join to its RPC's response, to every message and enum the schema shows, then names them all
 * (names.ts). Problems are joins that cannot be resolved, and names that cannot be given.
 */
export function buildTypeGraph(
  roots: { readonly inputs: readonly DescMessage[]; readonly outputs: readonly DescMessage[] },
  registry: FileRegistry,
  extensions: GraphqlExtensions,
  served: ServedRpcs,
  problems: BindingProblem[],
  warnings: BindingProblem[],
): TypeGraph {
  const nodes = new Map<string, TypeNode>();
  const joins = new Map<string, CheckedJoin[]>();
  const visitMessage = (role: Role, message: DescMessage): void => {
    if (isScalarMessage(message)) return;
    const key = nodeKey.message(message);
    const node = nodes.get(key) ?? { kind: "message", message, roles: new Set<Role>() };
    nodes.set(key, node);
    if (node.kind !== "message" || node.roles.has(role)) return;
    node.roles.add(role);
    for (const field of message.fields) {
      visitField(role, field);
      if (role !== "object") continue;
      const join = readFieldJoin(field, extensions, registry, served);
      if (join === undefined) continue;
      if ("problem" in join) {
        problems.push({ source: join.source, message: join.problem });
        continue;
      }
      if ("skipped" in join) {
        warnings.push({ source: join.source, message: join.skipped });
        continue;
      }
      joins.set(message.typeName, [...(joins.get(message.typeName) ?? []), join.join]);
      visitMessage("object", join.join.rpc.output);
    }
  };
  const visitEnum = (e: DescEnum): void => {
    if (e.typeName !== NULL_VALUE_ENUM) nodes.set(nodeKey.enum(e), { kind: "enum", enum: e });
  };
  const visitField = (role: Role, field: DescField): void => {
    switch (field.fieldKind) {
      case "map": {
        const entry = nodes.get(nodeKey.entry(field)) ?? { kind: "entry", field, roles: new Set<Role>() };
        if (entry.kind === "entry") entry.roles.add(role);
        nodes.set(nodeKey.entry(field), entry);
        if (field.mapKind === "message") visitMessage(role, field.message);
        else if (field.mapKind === "enum") visitEnum(field.enum);
        return;
      }
      case "list":
        if (field.listKind === "message") visitMessage(role, field.message);
        else if (field.listKind === "enum") visitEnum(field.enum);
        return;
      case "message":
        visitMessage(role, field.message);
        return;
      case "enum":
        visitEnum(field.enum);
        return;
      case "scalar":
        return;
    }
  };
  for (const message of roots.inputs) for (const field of message.fields) visitField("input", field);
  for (const message of roots.outputs) visitMessage("object", message);

  // Object and enum names first; input names then follow them (`Book` -> `BookInput`), and move on
  // to a qualified name only when that is taken, e.g. by a message named `BookInput` itself.
  const named = assignNames(
    [...nodes].map(([key, node]) => ({ key, candidates: candidates(node).map((name) => [name]) })),
    RESERVED,
  );
  const inputs = [...nodes].filter(([key, node]) => node.kind !== "enum" && named.names.has(key));
  const inputNamed = assignNames(
    inputs.map(([key, node]) => {
      const [local, qualified, full] = candidates(node);
      const base = named.names.get(key) ?? local;
      return { key, candidates: [base + INPUT_SUFFIX, qualified + INPUT_SUFFIX, full + INPUT_SUFFIX, `${full}_${INPUT_SUFFIX}`].map((name) => [name]) };
    }),
    new Set([...RESERVED, ...named.names.values()]),
  );
  for (const clash of [...named.clashes, ...inputNamed.clashes]) {
    problems.push({ source: clash.keys.join(", "), message: `no GraphQL name left for ${clash.keys.join(", ")} (its names clash with other types: ${clash.name})` });
  }
  const names = named.names;
  const inputNames = inputNamed.names;
  return { nodes, names, inputNames, joins };
}

/** The names a type tries, in order: its local name, then qualified by its package, then its full name (names.ts). */
function candidates(node: TypeNode): [local: string, qualified: string, full: string] {
  let typeName: string;
  let pkg: string;
  switch (node.kind) {
    case "message":
      typeName = node.message.typeName;
      pkg = node.message.file.proto.package;
      break;
    case "enum":
      typeName = node.enum.typeName;
      pkg = node.enum.file.proto.package;
      break;
    case "entry":
      typeName = `${node.field.parent.typeName}.${entryName(node.field)}`;
      pkg = node.field.parent.file.proto.package;
      break;
  }
  const local = localTypeName(typeName, pkg);
  return [local, pascalPackage(pkg) + local, typeName.split(".").join("_")];
}

/** The map entry message protoc synthesises: `labels` -> `LabelsEntry`, `my_map` -> `MyMapEntry`. */
function entryName(field: DescField): string {
  return `${field.name.split("_").map((part) => (part === "" ? "" : part[0].toUpperCase() + part.slice(1))).join("")}Entry`;
}

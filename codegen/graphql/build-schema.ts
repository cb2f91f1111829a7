import type { DescEnum, DescField, DescMessage, DescOneof, FileRegistry } from "@bufbuild/protobuf";
import {
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  validateSchema,
  type GraphQLArgumentConfig,
  type GraphQLEnumValueConfigMap,
  type GraphQLFieldConfig,
  type GraphQLFieldConfigMap,
  type GraphQLInputFieldConfigMap,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
} from "graphql";
import type { GraphqlEntity, GraphqlJoin, GraphqlOneof, GraphqlOperation, GraphqlRoot, GraphqlType } from "../../src/graphql/schema-map.js";
import type { BindingProblem } from "../bindings.js";
import type { CodegenBinding } from "../model.js";
import { commentAt, commentOf, sourcePath } from "../openapi/comments.js";
import { sourceLine } from "../source-location.js";
import { planEntities } from "./entities.js";
import type { GraphqlExtensions } from "./graphql-options.js";
import { rpcPath, type ServedRpcs } from "./joins.js";
import { fieldBehaviorOf, type FieldBehavior } from "./field-behavior.js";
import { isGraphqlName } from "./names.js";
import { pathBoundFields, planOperations, type PlannedOperation } from "./operations.js";
import { Empty, JSONValue, NULL_VALUE_ENUM, scalarOf, wellKnownScalar } from "./scalars.js";
import { buildTypeGraph, nodeKey, type Role, type TypeGraph } from "./type-graph.js";

/** The schema and what the runtime needs beside it, before printing. */
export interface BuiltGraphql {
  readonly schema: GraphQLSchema;
  readonly operations: readonly GraphqlOperation[];
  readonly types: ReadonlyMap<string, GraphqlType>;
  readonly joins: readonly GraphqlJoin[];
  readonly entities: readonly GraphqlEntity[];
}

export interface BuildGraphqlResult {
  /** Undefined when there is no schema to write (no RPC is a Query field: GraphQL requires one). */
  readonly built: BuiltGraphql | undefined;
  /** Invalid GraphQL options: generate fails on them, like on invalid HTTP rules. */
  readonly problems: BindingProblem[];
  /** What the schema leaves out and why (proto names GraphQL cannot carry). */
  readonly warnings: BindingProblem[];
}

const PROTO_FIELD_PRESENCE_EXPLICIT = 1;
const EMPTY_TYPE = "google.protobuf.Empty";

/**
 * Builds the GraphQL schema of the RPCs the gateway serves (the validated HTTP bindings), with
 * graphql-js's own type classes, and checks it with graphql-js's validator. See README "GraphQL
 * schema" for the mapping; scalars.ts for the scalars; names.ts for naming; joins.ts for joins.
 */
export function buildGraphql(bindings: readonly CodegenBinding[], registry: FileRegistry, extensions: GraphqlExtensions): BuildGraphqlResult {
  const problems: BindingProblem[] = [];
  const warningSet = new Map<string, BindingProblem>();
  const warn = (source: string, message: string) => warningSet.set(`${source}: ${message}`, { source, message });
  const warnings = () => [...warningSet.values()];
  const planned = planOperations(bindings, extensions, problems).filter((op) => {
    if (wellKnownScalar(op.rpc.input.typeName) === undefined || op.rpc.input.typeName === EMPTY_TYPE) return true;
    warn(op.bindings[0].source, `${op.rpc.parent.typeName}.${op.rpc.name} is left out of the GraphQL schema: its request is ${op.rpc.input.typeName}, which has no GraphQL arguments form`);
    return false;
  });
  const served: ServedRpcs = new Map(bindings.map((b) => [`${b.rpc.parent.typeName}.${b.rpc.name}`, b.rpc]));
  const skippedJoins: BindingProblem[] = [];
  const graph = buildTypeGraph({ inputs: planned.map((op) => op.rpc.input), outputs: planned.map((op) => op.rpc.output) }, registry, extensions, served, problems, skippedJoins);
  for (const skipped of skippedJoins) warn(skipped.source, skipped.message);
  if (problems.length > 0) return { built: undefined, problems, warnings: warnings() };

  const types = new TypeFactory(graph, fieldBehaviorOf(registry), warn, problems);
  const roots = new Map<GraphqlRoot, GraphQLFieldConfigMap<unknown, unknown>>();
  for (const op of planned) {
    const fields = roots.get(op.root) ?? {};
    fields[op.field] = types.rootField(op);
    roots.set(op.root, fields);
  }
  const root = (name: GraphqlRoot) => {
    const fields = roots.get(name);
    return fields === undefined ? undefined : new GraphQLObjectType({ name, fields });
  };
  const query = root("Query");
  if (query === undefined) {
    // Nothing to say when nothing would be in the schema anyway (no routes, or only client/bidi streaming).
    if (planned.length > 0) {
      warn("schema.graphql", "no GraphQL schema: GraphQL needs a Query field and no RPC is one (give an RPC a GET rule, or option (protogate.v1.graphql) = {kind: GRAPHQL_KIND_QUERY})");
    }
    return { built: undefined, problems, warnings: warnings() };
  }
  const schema = new GraphQLSchema({ query, mutation: root("Mutation"), subscription: root("Subscription") });
  // The type thunks ran in the constructor: problems they found (join names clashing with fields) surface now.
  if (problems.length > 0) return { built: undefined, problems, warnings: warnings() };
  // A schema graphql-js finds invalid is a gap in this mapping, not the team's mistake: it must not
  // stop the REST routes from being generated, so it is a warning, and no GraphQL files are written.
  const errors = validateSchema(schema);
  if (errors.length > 0) {
    for (const error of errors) warn("schema.graphql", `no GraphQL schema: graphql-js finds it invalid: ${error.message}`);
    return { built: undefined, problems, warnings: warnings() };
  }
  const entities = planEntities([...new Set(served.values())], extensions, schema, types.typeInfo, problems, warn);
  if (problems.length > 0) return { built: undefined, problems, warnings: warnings() };
  const operations: GraphqlOperation[] = planned.map((op) => ({
    root: op.root,
    field: op.field,
    rpcPath: rpcPath(op.rpc),
    kind: op.rpc.methodKind === "server_streaming" ? "server" : "unary",
    requestType: op.rpc.input.typeName,
    responseType: op.rpc.output.typeName,
    oneofs: oneofsOf(op.rpc.input),
  }));
  return { built: { schema, operations, types: types.typeInfo, joins: types.joinTable, entities }, problems, warnings: warnings() };
}

/** Creates each GraphQL type once, on first use, from the named type graph. */
class TypeFactory {
  private readonly created = new Map<string, GraphQLNamedType>();
  readonly typeInfo = new Map<string, GraphqlType>();
  readonly joinTable: GraphqlJoin[] = [];

  constructor(
    private readonly graph: TypeGraph,
    private readonly behavior: FieldBehavior,
    private readonly warn: (source: string, message: string) => void,
    private readonly problems: BindingProblem[],
  ) {}

  rootField(op: PlannedOperation): GraphQLFieldConfig<unknown, unknown> {
    const pathBound = pathBoundFields(op.bindings);
    const args: Record<string, GraphQLArgumentConfig> = {};
    for (const field of this.inputFields(op.rpc.input)) {
      const type = this.inputFieldType(field);
      const required = pathBound.has(field.name) || this.behavior.required(field);
      args[field.jsonName] = { type: required ? new GraphQLNonNull(type) : type, ...describeField(field, required) };
    }
    const rule = op.bindings.map((b) => `${b.httpMethod} ${b.pattern}`).join(", ");
    const call = `Calls ${op.rpc.parent.typeName}.${op.rpc.name} (${rule}).`;
    const comment = commentOf(op.rpc);
    return {
      type: this.messageOutput(op.rpc.output),
      args,
      description: comment === undefined ? call : `${comment}\n\n${call}`,
      ...(op.rpc.deprecated ? { deprecationReason: "The RPC is deprecated." } : {}),
    };
  }

  /** The fields of a message that GraphQL can name (a custom json_name may not be a GraphQL name). */
  private visibleFields(message: DescMessage): DescField[] {
    return message.fields.filter((field) => {
      if (isGraphqlName(field.jsonName)) return true;
      const path = sourcePath(field);
      this.warn(path === undefined ? message.file.proto.name : sourceLine(message.file, path), `${message.typeName}.${field.name} is left out of the GraphQL schema: its JSON name "${field.jsonName}" is not a GraphQL name`);
      return false;
    });
  }

  /** The fields a client may set: visible ones that are not OUTPUT_ONLY. */
  private inputFields(message: DescMessage): DescField[] {
    return this.visibleFields(message).filter((field) => !this.behavior.outputOnly(field));
  }

  private name(key: string, role: Role): string {
    const name = (role === "input" ? this.graph.inputNames : this.graph.names).get(key);
    if (name === undefined) throw new Error(`internal: no GraphQL ${role} name for ${key}`);
    return name;
  }

  /** The type of a node as `role` (enums: "object"), created on first use. */
  private once<T extends GraphQLNamedType>(key: string, role: Role, make: (name: string) => T): T {
    const existing = this.created.get(`${role} ${key}`);
    if (existing !== undefined) return existing as T;
    const type = make(this.name(key, role));
    this.created.set(`${role} ${key}`, type);
    return type;
  }

  private messageOutput(message: DescMessage): GraphQLOutputType {
    return wellKnownScalar(message.typeName) ?? (message.fields.length === 0 ? Empty : this.objectType(message));
  }

  /** A message a client can set no field of (none, or all OUTPUT_ONLY) is `Empty` as input: GraphQL has no empty input types. */
  private messageInput(message: DescMessage): GraphQLInputType {
    return wellKnownScalar(message.typeName) ?? (this.inputFields(message).length === 0 ? Empty : this.inputType(message));
  }

  private objectType(message: DescMessage): GraphQLObjectType {
    return this.once(nodeKey.message(message), "object", (name) => {
      this.typeInfo.set(name, info("object", message));
      return new GraphQLObjectType({
        name,
        description: describeMessage(message),
        fields: () => this.objectFields(message, name),
      });
    });
  }

  private objectFields(message: DescMessage, typeName: string): GraphQLFieldConfigMap<unknown, unknown> {
    const fields: GraphQLFieldConfigMap<unknown, unknown> = {};
    for (const field of this.visibleFields(message)) {
      fields[field.jsonName] = { type: this.outputFieldType(field), ...describeField(field, false) };
    }
    for (const join of this.graph.joins.get(message.typeName) ?? []) {
      const { data, rpc } = join;
      if (data.field in fields) {
        this.problems.push({ source: data.source, message: `${message.typeName}: join name "${data.field}" is already a field of GraphQL type ${typeName}; choose another name` });
        continue;
      }
      const target = this.messageOutput(rpc.output);
      const call = `${rpc.parent.typeName}.${rpc.name}`;
      const description = data.list
        ? `The ${rpc.output.typeName} of each key in ${data.keyField}, in order: one call of ${call} per distinct key, with its ${data.requestField} set to the key${
            data.batch === undefined ? "" : ` (one call of ${data.batch.rpcPath.slice(1).replace("/", ".")} for them all)`
          }. Null for an empty key.`
        : `The ${rpc.output.typeName} that ${data.keyField} refers to: a call of ${call} with its ${data.requestField} set to ${data.keyField}. Null for an empty key.`;
      fields[data.field] = { type: data.list ? new GraphQLList(target) : target, description };
      this.joinTable.push({ type: typeName, ...data });
    }
    return fields;
  }

  private inputType(message: DescMessage): GraphQLInputObjectType {
    return this.once(nodeKey.message(message), "input", (name) => {
      this.typeInfo.set(name, info("input", message));
      return new GraphQLInputObjectType({
        name,
        description: describeMessage(message),
        fields: () => {
          const fields: GraphQLInputFieldConfigMap = {};
          for (const field of this.inputFields(message)) fields[field.jsonName] = { type: this.inputFieldType(field), ...describeField(field, false) };
          return fields;
        },
      });
    });
  }

  private enumType(e: DescEnum): GraphQLEnumType {
    return this.once(nodeKey.enum(e), "object", (name) => {
      const values: GraphQLEnumValueConfigMap = {};
      for (const value of e.values) {
        if (!isGraphqlName(value.name) || ["true", "false", "null"].includes(value.name)) {
          this.warn(e.file.proto.name, `${e.typeName}.${value.name} is left out of the GraphQL enum ${name}: it is not a GraphQL enum value name`);
          continue;
        }
        const comment = commentOf(value);
        values[value.name] = { value: value.name, ...(comment === undefined ? {} : { description: comment }), ...(value.deprecated ? { deprecationReason: "Deprecated in the proto." } : {}) };
      }
      const comment = commentOf(e);
      return new GraphQLEnumType({ name, values, ...(comment === undefined ? {} : { description: comment }) });
    });
  }

  private entryType(role: Role, field: DescField & { fieldKind: "map" }): GraphQLObjectType | GraphQLInputObjectType {
    const key = nodeKey.entry(field);
    const description = `An entry of the map ${field.parent.typeName}.${field.name} (a JSON object in proto3 JSON).`;
    const keyType = new GraphQLNonNull(scalarOf(field.mapKey));
    if (role === "object") {
      return this.once(key, "object", (name) => {
        this.typeInfo.set(name, entryInfo("object", field));
        const value = this.mapValueOutput(field);
        return new GraphQLObjectType({ name, description, fields: () => ({ key: { type: keyType }, value: { type: value } }) });
      });
    }
    return this.once(key, "input", (name) => {
      this.typeInfo.set(name, entryInfo("input", field));
      const value = this.mapValueInput(field);
      return new GraphQLInputObjectType({ name, description, fields: () => ({ key: { type: keyType }, value: { type: value } }) });
    });
  }

  /** A map's value: never null in proto, except a google.protobuf.Value holding null. */
  private mapValueOutput(field: DescField & { fieldKind: "map" }): GraphQLOutputType {
    const type = field.mapKind === "scalar" ? scalarOf(field.scalar) : field.mapKind === "enum" ? this.enumOutput(field.enum) : this.messageOutput(field.message);
    return type === JSONValue ? type : new GraphQLNonNull(type);
  }

  private mapValueInput(field: DescField & { fieldKind: "map" }): GraphQLInputType {
    const type = field.mapKind === "scalar" ? scalarOf(field.scalar) : field.mapKind === "enum" ? this.enumOutput(field.enum) : this.messageInput(field.message);
    return type === JSONValue ? type : new GraphQLNonNull(type);
  }

  /** Output: lists and maps are never null, nor are scalars and enums without presence; messages and fields with presence may be. */
  private outputFieldType(field: DescField): GraphQLOutputType {
    const item = (type: GraphQLOutputType) => new GraphQLNonNull(new GraphQLList(type === JSONValue ? type : new GraphQLNonNull(type)));
    switch (field.fieldKind) {
      case "map":
        return item(this.entryType("object", field) as GraphQLObjectType);
      case "list":
        return item(field.listKind === "message" ? this.messageOutput(field.message) : field.listKind === "enum" ? this.enumOutput(field.enum) : scalarOf(field.scalar));
      case "message":
        return this.messageOutput(field.message);
      case "enum": {
        const type = this.enumOutput(field.enum);
        return type === JSONValue || hasPresence(field) ? type : new GraphQLNonNull(type);
      }
      case "scalar":
        return hasPresence(field) ? scalarOf(field.scalar) : new GraphQLNonNull(scalarOf(field.scalar));
    }
  }

  /** Input: every field may be left out (proto3 defaults apply); list items are never null. */
  private inputFieldType(field: DescField): GraphQLInputType {
    const list = (type: GraphQLInputType) => new GraphQLList(type === JSONValue ? type : new GraphQLNonNull(type));
    switch (field.fieldKind) {
      case "map":
        return list(this.entryType("input", field) as GraphQLInputObjectType);
      case "list":
        return list(field.listKind === "message" ? this.messageInput(field.message) : field.listKind === "enum" ? this.enumOutput(field.enum) : scalarOf(field.scalar));
      case "message":
        return this.messageInput(field.message);
      case "enum":
        return this.enumOutput(field.enum);
      case "scalar":
        return scalarOf(field.scalar);
    }
  }

  private enumOutput(e: DescEnum): GraphQLEnumType | typeof JSONValue {
    return e.typeName === NULL_VALUE_ENUM ? JSONValue : this.enumType(e);
  }
}

function hasPresence(field: DescField): boolean {
  return field.presence === PROTO_FIELD_PRESENCE_EXPLICIT || field.oneof !== undefined;
}

function describeMessage(message: DescMessage): string | undefined {
  const parts = [commentOf(message), message.deprecated ? "Deprecated in the proto." : undefined, `Proto message ${message.typeName}.`];
  return parts.filter((p) => p !== undefined).join("\n\n");
}

function describeField(field: DescField, required: boolean): { description?: string; deprecationReason?: string } {
  const oneof = field.oneof;
  const parts = [
    commentOf(field),
    oneof === undefined ? undefined : `Part of oneof ${oneof.name}${oneofComment(oneof)}: at most one of ${oneof.fields.map((f) => f.jsonName).join(", ")} is set.`,
  ].filter((p) => p !== undefined);
  const description = parts.length === 0 ? undefined : parts.join("\n\n");
  // GraphQL forbids deprecating a required argument.
  const deprecated = field.deprecated && !required;
  return { ...(description === undefined ? {} : { description }), ...(deprecated ? { deprecationReason: "Deprecated in the proto." } : {}) };
}

/** The oneof's own comment, in parentheses (oneofs have no GraphQL element to carry it). */
function oneofComment(oneof: DescOneof): string {
  const path = sourcePath(oneof.parent);
  if (path === undefined) return "";
  const comment = commentAt(oneof.parent.file, [...path, 8, oneof.parent.oneofs.indexOf(oneof)]);
  return comment === undefined ? "" : ` (${comment.split("\n").join(" ")})`;
}

function oneofsOf(message: DescMessage): GraphqlOneof[] {
  return message.oneofs.map((o) => ({ name: o.name, fields: o.fields.map((f) => f.jsonName) }));
}

function info(kind: "object" | "input", message: DescMessage): GraphqlType {
  return { kind, protoType: message.typeName, oneofs: oneofsOf(message), mapEntries: message.fields.filter((f) => f.fieldKind === "map").map((f) => f.jsonName) };
}

function entryInfo(kind: "object" | "input", field: DescField): GraphqlType {
  return { kind, protoType: `${field.parent.typeName}.${field.name}`, oneofs: [], mapEntries: [] };
}


import { ScalarType, type DescField, type DescMethod } from "@bufbuild/protobuf";
import { isObjectType, type GraphQLSchema } from "graphql";
import { rpcPath } from "../../src/graphql/check-join.js";
import type { GraphqlEntity, GraphqlType } from "../../src/graphql/schema-map.js";
import type { BindingProblem } from "../bindings.js";
import { methodPath, sourceLine } from "../source-location.js";
import { GRAPHQL_METHOD_EXTENSION_NUMBER, readGraphqlMethod, type GraphqlExtensions } from "./graphql-options.js";

/** Key types: those whose proto3 JSON form identifies a value exactly (no float rounding, no base64 variants). */
const KEY_SCALARS: ReadonlySet<ScalarType> = new Set([
  ScalarType.STRING,
  ScalarType.INT32,
  ScalarType.SINT32,
  ScalarType.SFIXED32,
  ScalarType.UINT32,
  ScalarType.FIXED32,
  ScalarType.INT64,
  ScalarType.SINT64,
  ScalarType.SFIXED64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
]);

/**
 * The federation entities: the response messages of the served RPCs whose
 * `(protogate.v1.graphql)` option has an `entity`, each resolved by that RPC. Rules (a broken one
 * is a problem at the option's line, failing generate like a broken join):
 * - the RPC is unary; a hidden RPC may resolve an entity (it keeps no root field);
 * - `key` is a singular string or integer field of the response message, and a field of its
 *   GraphQL type; `request_field` (default: the key's name) a singular field of the request
 *   message of the key's type;
 * - one entity per message: two RPCs declaring the same one is a problem.
 * An entity whose message has no object type in the schema (no root field or join returns it) is
 * left out with a warning, as a join to an RPC that is not served is.
 */
export function planEntities(
  rpcs: readonly DescMethod[],
  extensions: GraphqlExtensions,
  schema: GraphQLSchema,
  types: ReadonlyMap<string, GraphqlType>,
  problems: BindingProblem[],
  warn: (source: string, message: string) => void,
): GraphqlEntity[] {
  const objectTypeOf = new Map([...types].filter(([, info]) => info.kind === "object").map(([name, info]) => [info.protoType, name]));
  const entities = new Map<string, GraphqlEntity>();
  for (const rpc of rpcs) {
    const read = readGraphqlMethod(rpc, extensions.method);
    // A problem with the option itself is reported by planOperations.
    if (read === undefined || "problem" in read || read.value.entity === undefined) continue;
    const declared = read.value.entity;
    const service = rpc.parent;
    const source = sourceLine(service.file, [...methodPath(service.file.services.indexOf(service), service.methods.indexOf(rpc)), 4, GRAPHQL_METHOD_EXTENSION_NUMBER]);
    const describe = `${service.typeName}.${rpc.name}`;
    const fail = (message: string) => problems.push({ source, message: `${describe}: entity: ${message}` });
    if (rpc.methodKind !== "unary") {
      fail(`a ${rpc.methodKind.replace("_", "-")} RPC cannot resolve an entity; declare it on a unary RPC answering one ${rpc.output.typeName}`);
      continue;
    }
    const key = singularField(rpc.output.fields, declared.key);
    if (key === undefined || !KEY_SCALARS.has(key.scalar)) {
      fail(`key "${declared.key}" must be a singular string or integer field of ${rpc.output.typeName}`);
      continue;
    }
    const requestFieldName = declared.requestField === "" ? declared.key : declared.requestField;
    const requestField = singularField(rpc.input.fields, requestFieldName);
    if (requestField === undefined || requestField.scalar !== key.scalar) {
      fail(`request field "${requestFieldName}" must be a singular ${ScalarType[key.scalar].toLowerCase()} field of ${rpc.input.typeName}, like the key`);
      continue;
    }
    const typeName = objectTypeOf.get(rpc.output.typeName);
    if (typeName === undefined) {
      warn(source, `${describe}: entity ${rpc.output.typeName} is left out of the federation subgraph: no root field or join returns it, so the schema has no type for it`);
      continue;
    }
    const type = schema.getType(typeName);
    if (!isObjectType(type) || type.getFields()[key.jsonName] === undefined) {
      fail(`key "${declared.key}" is not a field of GraphQL type ${typeName} (its JSON name ${key.jsonName} is left out of the schema)`);
      continue;
    }
    const earlier = entities.get(typeName);
    if (earlier !== undefined) {
      fail(`${rpc.output.typeName} is already an entity resolved by ${earlier.rpcPath.slice(1).replace("/", ".")} (${earlier.source}); one RPC resolves an entity`);
      continue;
    }
    entities.set(typeName, {
      type: typeName,
      protoType: rpc.output.typeName,
      keyField: key.jsonName,
      rpcPath: rpcPath(rpc),
      requestType: rpc.input.typeName,
      requestField: requestField.jsonName,
      source,
    });
  }
  return [...entities.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

function singularField(fields: readonly DescField[], name: string): (DescField & { fieldKind: "scalar" }) | undefined {
  const field = fields.find((f) => f.name === name);
  return field?.fieldKind === "scalar" ? field : undefined;
}

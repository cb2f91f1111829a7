import { ScalarType, type DescField, type DescMessage, type DescMethod, type FileRegistry } from "@bufbuild/protobuf";
import type { GraphqlJoin } from "../../src/graphql/schema-map.js";
import { sourcePath } from "../openapi/comments.js";
import { sourceLine } from "../source-location.js";
import { JOIN_EXTENSION_NUMBER, readJoin, type GraphqlExtensions } from "./graphql-options.js";
import { isGraphqlName } from "./names.js";

/** A join, checked: everything but the GraphQL name of the type it is added to (known once types are named). */
export interface CheckedJoin {
  readonly data: Omit<GraphqlJoin, "type">;
  /** The RPC resolving it: its response message is the added field's type. */
  readonly rpc: DescMethod;
}

/** The RPCs the gateway serves, by full name (`demo.v1.UserService.GetUser`). */
export type ServedRpcs = ReadonlyMap<string, DescMethod>;

/**
 * The `(protogate.v1.join)` of a field, checked against the RPCs it names: undefined when the field
 * has none, else the join or why it cannot be (the message names the option's source line).
 */
export function readFieldJoin(
  field: DescField,
  extensions: GraphqlExtensions,
  registry: FileRegistry,
  served: ServedRpcs,
): { join: CheckedJoin } | { problem: string; source: string } | { skipped: string; source: string } | undefined {
  const read = readJoin(field, extensions.join);
  if (read === undefined) return undefined;
  const path = sourcePath(field);
  const source = path === undefined ? field.parent.file.proto.name : sourceLine(field.parent.file, [...path, 8, JOIN_EXTENSION_NUMBER]);
  const fail = (problem: string) => ({ problem: `${field.parent.typeName}.${field.name}: ${problem}`, source });
  if ("problem" in read) return fail(read.problem);
  const option = read.value;
  if (!isGraphqlName(option.name)) return fail(`join name "${option.name}" is not a GraphQL name (letters, digits and _, not starting with a digit or __)`);
  const key = keyScalar(field);
  if (key === undefined) return fail("a join's field must be a scalar (or a repeated scalar) holding the key");
  const rpc = servedUnary(option.rpc, "join rpc", registry, served);
  if ("problem" in rpc) return fail(rpc.problem);
  if ("unserved" in rpc) return { skipped: `${field.parent.typeName}.${field.name}: join "${option.name}" is left out of the GraphQL schema: ${rpc.unserved}`, source };
  const requestFieldName = option.requestField === "" ? field.name : option.requestField;
  const requestField = rpc.method.input.fields.find((f) => f.name === requestFieldName);
  if (requestField === undefined) return fail(`request_field "${requestFieldName}" is not a field of ${rpc.method.input.typeName}`);
  if (requestField.fieldKind !== "scalar" || requestField.scalar !== key.scalar) return fail(`request field ${rpc.method.input.typeName}.${requestFieldName} must be a singular ${scalarName(key.scalar)} field, like the key`);
  let batch: GraphqlJoin["batch"];
  if (option.batch !== undefined) {
    const b = option.batch;
    const batchRpc = servedUnary(b.rpc, "batch rpc", registry, served);
    if ("problem" in batchRpc) return fail(batchRpc.problem);
    if ("unserved" in batchRpc) return { skipped: `${field.parent.typeName}.${field.name}: join "${option.name}" is left out of the GraphQL schema: ${batchRpc.unserved}`, source };
    const keys = batchRpc.method.input.fields.find((f) => f.name === b.requestField);
    if (keys?.fieldKind !== "list" || keys.listKind !== "scalar" || keys.scalar !== key.scalar) return fail(`batch request_field "${b.requestField}" must be a repeated ${scalarName(key.scalar)} field of ${batchRpc.method.input.typeName}, like the key`);
    const results = batchRpc.method.output.fields.find((f) => f.name === b.responseField);
    if (results?.fieldKind !== "list" || results.listKind !== "message" || results.message.typeName !== rpc.method.output.typeName) {
      return fail(`batch response_field "${b.responseField}" must be a repeated ${rpc.method.output.typeName} field of ${batchRpc.method.output.typeName}`);
    }
    const resultKey = fieldOf(results.message, b.keyField);
    if (resultKey?.fieldKind !== "scalar" || resultKey.scalar !== key.scalar) return fail(`batch key_field "${b.keyField}" must be a singular ${scalarName(key.scalar)} field of ${results.message.typeName}, like the key`);
    batch = { rpcPath: rpcPath(batchRpc.method), requestType: batchRpc.method.input.typeName, requestField: keys.jsonName, responseField: results.jsonName, keyField: resultKey.jsonName };
  }
  return {
    join: {
      rpc: rpc.method,
      data: {
        protoType: field.parent.typeName,
        field: option.name,
        keyField: field.jsonName,
        list: key.list,
        rpcPath: rpcPath(rpc.method),
        requestType: rpc.method.input.typeName,
        requestField: requestField.jsonName,
        ...(batch === undefined ? {} : { batch }),
        source,
      },
    },
  };
}

function scalarName(scalar: ScalarType): string {
  return ScalarType[scalar].toLowerCase();
}

function keyScalar(field: DescField): { scalar: ScalarType; list: boolean } | undefined {
  if (field.fieldKind === "scalar") return { scalar: field.scalar, list: false };
  if (field.fieldKind === "list" && field.listKind === "scalar") return { scalar: field.scalar, list: true };
  return undefined;
}

function fieldOf(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name);
}

/**
 * The served unary RPC of that name; `unserved` (a warning: the join is left out) when it exists
 * but the gateway does not serve it, as excluding a method must not break generation.
 */
function servedUnary(name: string, what: string, registry: FileRegistry, served: ServedRpcs): { method: DescMethod } | { problem: string } | { unserved: string } {
  const method = served.get(name);
  if (method === undefined) {
    const dot = name.lastIndexOf(".");
    const exists = dot > 0 && registry.getService(name.slice(0, dot))?.methods.some((m) => m.name === name.slice(dot + 1));
    if (exists) return { unserved: `${what} ${name} is not served by the gateway (it has no google.api.http rule, or --exclude leaves it out), and a join calls only RPCs the gateway serves` };
    return { problem: `${what} "${name}" names no RPC (write the full name: package.Service.Method)` };
  }
  if (method.methodKind !== "unary") return { problem: `${what} ${name} is ${method.methodKind.replace("_", "-")}; a join calls a unary RPC` };
  return { method };
}

export function rpcPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

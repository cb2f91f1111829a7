import { ScalarType, type DescField, type DescMessage, type DescMethod, type FileRegistry } from "@bufbuild/protobuf";
import { isGraphqlName } from "./graphql-name.js";
import type { GraphqlJoin } from "./schema-map.js";

/**
 * A join as declared, by proto names: the `(protogate.v1.join)` field option, or an entry of
 * gateway.yaml's `graphql.joins` (join-config.ts) for protos a team does not own. Both are checked
 * here, by the same rules, into the same join-table rows.
 */
export interface JoinDeclaration {
  /** The GraphQL field added, e.g. `user`. */
  readonly name: string;
  /** The resolving RPC's full name, e.g. `demo.v1.UserService.GetUser`. */
  readonly rpc: string;
  /** The request field set to the key, by proto name; empty: the key field's own name. */
  readonly requestField: string;
  readonly batch?: { readonly rpc: string; readonly requestField: string; readonly responseField: string; readonly keyField: string };
}

/** A join, checked: everything but the GraphQL name of the type it is added to (known once types are named). */
export interface CheckedJoin {
  readonly data: Omit<GraphqlJoin, "type">;
  /** The RPC resolving it: its response message is the added field's type. */
  readonly rpc: DescMethod;
}

/** The RPCs the gateway serves, by full name (`demo.v1.UserService.GetUser`). */
export type ServedRpcs = ReadonlyMap<string, DescMethod>;

/** The outcome of checking a join: the row, a problem (the declaration is wrong), or why it is left out (its RPC is not served). */
export type JoinCheck = { readonly join: CheckedJoin } | { readonly problem: string } | { readonly skipped: string };

/**
 * Checks a join declared on `field` (which holds the key) against the RPCs it names: the key is a
 * scalar (or repeated scalar), the RPC is served and unary, its request field has the key's type;
 * a batch RPC takes the keys in a repeated field and answers the join RPC's messages in another,
 * each holding its key. A join whose RPC exists but is not served is `skipped`, not a problem:
 * excluding a method must not break the rest.
 */
export function checkJoin(field: DescField, declared: JoinDeclaration, registry: FileRegistry, served: ServedRpcs, source: string): JoinCheck {
  const where = `${field.parent.typeName}.${field.name}`;
  const fail = (problem: string) => ({ problem: `${where}: ${problem}` });
  const skip = (why: string) => ({ skipped: `${where}: join "${declared.name}" is left out of the GraphQL schema: ${why}` });
  if (!isGraphqlName(declared.name)) return fail(`join name "${declared.name}" is not a GraphQL name (letters, digits and _, not starting with a digit or __)`);
  const key = keyScalar(field);
  if (key === undefined) return fail("a join's field must be a scalar (or a repeated scalar) holding the key");
  const rpc = servedUnary(declared.rpc, "join rpc", registry, served);
  if ("problem" in rpc) return fail(rpc.problem);
  if ("unserved" in rpc) return skip(rpc.unserved);
  const requestFieldName = declared.requestField === "" ? field.name : declared.requestField;
  const requestField = rpc.method.input.fields.find((f) => f.name === requestFieldName);
  if (requestField === undefined) return fail(`request_field "${requestFieldName}" is not a field of ${rpc.method.input.typeName}`);
  if (requestField.fieldKind !== "scalar" || requestField.scalar !== key.scalar) return fail(`request field ${rpc.method.input.typeName}.${requestFieldName} must be a singular ${scalarName(key.scalar)} field, like the key`);
  let batch: GraphqlJoin["batch"];
  if (declared.batch !== undefined) {
    const b = declared.batch;
    const batchRpc = servedUnary(b.rpc, "batch rpc", registry, served);
    if ("problem" in batchRpc) return fail(batchRpc.problem);
    if ("unserved" in batchRpc) return skip(batchRpc.unserved);
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
        field: declared.name,
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

import type { DescMethod } from "@bufbuild/protobuf";
import type { GraphqlRoot } from "../../src/graphql/schema-map.js";
import type { BindingProblem } from "../bindings.js";
import type { CodegenBinding } from "../model.js";
import { methodPath, sourceLine } from "../source-location.js";
import { GRAPHQL_METHOD_EXTENSION_NUMBER, readGraphqlMethod, type GraphqlExtensions } from "./graphql-options.js";
import { assignNames, isGraphqlName, lowerCamel, pascalPackage, type NameRequest } from "./names.js";

/** One RPC as a root field. */
export interface PlannedOperation {
  readonly rpc: DescMethod;
  readonly root: GraphqlRoot;
  readonly field: string;
  /** Its HTTP bindings (all of them serve the same RPC). */
  readonly bindings: readonly CodegenBinding[];
}

const KINDS: Readonly<Record<number, GraphqlRoot | undefined>> = { 1: "Query", 2: "Mutation", 3: "Subscription" };

/**
 * The root fields: every RPC the gateway serves (it has an HTTP binding) under Query (it has a GET
 * binding), Subscription (server streaming) or Mutation (any other unary RPC), unless its
 * `(protogate.v1.graphql)` option hides it or places it; client- and bidi-streaming RPCs have no
 * GraphQL form and are left out. Fields come in declaration order (file, service, method).
 */
export function planOperations(bindings: readonly CodegenBinding[], extensions: GraphqlExtensions, problems: BindingProblem[]): PlannedOperation[] {
  const byRpc = new Map<DescMethod, CodegenBinding[]>();
  for (const binding of [...bindings].sort(declarationOrder)) byRpc.set(binding.rpc, [...(byRpc.get(binding.rpc) ?? []), binding]);
  const placed: { rpc: DescMethod; root: GraphqlRoot; request: NameRequest; bindings: CodegenBinding[]; where: string }[] = [];
  for (const [rpc, rpcBindings] of byRpc) {
    const service = rpc.parent;
    const where = sourceLine(service.file, [...methodPath(service.file.services.indexOf(service), service.methods.indexOf(rpc)), 4, GRAPHQL_METHOD_EXTENSION_NUMBER]);
    const describe = `${service.typeName}.${rpc.name}`;
    const read = readGraphqlMethod(rpc, extensions.method);
    if (read !== undefined && "problem" in read) {
      problems.push({ source: where, message: `${describe}: ${read.problem}` });
      continue;
    }
    const option = read?.value;
    if (option?.hide) continue;
    const forced = option === undefined ? undefined : KINDS[option.kind];
    let root: GraphqlRoot | undefined;
    if (rpc.methodKind === "client_streaming" || rpc.methodKind === "bidi_streaming") {
      if (forced !== undefined) problems.push({ source: where, message: `${describe}: a ${rpc.methodKind.replace("_", "-")} RPC has no GraphQL form; remove the kind (client- and bidi-streaming RPCs are left out of the schema)` });
      continue;
    } else if (rpc.methodKind === "server_streaming") {
      if (forced !== undefined && forced !== "Subscription") problems.push({ source: where, message: `${describe}: a server-streaming RPC can only be a Subscription field, not a ${forced} field` });
      root = "Subscription";
    } else {
      if (forced === "Subscription") problems.push({ source: where, message: `${describe}: a unary RPC cannot be a Subscription field (only server-streaming ones can)` });
      root = forced === "Query" || forced === "Mutation" ? forced : rpcBindings.some((b) => b.httpMethod === "GET") ? "Query" : "Mutation";
    }
    const name = option?.name ?? "";
    if (name !== "" && !isGraphqlName(name)) {
      problems.push({ source: where, message: `${describe}: GraphQL name "${name}" is not a GraphQL name (letters, digits and _, not starting with a digit or __)` });
      continue;
    }
    const key = `/${service.typeName}/${rpc.name}`;
    const request: NameRequest =
      name !== ""
        ? { key, candidates: [[name]], explicit: true }
        : { key, candidates: [[lowerCamel(rpc.name)], [lowerCamel(service.name) + rpc.name], [lowerCamel(pascalPackage(service.file.proto.package) + service.name + rpc.name)]] };
    placed.push({ rpc, root, request, bindings: rpcBindings, where });
  }
  const operations: PlannedOperation[] = [];
  for (const root of ["Query", "Mutation", "Subscription"] as const) {
    const under = placed.filter((p) => p.root === root);
    const { names, clashes } = assignNames(under.map((p) => p.request), new Set());
    for (const clash of clashes) {
      const where = under.find((p) => p.request.key === clash.keys[0])?.where ?? clash.keys[0];
      problems.push({ source: where, message: `two RPCs are both named ${root}.${clash.name} in GraphQL (${clash.keys.join(", ")}); rename one with option (protogate.v1.graphql) = {name: "..."}` });
    }
    for (const p of under) {
      const field = names.get(p.request.key);
      if (field !== undefined) operations.push({ rpc: p.rpc, root, field, bindings: p.bindings });
    }
  }
  return operations;
}

/** Top-level request fields that every binding of the RPC sets from its path: the field's argument is required. */
export function pathBoundFields(bindings: readonly CodegenBinding[]): Set<string> {
  const sets = bindings.map((b) => new Set(b.template.variables.map((v) => v.fieldPath[0])));
  const [first, ...rest] = sets;
  return new Set([...(first ?? [])].filter((name) => rest.every((set) => set.has(name))));
}

function declarationOrder(a: CodegenBinding, b: CodegenBinding): number {
  const fa = a.rpc.parent.file;
  const fb = b.rpc.parent.file;
  return (
    compare(fa.name, fb.name) ||
    fa.services.indexOf(a.rpc.parent) - fb.services.indexOf(b.rpc.parent) ||
    a.rpc.parent.methods.indexOf(a.rpc) - b.rpc.parent.methods.indexOf(b.rpc) ||
    a.bindingIndex - b.bindingIndex
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

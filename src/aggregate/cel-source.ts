import { celEnv, CelScalar, isCelError, isCelList, isCelMap, isCelUint, mapType, objectType, parse, plan, type CelEnv, type CelInput } from "@bufbuild/cel";
import { toJson, type DescMessage, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { isReflectMessage } from "@bufbuild/protobuf/reflect";

/** A parsed CEL expression (the AST type of @bufbuild/cel's `parse`, without importing its spec package). */
type Expr = ReturnType<typeof parse>["expr"];

/**
 * CEL (`@bufbuild/cel`) for aggregate request fields beyond plain references: the expression
 * language grpc-federation and Google's APIs use, rather than one of our own. An expression sees
 * - `path`: the aggregate's path variables (map of string to string);
 * - `query`: the query parameters (map of string to string, the first value of each);
 * - `claims`: the caller's verified claims (`claims.sub` always: the subject, also of an API key);
 * - each other call by name, as its response message (proto field names: `user.region`).
 */

/** The variables of one evaluation: path and query values, claims, and the responses of the calls the expression names. */
export interface CelVariables {
  readonly path: ReadonlyMap<string, string>;
  readonly query: ReadonlyMap<string, string>;
  readonly claims: ReadonlyMap<string, CelInput>;
  /** Call name -> its response message (a @bufbuild/protobuf message of the call's response type). */
  readonly calls: { get(name: string): unknown };
}

export interface CompiledCel {
  /** The calls the expression reads: it runs after them. */
  readonly callRefs: readonly string[];
  /** The expression's value as proto3 JSON (for the field's JSON reader); throws an Error saying what failed. */
  evaluate(variables: CelVariables): JsonValue;
}

/** What a compiled expression may name: the calls (by response type). */
export interface CelScope {
  readonly registry: Registry;
  readonly calls: ReadonlyMap<string, DescMessage>;
}

const FIXED_VARIABLES = ["path", "query", "claims"] as const;

/** One CEL environment per aggregate: its calls' response types as variables. */
export function celEnvironment(scope: CelScope): CelEnv {
  const variables: Record<string, ReturnType<typeof objectType> | ReturnType<typeof mapType>> = {
    path: mapType(CelScalar.STRING, CelScalar.STRING),
    query: mapType(CelScalar.STRING, CelScalar.STRING),
    claims: mapType(CelScalar.STRING, CelScalar.DYN),
  };
  for (const [name, desc] of scope.calls) variables[name] = objectType(desc);
  return celEnv({ registry: scope.registry, variables });
}

/**
 * Parses `source` and checks what it names: only `path`, `query`, `claims`, the calls in scope
 * (not `self`) and the expression's own comprehension variables; each field read from a call's
 * response (`user.region`) must exist. Returns an error message otherwise. The type of the value
 * is checked when it runs (the public API of @bufbuild/cel 0.6 does not export its type checker).
 */
export function compileCel(source: string, scope: CelScope, env: CelEnv, self: string): CompiledCel | string {
  let expr: Expr;
  try {
    expr = parse(source).expr;
  } catch (error) {
    return `CEL syntax: ${(error as Error).message}`;
  }
  const refs = new Set<string>();
  const problem = checkNames(expr, new Set(), scope, self, refs);
  if (problem !== undefined) return problem;
  const run = plan(env, expr);
  const callRefs = [...refs];
  return {
    callRefs,
    evaluate(variables) {
      const bindings: Record<string, unknown> = { path: variables.path, query: variables.query, claims: variables.claims };
      for (const name of callRefs) bindings[name] = variables.calls.get(name);
      const value: unknown = run(bindings as Parameters<typeof run>[0]);
      if (isCelError(value)) throw new Error(`CEL evaluation: ${value.message}`);
      return celToJson(value, scope.registry);
    },
  };
}

/** Walks the expression: unknown names, reads of fields a call's response does not have. */
function checkNames(expr: Expr | undefined, locals: ReadonlySet<string>, scope: CelScope, self: string, refs: Set<string>): string | undefined {
  if (expr === undefined) return undefined;
  const kind = expr.exprKind;
  switch (kind.case) {
    case "identExpr":
      return checkIdent(kind.value.name, locals, scope, self, refs);
    case "selectExpr": {
      // A chain `call.a.b` from a call: check each field on the response type.
      const chain: string[] = [];
      let operand: Expr | undefined = expr;
      while (operand?.exprKind.case === "selectExpr") {
        chain.unshift(operand.exprKind.value.field);
        operand = operand.exprKind.value.operand;
      }
      if (operand?.exprKind.case === "identExpr" && !locals.has(operand.exprKind.value.name)) {
        const name = operand.exprKind.value.name;
        const problem = checkIdent(name, locals, scope, self, refs);
        if (problem !== undefined) return problem;
        const desc = scope.calls.get(name);
        if (desc !== undefined) return checkFieldChain(desc, name, chain);
        return undefined;
      }
      return checkNames(operand, locals, scope, self, refs);
    }
    case "callExpr":
      for (const arg of [kind.value.target, ...kind.value.args]) {
        const problem = checkNames(arg, locals, scope, self, refs);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case "listExpr":
      for (const element of kind.value.elements) {
        const problem = checkNames(element, locals, scope, self, refs);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case "structExpr":
      for (const entry of kind.value.entries) {
        const key = entry.keyKind.case === "mapKey" ? entry.keyKind.value : undefined;
        const problem = checkNames(key, locals, scope, self, refs) ?? checkNames(entry.value, locals, scope, self, refs);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case "comprehensionExpr": {
      const c = kind.value;
      const problem = checkNames(c.iterRange, locals, scope, self, refs) ?? checkNames(c.accuInit, locals, scope, self, refs);
      if (problem !== undefined) return problem;
      const inner = new Set([...locals, c.iterVar, c.accuVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
      return checkNames(c.loopCondition, inner, scope, self, refs) ?? checkNames(c.loopStep, inner, scope, self, refs) ?? checkNames(c.result, inner, scope, self, refs);
    }
    default:
      return undefined;
  }
}

function checkIdent(name: string, locals: ReadonlySet<string>, scope: CelScope, self: string, refs: Set<string>): string | undefined {
  if (locals.has(name) || (FIXED_VARIABLES as readonly string[]).includes(name)) return undefined;
  if (name === self) return `CEL: a call cannot read its own response ("${name}")`;
  if (scope.calls.has(name)) {
    refs.add(name);
    return undefined;
  }
  return `CEL: unknown name "${name}" (expected path, query, claims or a call of this aggregate: ${[...scope.calls.keys()].filter((call) => call !== self).join(", ")})`;
}

/** `user.a.b`: each name a field of the message before it, as far as the path stays in singular, ordinary messages. */
function checkFieldChain(desc: DescMessage, call: string, chain: readonly string[]): string | undefined {
  let message: DescMessage | undefined = desc;
  for (let i = 0; i < chain.length && message !== undefined; i++) {
    const field: DescMessage["fields"][number] | undefined = message.fields.find((candidate) => candidate.name === chain[i]);
    if (field === undefined) return `CEL: ${call}.${chain.slice(0, i + 1).join(".")}: ${message.typeName} has no field "${chain[i]}" (CEL uses proto field names)`;
    // Well-known types are CEL values of their own (a Struct is a map, a Timestamp a timestamp): not checked further.
    message = field.fieldKind === "message" && !field.message.typeName.startsWith("google.protobuf.") ? field.message : undefined;
  }
  return undefined;
}

/** A CEL value as proto3 JSON: int64 beyond 2^53 as a string, bytes as base64, messages by their JSON mapping. */
function celToJson(value: unknown, registry: Registry): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  if (isCelUint(value)) return celToJson(value.value, registry);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (isCelList(value)) return [...value].map((element) => celToJson(element, registry));
  if (isCelMap(value)) {
    const out: Record<string, JsonValue> = {};
    for (const [key, element] of value) out[String(isCelUint(key) ? key.value : key)] = celToJson(element, registry);
    return out;
  }
  if (isReflectMessage(value)) return toJson(value.desc, value.message, { registry });
  throw new Error(`CEL value of an unexpected kind (${typeof value})`);
}

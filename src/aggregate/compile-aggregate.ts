import type { CelInput } from "@bufbuild/cel";
import type { DescMessage, JsonValue, Registry } from "@bufbuild/protobuf";
import { parseTemplate, TemplateError } from "../../codegen/http-rule/parse-template.js";
import type { EffectiveRule } from "../auth/authorize.js";
import { ConfigError } from "../config/load-config.js";
import type { MethodLimiter } from "../ratelimit/rate-limiter.js";
import type { PreparedRoute } from "../gateway/prepared-route.js";
import type { RouteIdentity } from "../observe/exchange.js";
import type { PathTemplate } from "../routing/template.js";
import { leafParent, resolveFieldPath, type ResolvedFieldPath } from "../transcode/field-path.js";
import { compileSelection, type FieldSelection } from "../transcode/field-selection.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import type { FieldPlan, MessagePlan } from "../transcode/json/plan-types.js";
import type { AggregateCallConfig, AggregateConfig, ValueSource } from "./aggregate-config.js";
import { createAnswerFields, type AnswerFields } from "./answer-fields.js";
import { answerShape, type AnswerShape } from "./answer-shape.js";
import type { TypedAggregate } from "./typed/define-aggregate.js";
import { celEnvironment, compileCel, type CelVariables } from "./cel-source.js";
import { FIELDS_PARAMETER } from "../gateway/partial-response.js";

/** The `service` of an aggregate's route identity: auth and rate-limit selectors name it `aggregate.NAME`. */
export const AGGREGATE_SERVICE = "aggregate";

/**
 * The aggregates do not fit the descriptors or the route table: one line per problem, each naming
 * the aggregate, the call and the field. A ConfigError, so `serve` prints it as one (no stack).
 */
export class AggregateConfigError extends ConfigError {
  override name = "AggregateConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`aggregates: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join("\n  ")}`}`);
  }
}

/** What a call's request fields are computed from, for one aggregate request. */
export interface CallInputs {
  readonly path: ReadonlyMap<string, string>;
  readonly query: ReadonlyMap<string, readonly string[]>;
  /** The caller's verified claims (`sub` always, when there is a caller). */
  readonly claims: ReadonlyMap<string, unknown>;
  /** Finished calls (their whole response, before selection). */
  readonly results: ReadonlyMap<string, CallResult>;
  /** The CEL variables, built on first use. */
  celVariables(): CelVariables;
}

/** A call's response as later calls read it. */
export interface CallResult {
  /** proto3 JSON of the whole response. */
  readonly json: JsonValue;
  /** The response as a @bufbuild/protobuf message (for CEL), decoded on first use. */
  message(): unknown;
}

/** Sets one request field from its source; throws an Error saying what did not fit. */
interface FieldSetter {
  readonly path: string;
  /** The query parameter it reads (`{query: NAME}`), and whether into a repeated field. */
  readonly query?: { readonly name: string; readonly repeated: boolean };
  set(message: Record<string, unknown>, inputs: CallInputs): void;
}

export type CompiledPolicy = { readonly kind: "fail" } | { readonly kind: "partial" } | { readonly kind: "default"; readonly json: JsonValue };

export interface CompiledCall {
  readonly name: string;
  /** The method's own route: its rule, limits, upstream, deadline and idempotency. */
  readonly route: PreparedRoute;
  readonly requestPlan: MessagePlan;
  readonly responsePlan: MessagePlan;
  readonly responseDesc: DescMessage;
  readonly fields: readonly FieldSetter[];
  /** The calls it needs finished first. */
  readonly dependsOn: readonly string[];
  readonly selection: FieldSelection | undefined;
  readonly deadlineMs: number | undefined;
  readonly policy: CompiledPolicy;
  readonly hidden: boolean;
}

/** An aggregate route, ready to serve: what the router and the edge checks need, and its calls. */
export interface PreparedAggregate {
  /** How observers (metrics, traces, access log) name it: rpc `/aggregate/NAME`, route its path. */
  readonly binding: RouteIdentity;
  readonly template: PathTemplate;
  readonly rule: EffectiveRule;
  readonly limiter: MethodLimiter | undefined;
  readonly deadlineMs: number;
  /** In declaration order (the response's key order). */
  readonly calls: readonly CompiledCall[];
  /** The answer's shape, from the calls' selections over their response messages. */
  readonly shape: AnswerShape;
  /** The query parameters its calls read (`{query: NAME}`), for its OpenAPI operation; `repeated` when one feeds a repeated field. */
  readonly queryParameters: ReadonlyArray<{ readonly name: string; readonly repeated: boolean }>;
  /** The aggregate as configured (its name, path and auth, for docs). */
  readonly name: string;
  /** A typed aggregate's module (its code makes the calls; `calls` is empty), or undefined. */
  readonly typed: TypedAggregate | undefined;
  /** `?fields=` (partial answers); undefined when a call reads a query parameter named `fields` (the parameter is then the calls'). */
  readonly fields: AnswerFields | undefined;
}

export interface AggregateDependencies {
  readonly codecs: CodecRegistry;
  /** The route table's routes, by `pkg.Service.Method` (the first binding of each). */
  readonly routes: ReadonlyMap<string, PreparedRoute>;
  readonly ruleFor: (service: string, method: string, rule: { public: boolean; scopes: readonly string[]; forwardAuthorization: boolean }) => EffectiveRule;
  readonly limiterFor: (service: string, method: string) => MethodLimiter | undefined;
  readonly defaultDeadlineMs: number;
  /** The typed aggregates' modules, loaded (typed/load-aggregate-modules.ts), by aggregate name. */
  readonly modules?: ReadonlyMap<string, TypedAggregate>;
}

/**
 * Checks every aggregate against the descriptors and the route table and prepares it; throws
 * an AggregateConfigError listing every problem (unknown RPC, unknown field, a value of the
 * wrong type, bad CEL, a cycle), each naming the aggregate, the call and the field.
 */
export function compileAggregates(configs: readonly AggregateConfig[], deps: AggregateDependencies): PreparedAggregate[] {
  const problems: string[] = [];
  const prepared: PreparedAggregate[] = [];
  for (const config of configs) {
    const result = compileAggregate(config, deps, (message) => problems.push(`aggregate "${config.name}": ${message}`));
    if (result !== undefined) prepared.push(result);
  }
  if (problems.length > 0) throw new AggregateConfigError(problems);
  return prepared;
}

function compileAggregate(config: AggregateConfig, deps: AggregateDependencies, report: (message: string) => void): PreparedAggregate | undefined {
  let problems = 0;
  const problem = (message: string) => {
    problems++;
    report(message);
  };
  let template: PathTemplate;
  try {
    template = parseTemplate(config.path);
  } catch (error) {
    problem(`path ${JSON.stringify(config.path)}: ${error instanceof TemplateError ? error.message : String(error)}`);
    return undefined;
  }
  const pathVariables = new Set<string>();
  for (const variable of template.variables) {
    if (variable.fieldPath.length !== 1) problem(`path ${JSON.stringify(config.path)}: variable {${variable.fieldPath.join(".")}} must be a plain name (it is not a request field)`);
    pathVariables.add(variable.fieldPath.join("."));
  }

  const rule = deps.ruleFor(AGGREGATE_SERVICE, config.name, config.auth);
  const binding: RouteIdentity = Object.freeze({ service: AGGREGATE_SERVICE, method: config.name, rpcPath: `/${AGGREGATE_SERVICE}/${config.name}`, kind: "unary", httpMethod: config.method, pattern: config.path });
  const common = { binding, template, rule, name: config.name, limiter: deps.limiterFor(AGGREGATE_SERVICE, config.name), deadlineMs: config.deadlineMs ?? deps.defaultDeadlineMs };
  if (config.module !== undefined) {
    // A typed aggregate: its code makes the calls (typed/run-typed-aggregate.ts); nothing to check against descriptors here.
    const typed = deps.modules?.get(config.name);
    if (typed === undefined) {
      problem(`module ${config.module} was not loaded`);
      return undefined;
    }
    if (problems > 0) return undefined;
    return { ...common, calls: [], shape: { calls: [] }, queryParameters: [], fields: undefined, typed };
  }
  const callConfigs = config.calls ?? {};

  // The calls' routes and response types first: CEL and `from` read them.
  const targets = new Map<string, { route: PreparedRoute; desc: DescMessage }>();
  for (const [name, call] of Object.entries(callConfigs)) {
    const route = deps.routes.get(call.rpc);
    if (route === undefined) {
      problem(`call "${name}": unknown RPC ${call.rpc} (an aggregate calls unary methods that have an HTTP rule in the generated route table)`);
      continue;
    }
    targets.set(name, { route, desc: deps.codecs.plan(route.binding.responseType).desc });
  }
  const registry: Registry = deps.codecs.files;
  const scope = { registry, calls: new Map([...targets].map(([name, target]) => [name, target.desc])) };
  const env = celEnvironment(scope);

  const calls: CompiledCall[] = [];
  for (const [name, call] of Object.entries(callConfigs)) {
    const target = targets.get(name);
    if (target === undefined) continue;
    const compiled = compileCall(name, call, target.route, { deps, pathVariables, scope, env, calls: callConfigs }, (message) => problem(`call "${name}", ${message}`));
    if (compiled !== undefined) calls.push(compiled);
  }
  const cycle = findCycle(calls);
  if (cycle !== undefined) problem(`calls ${cycle.map((name) => `"${name}"`).join(" -> ")} depend on each other in a cycle`);
  if (problems > 0) return undefined;

  const shape = answerShape(calls);
  const readsFields = Object.values(callConfigs).some((call) => Object.values(call.request).some((source) => "query" in source && source.query === FIELDS_PARAMETER));
  return {
    ...common,
    calls,
    shape,
    queryParameters: queryParametersOf(calls),
    fields: readsFields ? undefined : createAnswerFields(shape),
    typed: undefined,
  };
}

interface CallContext {
  readonly deps: AggregateDependencies;
  readonly pathVariables: ReadonlySet<string>;
  readonly scope: Parameters<typeof celEnvironment>[0];
  readonly env: ReturnType<typeof celEnvironment>;
  readonly calls: Readonly<Record<string, AggregateCallConfig>>;
}

function compileCall(name: string, call: AggregateCallConfig, route: PreparedRoute, context: CallContext, problem: (message: string) => void): CompiledCall | undefined {
  const { codecs } = context.deps;
  let failed = false;
  const fail = (message: string) => {
    failed = true;
    problem(message);
  };
  if (route.binding.kind !== "unary") fail(`rpc ${call.rpc}: a streaming method cannot be part of an aggregate`);
  const requestPlan = codecs.plan(route.binding.requestType);
  const responsePlan = codecs.plan(route.binding.responseType);
  const dependsOn = new Set<string>();
  const fields: FieldSetter[] = [];
  for (const [path, source] of Object.entries(call.request)) {
    const resolved = resolveFieldPath(requestPlan, path.split("."), true);
    if (typeof resolved === "string") {
      fail(`field "${path}": ${resolved}`);
      continue;
    }
    const setter = compileSource(name, path, resolved, source, context, dependsOn);
    if (typeof setter === "string") fail(`field "${path}": ${setter}`);
    else fields.push(setter);
  }

  let selection: FieldSelection | undefined;
  if (call.select !== undefined || Object.keys(call.rename).length > 0) {
    const paths = call.select ?? [];
    for (const renamed of Object.keys(call.rename)) if (!paths.includes(renamed)) fail(`rename "${renamed}": not one of the selected paths (${paths.join(", ") || "none"})`);
    const compiled = compileSelection(responsePlan, paths.map((path) => ({ path, rename: call.rename[path] })));
    if (Array.isArray(compiled)) for (const selectionProblem of compiled) fail(`select "${selectionProblem.path}": ${selectionProblem.message}`);
    else selection = compiled;
  }

  let policy: CompiledPolicy = { kind: "fail" };
  if (call.onError === "partial") policy = { kind: "partial" };
  else if (typeof call.onError === "object") {
    try {
      // Normalised through the response type: a default that is not a valid response is a config error.
      const value = codecs.codec(responsePlan.typeName).fromJson(call.onError.default);
      policy = { kind: "default", json: responsePlan.writeJson(value, 1) };
    } catch (error) {
      fail(`onError default: not a ${responsePlan.typeName} in proto3 JSON: ${(error as Error).message}`);
    }
  }
  if (call.hidden && policy.kind === "partial") fail("a hidden call cannot be partial: its error would have no key in the response");
  if (failed) return undefined;
  return {
    name,
    route,
    requestPlan,
    responsePlan,
    responseDesc: responsePlan.desc,
    fields,
    dependsOn: [...dependsOn],
    selection,
    deadlineMs: call.deadlineMs,
    policy,
    hidden: call.hidden,
  };
}

/** One field's setter, or what is wrong with its source. */
function compileSource(self: string, path: string, resolved: ResolvedFieldPath, source: ValueSource, context: CallContext, dependsOn: Set<string>): FieldSetter | string {
  const { leaf } = resolved;
  const depth = resolved.fields.length;
  const put = (message: Record<string, unknown>, value: unknown) => {
    leafParent(message, resolved)[leaf.prop] = value;
  };
  /** A JSON value read by the field's own reader (as a request body's would be). */
  const fromJson = (value: JsonValue, what: string) => {
    try {
      return leaf.read(value, depth + 1);
    } catch (error) {
      throw new Error(`${what} does not fit field "${path}" (${describe(leaf)}): ${(error as Error).message}`);
    }
  };
  /** Text (a path variable, a query parameter, a string claim) read by the field's string form. */
  const fromText = (text: string, what: string) => {
    const read = leaf.element.readString;
    if (read === undefined) throw new Error(`${what} is text, and field "${path}" (${describe(leaf)}) has no string form`);
    try {
      return read(text);
    } catch (error) {
      throw new Error(`${what} does not fit field "${path}" (${describe(leaf)}): ${(error as Error).message}`);
    }
  };
  const textual = leaf.cardinality !== "map" && leaf.element.readString !== undefined;

  if ("path" in source) {
    if (!context.pathVariables.has(source.path)) return `{path: ${source.path}}: the aggregate's path has no variable {${source.path}}`;
    if (!textual || leaf.cardinality === "list") return `a path variable is one piece of text; field "${path}" is ${describe(leaf)}`;
    return {
      path,
      set(message, inputs) {
        const text = inputs.path.get(source.path);
        if (text !== undefined) put(message, fromText(text, `path variable {${source.path}}`));
      },
    };
  }
  if ("query" in source) {
    if (!textual) return `a query parameter is text; field "${path}" is ${describe(leaf)}`;
    return {
      path,
      query: { name: source.query, repeated: leaf.cardinality === "list" },
      set(message, inputs) {
        const values = inputs.query.get(source.query);
        if (values === undefined || values.length === 0) return;
        const what = `query parameter ${source.query}`;
        put(message, leaf.cardinality === "list" ? values.map((value) => fromText(value, what)) : fromText(values[values.length - 1], what));
      },
    };
  }
  if ("claim" in source) {
    return {
      path,
      set(message, inputs) {
        const value = inputs.claims.get(source.claim);
        if (value === undefined) return;
        const what = `claim ${source.claim}`;
        put(message, typeof value === "string" && leaf.cardinality === "singular" && leaf.element.readString !== undefined ? fromText(value, what) : fromJson(value as JsonValue, what));
      },
    };
  }
  if ("const" in source) {
    let value: unknown;
    try {
      value = fromJson(source.const as JsonValue, "the constant");
    } catch (error) {
      return (error as Error).message;
    }
    return { path, set: (message) => put(message, value) };
  }
  if ("from" in source) {
    const [call, ...fieldPath] = source.from.split(".");
    const problem = checkReference(self, call, context);
    if (problem !== undefined) return `{from: ${source.from}}: ${problem}`;
    const responsePlan = context.deps.codecs.plan(context.deps.routes.get(context.calls[call].rpc)!.binding.responseType);
    const from = resolveFieldPath(responsePlan, fieldPath, true);
    if (typeof from === "string") return `{from: ${source.from}}: ${from}`;
    const mismatch = typeMismatch(from.leaf, leaf);
    if (mismatch !== undefined) return `{from: ${source.from}}: ${mismatch}`;
    dependsOn.add(call);
    const jsonPath = from.fields.map((field) => field.jsonName);
    return {
      path,
      set(message, inputs) {
        let value: JsonValue | undefined = inputs.results.get(call)?.json;
        for (const key of jsonPath) value = value !== null && typeof value === "object" && !Array.isArray(value) ? value[key] : undefined;
        // Absent in the response (a default value): the field keeps its default too.
        if (value !== undefined && value !== null) put(message, fromJson(value, `${source.from}`));
      },
    };
  }
  const compiled = compileCel(source.cel, context.scope, context.env, self);
  if (typeof compiled === "string") return `{cel: ${JSON.stringify(source.cel)}}: ${compiled}`;
  for (const ref of compiled.callRefs) dependsOn.add(ref);
  return {
    path,
    set(message, inputs) {
      const value = compiled.evaluate(inputs.celVariables());
      if (value !== null) put(message, fromJson(value, `the value of ${JSON.stringify(source.cel)}`));
    },
  };
}

function checkReference(self: string, call: string, context: CallContext): string | undefined {
  if (call === self) return "a call cannot use its own response";
  if (!(call in context.calls)) return `no call named "${call}" in this aggregate (calls: ${Object.keys(context.calls).join(", ")})`;
  if (!context.deps.routes.has(context.calls[call].rpc)) return `call "${call}" has an unknown RPC`;
  return undefined;
}

/** Why a value of field `from` cannot be set on field `to` (same cardinality, same scalar, enum or message type). */
function typeMismatch(from: FieldPlan, to: FieldPlan): string | undefined {
  if (from.cardinality !== to.cardinality || describeType(from) !== describeType(to)) return `type mismatch: ${describe(from)} cannot be set on ${describe(to)}`;
  return undefined;
}

function describeType(field: FieldPlan): string {
  const desc = field.desc;
  if (desc.fieldKind === "scalar" || (desc.fieldKind === "list" && desc.listKind === "scalar") || (desc.fieldKind === "map" && desc.mapKind === "scalar")) return scalarName(desc.scalar);
  if (desc.fieldKind === "enum" || (desc.fieldKind === "list" && desc.listKind === "enum") || (desc.fieldKind === "map" && desc.mapKind === "enum")) return desc.enum.typeName;
  if (desc.fieldKind === "message" || (desc.fieldKind === "list" && desc.listKind === "message") || (desc.fieldKind === "map" && desc.mapKind === "message")) return desc.message.typeName;
  return "unknown";
}

const SCALAR_NAMES: Readonly<Record<number, string>> = { 1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64" };

function scalarName(scalar: number): string {
  return SCALAR_NAMES[scalar] ?? `scalar ${scalar}`;
}

function describe(field: FieldPlan): string {
  const type = describeType(field);
  return `${field.desc.parent.typeName}.${field.protoName}: ${field.cardinality === "list" ? `repeated ${type}` : field.cardinality === "map" ? `map of ${type}` : type}`;
}

/** The query parameters the calls read, each once (repeated if any call reads it into a repeated field). */
function queryParametersOf(calls: readonly CompiledCall[]): Array<{ name: string; repeated: boolean }> {
  const parameters = new Map<string, boolean>();
  for (const call of calls) for (const field of call.fields) if (field.query !== undefined) parameters.set(field.query.name, (parameters.get(field.query.name) ?? false) || field.query.repeated);
  return [...parameters].map(([name, repeated]) => ({ name, repeated }));
}

/** A dependency cycle among the calls (names in order, the first repeated last), if any. */
function findCycle(calls: readonly CompiledCall[]): string[] | undefined {
  const byName = new Map(calls.map((call) => [call.name, call]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const next of byName.get(name)?.dependsOn ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const call of calls) {
    const cycle = visit(call.name);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/** The claims CEL and `claim:` sources see: the token's claims, and `sub` (the subject, API keys too). */
export function claimsOf(caller: { subject: string; claims: Readonly<Record<string, unknown>> } | undefined): Map<string, unknown> {
  const claims = new Map<string, unknown>();
  if (caller === undefined) return claims;
  for (const [key, value] of Object.entries(caller.claims)) claims.set(key, value);
  claims.set("sub", caller.subject);
  return claims;
}

/** A JSON value as CEL input: objects become maps (CEL takes maps, not plain objects). */
export function jsonToCel(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(jsonToCel);
  if (value !== null && typeof value === "object") return new Map(Object.entries(value).map(([key, element]) => [key, jsonToCel(element)]));
  return value as CelInput;
}

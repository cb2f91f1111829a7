import type { DescMethod, DescService, FileRegistry } from "@bufbuild/protobuf";
import type { AuthRuleData } from "../../src/binding.js";
import { routeShape } from "../../src/routing/format-template.js";
import { checkAuthRule } from "../auth-rule/check-auth-rule.js";
import { readAuthRule } from "../auth-rule/read-auth-rule.js";
import { compileRule, type BindingProblem, type RuleExtensions } from "../bindings.js";
import { HTTP_RULE_EXTENSION_NUMBER, readHttpRule, type HttpRuleShape } from "../http-rule/read-http-rule.js";
import type { CodegenBinding } from "../model.js";
import { methodPath, sourceLine } from "../source-location.js";
import { operationScopeOf, scopeKey, scopeRoutes, type OperationScope } from "./operation-scopes.js";
import { OPERATION_MESSAGE, OPERATIONS_METHODS, OPERATIONS_PROTO, OPERATIONS_SERVICE, type OperationsHttpRule, type OperationsMethod, type OperationsOptions, type ServiceConfigRoutes } from "./operations-options.js";

export interface OperationRoutes {
  /** Bindings of google.longrunning.Operations methods, each borrowing the upstream of the API service it serves. */
  readonly bindings: CodegenBinding[];
  /** Explicit rules (service configs) that cannot be served: generation fails. */
  readonly problems: BindingProblem[];
  /** Derived routes left out (a conflict with the API's own routes) and doubtful upstream choices. */
  readonly warnings: BindingProblem[];
}

/** One route to add before it is compiled: which method, which rule, and for which API service. */
interface PlannedRoute {
  readonly method: OperationsMethod;
  readonly rule: HttpRuleShape;
  readonly source: string;
  /**
   * The API services whose upstream may serve it, in order (the gateway takes the first one
   * configured); the first also gives the access rule. Empty when none is known.
   */
  readonly owners: readonly DescService[];
  /** Derived routes give way to the API's own routes; explicit ones are errors when they collide. */
  readonly explicit: boolean;
}

/**
 * The `google.longrunning.Operations` routes of the generated API, so clients can poll, list,
 * cancel and delete the operations its methods return:
 * - from the service configs' rules when any declares operation rules (Google's `*_v2.yaml`);
 * - otherwise derived from the paths of the methods that return `google.longrunning.Operation`
 *   (one set of four routes per operation scope, see operation-scopes.ts);
 * - otherwise (no such path has a `collection/*` scope) operations.proto's own rules.
 * Nothing when the API returns no operations, or with `mode: "off"`.
 */
export function operationRoutes(registry: FileRegistry, apiBindings: readonly CodegenBinding[], extensions: RuleExtensions, options: OperationsOptions): OperationRoutes {
  const empty: OperationRoutes = { bindings: [], problems: [], warnings: [] };
  if (options.mode === "off") return empty;
  const longRunning = apiBindings.filter((b) => b.rpc.output.typeName === OPERATION_MESSAGE && b.kind === "unary");
  const configs = options.configs.filter((config) => config.rules.length > 0);
  if (longRunning.length === 0 && configs.length === 0) return empty;
  const operations = registry.getService(OPERATIONS_SERVICE);
  if (!operations) {
    return { ...empty, problems: [{ source: configs[0]?.file ?? OPERATIONS_PROTO, message: `${OPERATIONS_SERVICE} is not among the compiled files; ${OPERATIONS_PROTO} must be compiled with the API` }] };
  }
  const warnings: BindingProblem[] = [];
  const planned =
    configs.length > 0
      ? configs.flatMap((config) => fromServiceConfig(config, registry, longRunning))
      : derive(longRunning, warnings) ?? fromOperationsProto(operations, extensions, servicesOf(longRunning));
  return compile(planned, operations, apiBindings, extensions, warnings);
}

/** A service config's rules; their upstream: that of its `apis` the generated set has, else of the services returning operations. */
function fromServiceConfig(config: ServiceConfigRoutes, registry: FileRegistry, longRunning: readonly CodegenBinding[]): PlannedRoute[] {
  const named = config.apis
    .filter((name) => name !== OPERATIONS_SERVICE)
    .map((name) => registry.getService(name))
    .filter((service): service is DescService => service !== undefined);
  const owners = named.length > 0 ? named : servicesOf(longRunning);
  return config.rules.map(({ method, rule, source }) => ({ method, rule: toRuleShape(rule), source, owners, explicit: true }));
}

/** The distinct services of these bindings, in order. */
function servicesOf(bindings: readonly CodegenBinding[]): DescService[] {
  return [...new Set(bindings.map((b) => b.rpc.parent))];
}

/**
 * Four routes per distinct scope of the long-running methods' paths, for the services (in
 * declaration order) that return operations there; undefined when no path has a scope.
 */
function derive(longRunning: readonly CodegenBinding[], warnings: BindingProblem[]): PlannedRoute[] | undefined {
  const scopes = new Map<string, { scope: OperationScope; bindings: CodegenBinding[] }>();
  for (const binding of longRunning) {
    const scope = operationScopeOf(binding.template);
    if (!scope) continue;
    const key = scopeKey(scope);
    const entry = scopes.get(key) ?? { scope, bindings: [] };
    scopes.set(key, entry);
    entry.bindings.push(binding);
  }
  if (scopes.size === 0) return undefined;
  const planned: PlannedRoute[] = [];
  for (const { scope, bindings } of scopes.values()) {
    const routes = scopeRoutes(scope);
    const [first] = bindings;
    const owners = servicesOf(bindings);
    const source = `${OPERATIONS_PROTO} (operations of ${first.rpc.parent.typeName}, ${first.source})`;
    // Services of one package share a backend, as a Cloud API's do; another package may not.
    const others = bindings.filter((b, i) => b.rpc.parent.file.proto.package !== first.rpc.parent.file.proto.package && bindings.findIndex((o) => o.rpc.parent === b.rpc.parent) === i);
    if (others.length > 0) {
      warnings.push({
        source: first.source,
        message: `${routes.operation}: operations of ${others.map((b) => `${b.rpc.parent.typeName} (${b.source})`).join(", ")} are also named there; these routes use the upstream of the first configured of ${owners.map((o) => o.typeName).join(", ")} (configure upstreams.${OPERATIONS_SERVICE}, or give the routes in a google.api.Service config)`,
      });
    }
    const route = (method: OperationsMethod, pattern: HttpRuleShape["pattern"], body = ""): PlannedRoute => ({
      method,
      rule: { pattern, body, responseBody: "", additionalBindings: [] },
      source,
      owners,
      explicit: false,
    });
    planned.push(
      route("GetOperation", { case: "get", value: routes.operation }),
      route("ListOperations", { case: "get", value: routes.collection }),
      route("CancelOperation", { case: "post", value: routes.cancel }, "*"),
      route("DeleteOperation", { case: "delete", value: routes.operation }),
    );
  }
  return planned;
}

/** operations.proto's own `google.api.http` rules (`/v1/{name=operations/**}`, ...). */
function fromOperationsProto(operations: DescService, extensions: RuleExtensions, owners: readonly DescService[]): PlannedRoute[] {
  const http = extensions.http;
  if (!http) return [];
  const serviceIndex = operations.file.services.indexOf(operations);
  const planned: PlannedRoute[] = [];
  operations.methods.forEach((rpc, methodIndex) => {
    const rule = readHttpRule(rpc, http);
    const method = asOperationsMethod(rpc);
    if (!rule || !method) return;
    const source = sourceLine(operations.file, [...methodPath(serviceIndex, methodIndex), 4, HTTP_RULE_EXTENSION_NUMBER]);
    planned.push({ method, rule: { ...rule, additionalBindings: [] }, source, owners, explicit: false });
  });
  return planned;
}

function compile(planned: readonly PlannedRoute[], operations: DescService, apiBindings: readonly CodegenBinding[], extensions: RuleExtensions, warnings: BindingProblem[]): OperationRoutes {
  const taken = new Map<string, CodegenBinding>(apiBindings.map((b) => [`${b.httpMethod} ${routeShape(b.template)}`, b]));
  const bindings: CodegenBinding[] = [];
  const problems: BindingProblem[] = [];
  const count = new Map<string, number>();
  for (const route of planned) {
    const rpc = operations.methods.find((m) => m.name === route.method);
    if (!rpc) {
      problems.push({ source: route.source, message: `${OPERATIONS_SERVICE} has no method ${route.method} in the compiled ${OPERATIONS_PROTO}` });
      continue;
    }
    const index = count.get(rpc.name) ?? 0;
    const compiled = compileRule(rpc, route.rule, route.source, index, route.owners.length > 0 ? ownerAuth(route.owners[0], extensions) : null);
    if ("problem" in compiled) {
      problems.push({ source: route.source, message: `${OPERATIONS_SERVICE}.${rpc.name}: ${compiled.problem}` });
      continue;
    }
    const key = `${compiled.binding.httpMethod} ${routeShape(compiled.binding.template)}`;
    const previous = taken.get(key);
    if (previous) {
      const clash = `${compiled.binding.httpMethod} "${compiled.binding.pattern}" matches exactly the same requests as ${previous.rpc.parent.typeName}.${previous.rpc.name} (${previous.source}, "${previous.pattern}")`;
      if (route.explicit) problems.push({ source: route.source, message: `${OPERATIONS_SERVICE}.${rpc.name}: ${clash}` });
      else warnings.push({ source: route.source, message: `${OPERATIONS_SERVICE}.${rpc.name} not routed: ${clash}` });
      continue;
    }
    count.set(rpc.name, index + 1);
    const binding: CodegenBinding = route.owners.length > 0 ? { ...compiled.binding, upstreamServices: route.owners.map((o) => o.typeName) } : compiled.binding;
    taken.set(key, binding);
    bindings.push(binding);
  }
  return { bindings, problems, warnings };
}

/**
 * The access rule of the operation routes: the first owning service's `(protogate.v1.default_rule)`
 * when it declares a valid one, else none (an authenticated caller; gateway.yaml rules with
 * `google.longrunning.Operations.*` selectors apply as to any method).
 */
function ownerAuth(owner: DescService, extensions: RuleExtensions): AuthRuleData | null {
  const read = readAuthRule(owner, extensions.auth.service);
  if (read === undefined || "problem" in read || checkAuthRule(read.rule).length > 0) return null;
  return read.rule;
}

function asOperationsMethod(rpc: DescMethod): OperationsMethod | undefined {
  return OPERATIONS_METHODS.find((name) => name === rpc.name);
}

function toRuleShape(rule: OperationsHttpRule): HttpRuleShape {
  return { pattern: rule.pattern, body: rule.body, responseBody: rule.responseBody, additionalBindings: [] };
}

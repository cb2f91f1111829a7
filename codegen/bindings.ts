import type { DescExtension, DescField, DescFile, DescMessage, DescMethod, DescService, FileRegistry } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { AuthRuleData, BodySelector, IdempotencyLevel, MethodKind, SuccessData } from "../src/binding.js";
import { checkAuthRule } from "./auth-rule/check-auth-rule.js";
import { AUTH_RULE_EXTENSION_NUMBER, DEFAULT_RULE_EXTENSION_NUMBER, findAuthExtensions, readAuthRule, SCOPES_FIELD_NUMBER, type AuthExtensions } from "./auth-rule/read-auth-rule.js";
import { findRouteConflicts } from "../src/routing/router.js";
import type { PathTemplate } from "../src/routing/template.js";
import { parseTemplate, TemplateError } from "./http-rule/parse-template.js";
import { ADDITIONAL_BINDINGS_FIELD_NUMBER, findHttpExtension, HTTP_RULE_EXTENSION_NUMBER, readHttpRule, type HttpRuleShape } from "./http-rule/read-http-rule.js";
import type { CodegenBinding } from "./model.js";
import type { MethodNames, Selection } from "./selection.js";
import { methodPath, servicePath, sourceLine } from "./source-location.js";
import { findSuccessExtension, readSuccess, SUCCESS_EXTENSION_NUMBER } from "./success/read-success.js";

/** A rule that cannot be served, reported as `file:line: reason`. */
export interface BindingProblem {
  readonly source: string;
  readonly message: string;
}

export interface CollectedBindings {
  readonly bindings: CodegenBinding[];
  readonly problems: BindingProblem[];
  /** Rules that are valid but not served (streaming RPCs); reported as warnings. */
  readonly skipped: BindingProblem[];
  /** Methods left out by the selection (--include/--exclude): not read, not validated. */
  readonly excluded: DescMethod[];
  /** Selected methods without a `google.api.http` rule: they get no route. */
  readonly withoutHttpRule: DescMethod[];
}

const HTTP_METHOD_TOKEN = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*$/;

/** The method options codegen reads; each is absent when no file of the request declares it. */
export interface RuleExtensions {
  /** `google.api.http`. */
  readonly http: DescExtension | undefined;
  /** `protogate.v1.rule` and `protogate.v1.default_rule`. */
  readonly auth: AuthExtensions;
  /** `protogate.v1.success`. */
  readonly success?: DescExtension | undefined;
}

/** Finds the options codegen reads among the files of a request. */
export function findRuleExtensions(registry: FileRegistry): RuleExtensions {
  return { http: findHttpExtension(registry), auth: findAuthExtensions(registry), success: findSuccessExtension(registry) };
}

/**
 * Reads and validates every `google.api.http` rule (and its additional bindings) of the services
 * in `files`, each carrying its method's access rule (`protogate.v1.rule`, else the service's
 * `protogate.v1.default_rule`). Every access rule is validated, whether or not its method has an
 * HTTP rule. All problems are collected, so one run reports every bad rule.
 */
export function collectBindings(files: readonly DescFile[], extensions: RuleExtensions, selection?: Selection): CollectedBindings {
  const bindings: CodegenBinding[] = [];
  const problems: BindingProblem[] = [];
  const skipped: BindingProblem[] = [];
  const excluded: DescMethod[] = [];
  const withoutHttpRule: DescMethod[] = [];
  const extension = extensions.http;
  for (const file of files) {
    file.services.forEach((service, serviceIndex) => {
      const selected = service.methods.filter((method) => selection?.selects(methodNames(method)) ?? true);
      excluded.push(...service.methods.filter((method) => !selected.includes(method)));
      // A service left out entirely is not validated either: excluding it is a way around its rules.
      if (selected.length === 0 && service.methods.length > 0) return;
      const where = (path: number[]) => sourceLine(file, path);
      const serviceRule = authRuleOf(service, extensions.auth.service, [...servicePath(serviceIndex), 3, DEFAULT_RULE_EXTENSION_NUMBER], where, problems);
      service.methods.forEach((method, methodIndex) => {
        if (!selected.includes(method)) return;
        const methodRule = authRuleOf(method, extensions.auth.method, [...methodPath(serviceIndex, methodIndex), 4, AUTH_RULE_EXTENSION_NUMBER], where, problems);
        const auth = methodRule === undefined ? (serviceRule ?? null) : methodRule;
        const success = successOf(method, extensions.success, [...methodPath(serviceIndex, methodIndex), 4, SUCCESS_EXTENSION_NUMBER], where, problems);
        const rule = extension ? readHttpRule(method, extension) : undefined;
        if (!rule) {
          withoutHttpRule.push(method);
          return;
        }
        const rulePath = [...methodPath(serviceIndex, methodIndex), 4, HTTP_RULE_EXTENSION_NUMBER];
        const rules: Array<{ rule: HttpRuleShape; path: number[] }> = [{ rule, path: rulePath }];
        rule.additionalBindings.forEach((additional, i) => {
          const path = [...rulePath, ADDITIONAL_BINDINGS_FIELD_NUMBER, i];
          if (additional.additionalBindings.length > 0) {
            problems.push({ source: where(path), message: `${describe(method)}: additional_bindings must not contain additional_bindings` });
          }
          rules.push({ rule: additional, path });
        });
        rules.forEach(({ rule: r, path }, bindingIndex) => {
          const result = compileRule(method, r, where(path), bindingIndex, auth);
          if ("problem" in result) problems.push({ source: where(path), message: `${describe(method)}: ${result.problem}` });
          else if (success?.status === 204 && result.binding.responseBody.length > 0) {
            problems.push({ source: where(path), message: `${describe(method)}: response_body "${result.binding.responseBody.join(".")}" cannot be sent: the method answers 204 No Content ((protogate.v1.success))` });
          } else bindings.push(success === undefined ? result.binding : { ...result.binding, success });
        });
      });
    });
  }
  problems.push(...findConflicts(bindings));
  return { bindings, problems, skipped, excluded, withoutHttpRule };
}

/** The names selection patterns match a method by. */
export function methodNames(method: DescMethod): MethodNames {
  const service = method.parent;
  return { file: service.file.proto.name, package: service.file.proto.package, service: service.typeName, method: `${service.typeName}.${method.name}` };
}

function describe(method: DescMethod): string {
  return `${method.parent.typeName}.${method.name}`;
}

/**
 * The element's access rule: undefined when it declares none, null when it declares an invalid
 * one (the problems are reported; null keeps the method's bindings deny-by-default meanwhile).
 */
function authRuleOf(
  element: DescMethod | DescService,
  extension: DescExtension | undefined,
  optionPath: number[],
  where: (path: number[]) => string,
  problems: BindingProblem[],
): AuthRuleData | null | undefined {
  const read = readAuthRule(element, extension);
  if (read === undefined) return undefined;
  const name = element.kind === "rpc" ? describe(element) : element.typeName;
  if ("problem" in read) {
    problems.push({ source: where(optionPath), message: `${name}: ${read.problem}` });
    return null;
  }
  const invalid = checkAuthRule(read.rule);
  for (const problem of invalid) {
    const path = problem.scopeIndex === undefined ? optionPath : [...optionPath, SCOPES_FIELD_NUMBER, problem.scopeIndex];
    problems.push({ source: where(path), message: `${name}: ${problem.message}` });
  }
  return invalid.length > 0 ? null : read.rule;
}

/** The method's `(protogate.v1.success)`, undefined when it has none (or it is invalid: the problems are reported). */
function successOf(method: DescMethod, extension: DescExtension | undefined, optionPath: number[], where: (path: number[]) => string, problems: BindingProblem[]): SuccessData | undefined {
  const read = readSuccess(method, extension);
  if (read === undefined) return undefined;
  if ("problems" in read) {
    for (const problem of read.problems) {
      problems.push({ source: where(problem.field === undefined ? optionPath : [...optionPath, problem.field]), message: `${describe(method)}: ${problem.message}` });
    }
    return undefined;
  }
  return read.success;
}

/** One HttpRule of `rpc` checked against its messages: the binding, or why it cannot be served. */
export function compileRule(rpc: DescMethod, rule: HttpRuleShape, source: string, bindingIndex: number, auth: AuthRuleData | null): { binding: CodegenBinding } | { problem: string } {
  let httpMethod: string;
  let pattern: string;
  switch (rule.pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      httpMethod = rule.pattern.case.toUpperCase();
      pattern = rule.pattern.value;
      break;
    case "custom":
      httpMethod = rule.pattern.value.kind;
      pattern = rule.pattern.value.path;
      if (!HTTP_METHOD_TOKEN.test(httpMethod)) return { problem: `custom kind "${httpMethod}" is not an HTTP method token` };
      httpMethod = httpMethod.toUpperCase();
      break;
    default:
      return { problem: "the rule has no pattern (get, put, post, delete, patch or custom)" };
  }
  if (pattern === "") return { problem: `the ${httpMethod} pattern is empty` };

  let template: PathTemplate;
  try {
    template = parseTemplate(pattern);
  } catch (error) {
    if (error instanceof TemplateError) return { problem: `invalid path template "${pattern}": ${error.message}` };
    throw error;
  }

  const input = rpc.input;
  for (const variable of template.variables) {
    const problem = checkPathField(input, variable.fieldPath);
    if (problem) return { problem: `path variable {${variable.fieldPath.join(".")}}: ${problem}` };
  }

  let body: BodySelector;
  if (rule.body === "") body = { kind: "none" };
  else if (rule.body === "*") body = { kind: "all" };
  else {
    const field = input.fields.find((f) => f.name === rule.body);
    if (!field) return { problem: `body field "${rule.body}" is not a field of ${input.typeName} (body must name a top-level field or be "*")` };
    body = { kind: "field", fieldPath: [field.name] };
  }
  if (body.kind !== "none" && httpMethod === "GET") return { problem: "a GET rule cannot have a body" };

  let responseBody: string[] = [];
  if (rule.responseBody !== "") {
    const field = rpc.output.fields.find((f) => f.name === rule.responseBody);
    if (!field) return { problem: `response_body field "${rule.responseBody}" is not a field of ${rpc.output.typeName}` };
    responseBody = [field.name];
  }
  const idempotency = IDEMPOTENCY_LEVELS[rpc.idempotency];
  return { binding: { rpc, kind: METHOD_KINDS[rpc.methodKind], httpMethod, pattern, template, body, responseBody, source, bindingIndex, auth, ...(idempotency !== undefined && { idempotency }) } };
}

/** The declared idempotency levels the route table carries (IDEMPOTENCY_UNKNOWN, the default, is not carried). */
const IDEMPOTENCY_LEVELS: Readonly<Record<number, IdempotencyLevel | undefined>> = {
  [MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS]: "NO_SIDE_EFFECTS",
  [MethodOptions_IdempotencyLevel.IDEMPOTENT]: "IDEMPOTENT",
};

/** protobuf-es's method kinds as the route table names them. */
export const METHOD_KINDS: Readonly<Record<DescMethod["methodKind"], MethodKind>> = {
  unary: "unary",
  server_streaming: "server",
  client_streaming: "client",
  bidi_streaming: "bidi",
};

/** Why a path variable cannot bind this field path, or undefined when it can. */
function checkPathField(message: DescMessage, fieldPath: readonly string[]): string | undefined {
  let current: DescMessage = message;
  for (let i = 0; i < fieldPath.length; i++) {
    const name = fieldPath[i];
    const field: DescField | undefined = current.fields.find((f) => f.name === name);
    if (!field) return `"${name}" is not a field of ${current.typeName}`;
    const last = i === fieldPath.length - 1;
    if (field.fieldKind === "list" || field.fieldKind === "map") return `"${name}" is a ${field.fieldKind === "list" ? "repeated" : "map"} field; path variables bind singular fields`;
    if (!last) {
      if (field.fieldKind !== "message") return `"${name}" is not a message field, so ".${fieldPath[i + 1]}" cannot follow it`;
      current = field.message;
      continue;
    }
    if (field.fieldKind === "message" && !isStringFormWkt(field.message.typeName)) return `"${name}" is a message field (${field.message.typeName}); path variables bind scalar fields`;
  }
  return undefined;
}

/** Well-known types whose JSON form is a single string or number, so a path segment can carry them. */
function isStringFormWkt(typeName: string): boolean {
  return /^google\.protobuf\.(Timestamp|Duration|FieldMask|(Double|Float|Int64|UInt64|Int32|UInt32|Bool|String|Bytes)Value)$/.test(typeName);
}

/**
 * Bindings the runtime router could not tell apart (same HTTP method, same template shape, from
 * any services or files), found by the router itself: one problem per later binding, naming both
 * rules and which one to leave out.
 */
function findConflicts(bindings: readonly CodegenBinding[]): BindingProblem[] {
  const routes = bindings.map((binding) => ({ httpMethod: binding.httpMethod, template: binding.template, value: binding }));
  return findRouteConflicts(routes).map(({ first: { value: first }, second: { value: second } }) => {
    const hint =
      first.rpc === second.rpc
        ? "remove one of the two bindings"
        : `leave one out with --exclude ${describe(second.rpc)} or --exclude ${describe(first.rpc)}`;
    return {
      source: second.source,
      message: `${describe(second.rpc)}: ${second.httpMethod} "${second.pattern}" matches exactly the same requests as ${describe(first.rpc)}: ${first.httpMethod} "${first.pattern}" (${first.source}); ${hint}`,
    };
  });
}

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { isNode, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { OPERATIONS_METHODS, OPERATIONS_SERVICE, type OperationsHttpRule, type OperationsMethod, type ServiceConfigRoutes } from "./operations-options.js";

/** A service config that cannot be used, with the file and the fix in the message. */
export class ServiceConfigError extends Error {}

/** The `type` of a Google API service config (`run_v2.yaml` and the like). */
const SERVICE_CONFIG_TYPE = "google.api.Service";
const PATTERN_KEYS = ["get", "put", "post", "delete", "patch"] as const;

/** One `http.rules` entry of a service config, as Google writes them (snake_case keys). */
const ruleSchema = z.strictObject({
  selector: z.string().min(1),
  get: z.string().min(1).optional(),
  put: z.string().min(1).optional(),
  post: z.string().min(1).optional(),
  delete: z.string().min(1).optional(),
  patch: z.string().min(1).optional(),
  custom: z.strictObject({ kind: z.string().min(1), path: z.string().min(1) }).optional(),
  body: z.string().default(""),
  response_body: z.string().default(""),
});
type ServiceConfigRule = z.infer<typeof ruleSchema>;

/** The parts of a service config protogate reads; every other key (documentation, publishing, ...) is left alone. */
const serviceConfigSchema = z.looseObject({
  type: z.literal(SERVICE_CONFIG_TYPE),
  apis: z.array(z.looseObject({ name: z.string().min(1) })).default([]),
  http: z.looseObject({ rules: z.array(z.unknown()).default([]) }).optional(),
});

/**
 * The operation routes declared by the Google service configs (YAML with
 * `type: google.api.Service`) found in the proto folders: their `http.rules` whose selector is a
 * `google.longrunning.Operations` method. Rules for other selectors are not read (the API's own
 * routes come from its protos). Configs without such rules are left out.
 */
export function readServiceConfigRoutes(protoDirs: readonly string[]): ServiceConfigRoutes[] {
  const found: ServiceConfigRoutes[] = [];
  for (const dir of protoDirs) {
    for (const file of yamlFiles(dir)) {
      const routes = readOne(file);
      if (routes && routes.rules.length > 0) found.push(routes);
    }
  }
  return found;
}

function readOne(file: string): ServiceConfigRoutes | undefined {
  const shown = relative(process.cwd(), file) || file;
  const lineCounter = new LineCounter();
  const document = parseDocument(readFileSync(file, "utf8"), { lineCounter });
  // Not YAML, or YAML of another kind (buf.yaml, CI files): not a service config, not our business.
  if (document.errors.length > 0) return undefined;
  const raw: unknown = document.toJS();
  if (typeof raw !== "object" || raw === null || (raw as { type?: unknown }).type !== SERVICE_CONFIG_TYPE) return undefined;
  const parsed = serviceConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ServiceConfigError(`${shown}: not a valid google.api.Service config (${parsed.error.issues[0]?.message ?? "invalid"}); fix or remove the file`);
  const rules: ServiceConfigRoutes["rules"] = [];
  (parsed.data.http?.rules ?? []).forEach((entry, index) => {
    const selector = (entry as { selector?: unknown } | null)?.selector;
    if (typeof selector !== "string" || !selector.startsWith(`${OPERATIONS_SERVICE}.`)) return;
    const node = document.getIn(["http", "rules", index], true);
    const line = isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined;
    const source = line === undefined ? shown : `${shown}:${line}`;
    const rule = ruleSchema.safeParse(entry);
    if (!rule.success) throw new ServiceConfigError(`${source}: http rule for ${selector}: ${describeIssue(rule.error)}`);
    rules.push({ method: operationsMethod(rule.data.selector, source), rule: toHttpRule(rule.data, source), source });
  });
  return { file: shown, apis: parsed.data.apis.map((api) => api.name), rules };
}

function operationsMethod(selector: string, source: string): OperationsMethod {
  const name = selector.slice(OPERATIONS_SERVICE.length + 1);
  const method = OPERATIONS_METHODS.find((m) => m === name);
  if (!method) throw new ServiceConfigError(`${source}: ${selector} is not a method of ${OPERATIONS_SERVICE} (${OPERATIONS_METHODS.join(", ")})`);
  return method;
}

function toHttpRule(rule: ServiceConfigRule, source: string): OperationsHttpRule {
  const patterns = [...PATTERN_KEYS.filter((key) => rule[key] !== undefined), ...(rule.custom ? ["custom" as const] : [])];
  if (patterns.length !== 1) throw new ServiceConfigError(`${source}: http rule for ${rule.selector} needs exactly one of get, put, post, delete, patch or custom`);
  const body = rule.body;
  const responseBody = rule.response_body;
  if (rule.custom) return { pattern: { case: "custom", value: rule.custom }, body, responseBody };
  const key = PATTERN_KEYS.find((k) => rule[k] !== undefined) ?? "get";
  return { pattern: { case: key, value: rule[key] ?? "" }, body, responseBody };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  return issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

function* yamlFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* yamlFiles(full);
    else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) yield full;
  }
}

import { z } from "zod";

/** Fully qualified name of the standard operations service (google/longrunning/operations.proto). */
export const OPERATIONS_SERVICE = "google.longrunning.Operations";
/** The message an API's long-running methods return. */
export const OPERATION_MESSAGE = "google.longrunning.Operation";
/** The file that declares both; compiled into the generated set when an API needs it. */
export const OPERATIONS_PROTO = "google/longrunning/operations.proto";

/** The methods of google.longrunning.Operations a route can be given for. */
export const OPERATIONS_METHODS = ["ListOperations", "GetOperation", "DeleteOperation", "CancelOperation", "WaitOperation"] as const;
export type OperationsMethod = (typeof OPERATIONS_METHODS)[number];

const pathPattern = z.string().min(1);
/** An HttpRule as codegen reads it (the shape of codegen/http-rule's HttpRuleShape, minus nesting). */
const httpRuleSchema = z.strictObject({
  pattern: z.union([
    z.strictObject({ case: z.enum(["get", "put", "post", "delete", "patch"]), value: pathPattern }),
    z.strictObject({ case: z.literal("custom"), value: z.strictObject({ kind: z.string().min(1), path: pathPattern }) }),
  ]),
  body: z.string(),
  responseBody: z.string(),
});

/** The operation routes one service config declares (`http.rules` with `google.longrunning.Operations.*` selectors). */
const serviceConfigRoutesSchema = z.strictObject({
  /** The service config file, as the user named it (for messages). */
  file: z.string(),
  /** `apis[].name` in order: the first that the generated set serves gives the routes their upstream. */
  apis: z.array(z.string()),
  rules: z.array(z.strictObject({ method: z.enum(OPERATIONS_METHODS), rule: httpRuleSchema, source: z.string() })),
});
export type ServiceConfigRoutes = z.infer<typeof serviceConfigRoutesSchema>;
export type OperationsHttpRule = z.infer<typeof httpRuleSchema>;

/**
 * What `generate` tells the plugin about operation routes:
 * - `auto`: derived from the API's own routes (codegen/operations/operation-scopes.ts), or taken
 *   from the service configs in `configs` when any declares operation rules;
 * - `off`: none.
 */
const operationsOptionsSchema = z.strictObject({
  mode: z.enum(["auto", "off"]),
  configs: z.array(serviceConfigRoutesSchema),
});
export type OperationsOptions = z.infer<typeof operationsOptionsSchema>;

export const DEFAULT_OPERATIONS_OPTIONS: OperationsOptions = { mode: "auto", configs: [] };

/** Plugin parameter key (`buf.gen.yaml` `opt`) carrying the options as base64url JSON. */
export const OPERATIONS_PARAMETER_KEY = "operations";

/** The plugin parameter entry for these options (base64url: buf joins `opt` entries with commas). */
export function operationsParameter(options: OperationsOptions): string {
  return `${OPERATIONS_PARAMETER_KEY}=${Buffer.from(JSON.stringify(options), "utf8").toString("base64url")}`;
}

/** Reads the options from the value of their plugin parameter entry (`operations=VALUE`). */
export function decodeOperationsOptions(value: string): OperationsOptions {
  const json: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  return operationsOptionsSchema.parse(json);
}

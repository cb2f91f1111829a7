import { OPENAPI_KEY_PREFIX, parsePluginParameter as parseOpenApiSettings, type OpenApiSettings } from "./openapi/settings.js";
import { decodeOperationsOptions, DEFAULT_OPERATIONS_OPTIONS, OPERATIONS_PARAMETER_KEY, type OperationsOptions } from "./operations/operations-options.js";
import { decodePatterns, EMPTY_PATTERNS, type SelectionPatterns } from "./selection.js";

/** What `protogate generate` (or a team's own buf.gen.yaml) tells the plugin through the CodeGeneratorRequest's parameter. */
export interface PluginParameters {
  readonly selection: SelectionPatterns;
  /** File name to write the plugin report to (see plugin-report.ts); none: warnings go to stderr. */
  readonly report: string | undefined;
  /** google.longrunning.Operations routes (codegen/operations). */
  readonly operations: OperationsOptions;
  /** openapi.json's info, servers and API-key header (`openapi_*` keys). */
  readonly openapi: OpenApiSettings;
}

/**
 * Parses `key=value,key=value` (buf joins the `opt` list of buf.gen.yaml with commas): the one
 * reader of the parameter, handing each concern its own keys. Unknown keys are an error.
 */
export function parsePluginParameters(parameter: string): PluginParameters {
  let selection = EMPTY_PATTERNS;
  let report: string | undefined;
  let operations = DEFAULT_OPERATIONS_OPTIONS;
  const openapi: string[] = [];
  for (const item of parameter.split(",").filter((p) => p.trim() !== "")) {
    const eq = item.indexOf("=");
    const key = (eq === -1 ? item : item.slice(0, eq)).trim();
    const value = eq === -1 ? "" : item.slice(eq + 1);
    if (key === "selection") selection = decodePatterns(value);
    else if (key === "report") report = value;
    else if (key === OPERATIONS_PARAMETER_KEY) operations = decodeOperationsOptions(value);
    else if (key.startsWith(OPENAPI_KEY_PREFIX)) openapi.push(item);
    else throw new Error(`unknown protoc-gen-protogate option "${key}" (known: selection, report, ${OPERATIONS_PARAMETER_KEY}, ${OPENAPI_KEY_PREFIX}*)`);
  }
  return { selection, report, operations, openapi: parseOpenApiSettings(openapi.join(",")) };
}

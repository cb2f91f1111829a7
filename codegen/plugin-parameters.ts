import { decodePatterns, EMPTY_PATTERNS, type SelectionPatterns } from "./selection.js";

/** What `protogate generate` tells the plugin through the CodeGeneratorRequest's parameter. */
export interface PluginParameters {
  readonly selection: SelectionPatterns;
  /** File name to write the plugin report to (see plugin-report.ts); none: warnings go to stderr. */
  readonly report: string | undefined;
}

/** Parses `key=value,key=value` (buf joins the `opt` list of buf.gen.yaml with commas). Unknown keys are an error. */
export function parsePluginParameters(parameter: string): PluginParameters {
  let selection = EMPTY_PATTERNS;
  let report: string | undefined;
  for (const item of parameter.split(",").filter((p) => p !== "")) {
    const eq = item.indexOf("=");
    const key = eq === -1 ? item : item.slice(0, eq);
    const value = eq === -1 ? "" : item.slice(eq + 1);
    if (key === "selection") selection = decodePatterns(value);
    else if (key === "report") report = value;
    else throw new Error(`unknown protoc-gen-protogate option "${key}" (known: selection, report)`);
  }
  return { selection, report };
}

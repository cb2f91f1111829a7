/**
 * What the plugin tells `protogate generate` besides the files: counts for the summary and the
 * facts behind its warnings. The plugin runs inside buf, whose output only carries files (and an
 * error on failure), so the report travels as one more output file that `generate` takes out of
 * the tree before writing (see `takePluginReport`); it is only written when asked for.
 */
export interface PluginReport {
  /** Services with at least one route. */
  readonly services: number;
  readonly routes: number;
  /** Full names of methods left out by --include/--exclude. */
  readonly excludedMethods: readonly string[];
  /** Full names of selected methods without a google.api.http rule. */
  readonly methodsWithoutHttpRule: readonly string[];
  /**
   * What the plugin warns about, `file:line: reason`: valid rules that are not served, derived
   * operation routes left out, OpenAPI operations a document cannot show.
   */
  readonly warnings: readonly string[];
  /** Selection patterns that matched nothing, as written (`--exclude x.Y`). */
  readonly unmatchedPatterns: readonly string[];
  /** Fully qualified types defined by more than one file of the compilation, with those files. */
  readonly duplicateTypes: ReadonlyArray<{ readonly typeName: string; readonly files: readonly string[] }>;
}

/** Takes the report out of the generated files (it is not output), or undefined when absent. */
export function takePluginReport(files: Map<string, Buffer>, name: string): PluginReport | undefined {
  const content = files.get(name);
  if (content === undefined) return undefined;
  files.delete(name);
  return JSON.parse(content.toString("utf8")) as PluginReport; // written by our own plugin in this run
}

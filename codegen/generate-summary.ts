import { relative } from "node:path";
import type { Difference } from "./output-manifest.js";
import type { PluginReport } from "./plugin-report.js";
import type { TeamProto } from "./workspace.js";

/** How many names a warning lists before "and N more": warnings stay one short line. */
const LISTED = 3;

/** The warnings of a successful run, one line each, without the `warning: ` prefix. */
export function generateWarnings(report: PluginReport, team: readonly TeamProto[]): string[] {
  const warnings: string[] = [...report.warnings];
  if (report.methodsWithoutHttpRule.length > 0) {
    const n = report.methodsWithoutHttpRule.length;
    warnings.push(`${n} ${n === 1 ? "method has no google.api.http rule and gets" : "methods have no google.api.http rule and get"} no route: ${listed(report.methodsWithoutHttpRule)}`);
  }
  for (const pattern of report.unmatchedPatterns) {
    warnings.push(`${pattern} matched no method; name a package, service or method in full (pkg.Service.Method, globs * and **) or a file by import path (dir/x.proto)`);
  }
  warnings.push(...duplicateTypeWarnings(report, team));
  if (report.routes === 0) {
    const why = report.methodsWithoutHttpRule.length === 0 && report.excludedMethods.length > 0 ? "--include/--exclude left out every method" : "no selected method has a google.api.http rule";
    warnings.push(`the output has no routes (${why}): serve would answer 404 to every request`);
  }
  return warnings;
}

/**
 * Files that define the same package and types: a team's file shadowed by a shipped one (one
 * warning for all of them, with an example, as a copied folder makes many), or two team files.
 */
function duplicateTypeWarnings(report: PluginReport, team: readonly TeamProto[]): string[] {
  const teamByPath = new Map(team.map((t) => [t.importPath, t]));
  const shownTeam = (t: TeamProto) => relative(process.cwd(), t.absolutePath) || t.absolutePath;
  const shadowed = new Map<string, { own: TeamProto; shipped: string; types: string[] }>();
  const twice = new Map<string, string[]>();
  for (const { typeName, files } of report.duplicateTypes) {
    const own = files.map((f) => teamByPath.get(f)).filter((t) => t !== undefined);
    const shipped = files.filter((f) => !teamByPath.has(f));
    if (own.length === 0) continue; // only shipped files: nothing the team can fix
    if (shipped.length > 0) {
      const key = `${own[0].importPath}\n${shipped[0]}`;
      const entry = shadowed.get(key) ?? { own: own[0], shipped: shipped[0], types: [] };
      entry.types.push(typeName);
      shadowed.set(key, entry);
    } else {
      const key = own.map(shownTeam).join(" and ");
      twice.set(key, [...(twice.get(key) ?? []), typeName]);
    }
  }
  const warnings = [...twice].map(([files, types]) => `${files} both define ${listed(types)}; keep one file per type`);
  const pairs = [...shadowed.values()].sort((a, b) => (a.own.importPath < b.own.importPath ? -1 : 1));
  if (pairs.length > 0) {
    const first = pairs[0];
    const example = `${shownTeam(first.own)} and ${first.shipped} (google-proto-files) both define ${listed(first.types)}`;
    const count = pairs.length === 1 ? "" : `${pairs.length} of your files define the same types as shipped ones, e.g. `;
    warnings.push(`${count}${example}; imports get the shipped copy, not yours: give your file the import path of the one it replaces (${first.shipped} under its --proto folder)`);
  }
  return warnings;
}

/** The summary line of a run. */
export function generateSummary(report: PluginReport, differences: readonly Difference[], fileCount: number, outDir: string): string {
  const skipped = report.excludedMethods.length + report.methodsWithoutHttpRule.length;
  const why = [
    report.excludedMethods.length > 0 ? `${report.excludedMethods.length} excluded` : "",
    report.methodsWithoutHttpRule.length > 0 ? `${report.methodsWithoutHttpRule.length} without google.api.http` : "",
  ].filter((s) => s !== "");
  const written = differences.filter((d) => d.kind !== "removed").length;
  const removed = differences.length - written;
  const changes = differences.length === 0 ? "unchanged" : [`${written} written`, removed > 0 ? `${removed} removed` : ""].filter((s) => s !== "").join(", ");
  return (
    `${plural(report.services, "service")}, ${plural(report.routes, "route")}, ${plural(skipped, "method")} skipped${why.length > 0 ? ` (${why.join(", ")})` : ""}; ` +
    `${plural(fileCount, "file")} in ${outDir} (${changes})`
  );
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function listed(names: readonly string[]): string {
  const more = names.length - LISTED;
  return names.slice(0, LISTED).join(", ") + (more > 0 ? ` and ${more} more` : "");
}

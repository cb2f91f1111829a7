import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { generateSummary, generateWarnings } from "../../codegen/generate-summary.js";
import type { PluginReport } from "../../codegen/plugin-report.js";

const report = (partial: Partial<PluginReport>): PluginReport => ({
  services: 1,
  routes: 2,
  excludedMethods: [],
  methodsWithoutHttpRule: [],
  warnings: [],
  unmatchedPatterns: [],
  duplicateTypes: [],
  ...partial,
});
const teamFile = (importPath: string) => ({ importPath, absolutePath: join("/team/protos", importPath) });
const shown = (importPath: string) => relative(process.cwd(), join("/team/protos", importPath));

describe("generate warnings", () => {
  it("none for a clean run", () => {
    expect(generateWarnings(report({}), [])).toEqual([]);
  });

  it.each<[string, Partial<PluginReport>, string[]]>([
    ["skipped rules, as the plugin wrote them", { warnings: ["a.proto:3: why"] }, ["a.proto:3: why"]],
    ["one method without an HTTP rule", { methodsWithoutHttpRule: ["p.S.A"] }, ["1 method has no google.api.http rule and gets no route: p.S.A"]],
    ["many, listed briefly", { methodsWithoutHttpRule: ["p.S.A", "p.S.B", "p.S.C", "p.S.D", "p.S.E"] }, ["5 methods have no google.api.http rule and get no route: p.S.A, p.S.B, p.S.C and 2 more"]],
    ["a pattern that matched nothing", { unmatchedPatterns: ["--exclude p.Typo"] }, [expect.stringMatching(/^--exclude p\.Typo matched no method; name a package, service or method in full/) as unknown as string]],
    ["zero routes because everything was excluded", { routes: 0, services: 0, excludedMethods: ["p.S.A"] }, ["the output has no routes (--include/--exclude left out every method): serve would answer 404 to every request"]],
  ])("%s", (_name, partial, expected) => {
    expect(generateWarnings(report(partial), [])).toEqual(expected);
  });

  it("zero routes because no method has a rule: both facts, the zero-route one last", () => {
    const warnings = generateWarnings(report({ routes: 0, services: 0, methodsWithoutHttpRule: ["p.S.A"] }), []);
    expect(warnings).toEqual(["1 method has no google.api.http rule and gets no route: p.S.A", "the output has no routes (no selected method has a google.api.http rule): serve would answer 404 to every request"]);
  });

  it("a team file shadowed by google-proto-files: one warning with the fix, however many files", () => {
    const duplicateTypes = [
      { typeName: "google.cloud.run.v2.Condition", files: ["condition.proto", "google/cloud/run/v2/condition.proto"] },
      { typeName: "google.cloud.run.v2.Service", files: ["google/cloud/run/v2/service.proto", "service.proto"] },
      { typeName: "google.cloud.run.v2.ServiceView", files: ["google/cloud/run/v2/service.proto", "service.proto"] },
      { typeName: "google.type.Date", files: ["google/type/date.proto", "other/date.proto"] }, // two shipped files: not the team's to fix
    ];
    const team = [teamFile("condition.proto"), teamFile("service.proto")];
    expect(generateWarnings(report({ duplicateTypes: duplicateTypes.slice(1, 3) }), team)).toEqual([
      `${shown("service.proto")} and google/cloud/run/v2/service.proto (google-proto-files) both define google.cloud.run.v2.Service, google.cloud.run.v2.ServiceView; imports get the shipped copy, not yours: give your file the import path of the one it replaces (google/cloud/run/v2/service.proto under its --proto folder)`,
    ]);
    expect(generateWarnings(report({ duplicateTypes }), team)).toEqual([
      `2 of your files define the same types as shipped ones, e.g. ${shown("condition.proto")} and google/cloud/run/v2/condition.proto (google-proto-files) both define google.cloud.run.v2.Condition; imports get the shipped copy, not yours: give your file the import path of the one it replaces (google/cloud/run/v2/condition.proto under its --proto folder)`,
    ]);
  });

  it("two team files defining the same type", () => {
    const team = [teamFile("a/x.proto"), teamFile("b/x.proto")];
    expect(generateWarnings(report({ duplicateTypes: [{ typeName: "p.X", files: ["a/x.proto", "b/x.proto"] }] }), team)).toEqual([`${shown("a/x.proto")} and ${shown("b/x.proto")} both define p.X; keep one file per type`]);
  });
});

describe("generate summary", () => {
  it.each<[string, Partial<PluginReport>, Array<{ file: string; kind: "changed" | "added" | "removed" }>, string]>([
    ["unchanged", {}, [], "1 service, 2 routes, 0 methods skipped; 5 files in gen (unchanged)"],
    [
      "skips and changes",
      { services: 2, routes: 1, excludedMethods: ["a", "b"], methodsWithoutHttpRule: ["c"] },
      [
        { file: "x", kind: "added" },
        { file: "y", kind: "changed" },
        { file: "z", kind: "removed" },
      ],
      "2 services, 1 route, 3 methods skipped (2 excluded, 1 without google.api.http); 5 files in gen (2 written, 1 removed)",
    ],
  ])("%s", (_name, partial, differences, line) => {
    expect(generateSummary(report(partial), differences, 5, "gen")).toBe(line);
  });
});

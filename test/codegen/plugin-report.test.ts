import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { generateWithReport, runPlugin } from "../../codegen/plugin.js";
import type { PluginReport } from "../../codegen/plugin-report.js";
import { encodePatterns } from "../../codegen/selection.js";
import { buildTestRegistry } from "./openapi/support.js";

const registry = buildTestRegistry();
const targets = [...registry.files].filter((f) => f.name.startsWith("demo/")).map((f) => `${f.name}.proto`);
const request = (parameter: string) => create(CodeGeneratorRequestSchema, { fileToGenerate: targets, parameter, protoFile: [...registry.files].map((f) => f.proto) });

/** Runs the plugin as buf does: the request on stdin, the response on stdout. */
async function runAsBuf(parameter: string) {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on("data", (chunk: Buffer) => chunks.push(chunk));
  input.end(Buffer.from(toBinary(CodeGeneratorRequestSchema, request(parameter))));
  await runPlugin(input, output);
  return fromBinary(CodeGeneratorResponseSchema, Buffer.concat(chunks));
}

describe("the plugin's report and selection parameters", () => {
  it("with report=..., the report is one more file; excluded methods get no route and no operation", async () => {
    const selection = encodePatterns({ include: [], exclude: ["demo.v1.UserService"] });
    const response = await runAsBuf(`report=r.json,selection=${selection}`);
    expect(response.error ?? "").toBe("");
    const reportFile = response.file.find((f) => f.name === "r.json");
    const report = JSON.parse(reportFile?.content ?? "null") as PluginReport;
    expect(report.excludedMethods.length).toBeGreaterThan(0);
    expect(report.excludedMethods.every((m) => m.startsWith("demo.v1.UserService."))).toBe(true);
    expect(report.unmatchedPatterns).toEqual([]);
    expect(response.file.some((f) => f.name.includes("user.routes"))).toBe(false);
    const openapi = response.file.find((f) => f.name === "openapi.json")?.content ?? "";
    expect(openapi).not.toContain("UserService");
    expect(openapi).toContain("OrderService");
  });

  it("the report's counts agree with the files; without report=... no report file is written", () => {
    const { files, report } = generateWithReport(request(""));
    expect(files.map((f) => f.name)).not.toContain("r.json");
    const routeConstants = files.filter((f) => f.name.endsWith(".routes.js")).flatMap((f) => f.content.match(/^export const \w+ = \{/gm) ?? []);
    expect(report.routes).toBe(routeConstants.length);
    expect(report.services).toBe(new Set(files.flatMap((f) => [...f.content.matchAll(/^ {2}service: "([^"]+)"/gm)].map((m) => m[1]))).size);
    expect(report.excludedMethods).toEqual([]);
  });

  it("an unknown option is the plugin's error, not a crash", async () => {
    const response = await runAsBuf("paths=source_relative");
    expect(response.error).toBe('unknown protoc-gen-protogate option "paths" (known: selection, report, operations, openapi_*)');
  });
});

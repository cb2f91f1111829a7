import { describe, expect, it } from "vitest";
import { pluginOptions } from "../../codegen/openapi/settings.js";
import { operationsParameter } from "../../codegen/operations/operations-options.js";
import { parsePluginParameters } from "../../codegen/plugin-parameters.js";
import { encodePatterns } from "../../codegen/selection.js";

describe("the plugin parameter (one reader for every concern's keys)", () => {
  it("hands selection, report, operations and openapi_* keys to their concerns, in any order", () => {
    const selection = { include: ["demo.**"], exclude: ["demo.v1.UserService.DeleteUser"] };
    const parameter = [
      ...pluginOptions({ title: "Shop, v2", servers: ["https://a.example", "https://b.example"] }),
      operationsParameter({ mode: "off", configs: [] }),
      `selection=${encodePatterns(selection)}`,
      "report=r.json",
    ].join(",");
    expect(parsePluginParameters(parameter)).toEqual({
      selection,
      report: "r.json",
      operations: { mode: "off", configs: [] },
      openapi: { title: "Shop, v2", servers: ["https://a.example", "https://b.example"] },
    });
  });

  it.each([
    ["paths=source_relative", 'unknown protoc-gen-protogate option "paths"'],
    ["openapi_colour=red", 'unknown plugin option "openapi_colour"'],
    ["openapi_title=A,openapi_title=B", 'plugin option "openapi_title" is given twice'],
  ])("rejects %s", (parameter, message) => {
    expect(() => parsePluginParameters(parameter)).toThrow(message);
  });
});

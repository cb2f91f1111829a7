import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema } from "@bufbuild/protobuf/wkt";
import { DEFAULT_INFO, documentInfo } from "../../../codegen/openapi/document-info.js";
import { CodegenError, generate } from "../../../codegen/plugin.js";
import { parsePluginParameter, pluginOptions, PluginOptionError, type OpenApiSettings } from "../../../codegen/openapi/settings.js";

describe("OpenAPI settings as plugin options", () => {
  it("round-trips any settings through buf's comma-joined parameter", () => {
    const text = fc.string({ maxLength: 20 });
    const settings = fc.record(
      { title: text, version: text, description: text, servers: fc.array(text, { minLength: 1, maxLength: 3 }), apiKeyHeader: text },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(settings, (s: OpenApiSettings) => {
        expect(parsePluginParameter(pluginOptions(s).join(","))).toEqual(s);
      }),
    );
  });

  it("writes readable options, escaping only % and ,", () => {
    expect(pluginOptions({ title: "Shop, Inc. API", servers: ["https://a.example", "http://b.example:8080/v1"], version: "2.0 (100%)" })).toEqual([
      "openapi_title=Shop%2C Inc. API",
      "openapi_version=2.0 (100%25)",
      "openapi_server=https://a.example",
      "openapi_server=http://b.example:8080/v1",
    ]);
    expect(parsePluginParameter("")).toEqual({});
  });

  it.each([
    ["openapi_titel=x", /unknown plugin option "openapi_titel"; the options are openapi_title, /],
    ["openapi_title", /not key=value/],
    ["openapi_title=a,openapi_title=b", /"openapi_title" is given twice/],
    ["openapi_title=100%", /bad %-escape/],
  ])("rejects %s with one line naming the fix", (parameter, message) => {
    expect(() => parsePluginParameter(parameter)).toThrowError(PluginOptionError);
    expect(() => parsePluginParameter(parameter)).toThrowError(message);
  });
});

describe("the plugin with a bad parameter (a hand-written buf.gen.yaml)", () => {
  it("fails with one line naming the option, as buf shows plugin errors", () => {
    const request = create(CodeGeneratorRequestSchema, { parameter: "openapi_title=Shop,openapi_titel=x" });
    expect(() => generate(request)).toThrowError(CodegenError);
    expect(() => generate(request)).toThrowError(/^unknown plugin option "openapi_titel"; the options are openapi_title, openapi_version, openapi_description, openapi_server, openapi_api_key_header$/);
  });
});

describe("documentInfo: flags over the protos' openapiv2_swagger option over the defaults", () => {
  const fromProtos = {
    info: { title: "From protos", version: "3.1", description: "Proto text", license: { name: "Apache-2.0" } },
    servers: ["https://api.example.com/v1"],
    file: "shop/v1/shop.proto",
  };

  it("keeps today's defaults when nothing is given", () => {
    expect(documentInfo(undefined, {})).toEqual({ info: DEFAULT_INFO, servers: [] });
    expect(DEFAULT_INFO).toEqual({ title: "Protogate API", version: "1.0.0" });
  });

  it("takes the option's fields", () => {
    expect(documentInfo(fromProtos, {})).toEqual({ info: fromProtos.info, servers: [{ url: "https://api.example.com/v1" }] });
  });

  it("lets each flag win over the option, servers as a whole", () => {
    const merged = documentInfo(fromProtos, { title: "Flag title", servers: ["http://localhost:8080"], apiKeyHeader: "x-key" });
    expect(merged).toEqual({
      info: { title: "Flag title", version: "3.1", description: "Proto text", license: { name: "Apache-2.0" } },
      servers: [{ url: "http://localhost:8080" }],
      apiKeyHeader: "x-key",
    });
    expect(documentInfo(fromProtos, { version: "9", description: "Flag text" }).info).toMatchObject({ title: "From protos", version: "9", description: "Flag text" });
  });
});

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { OpenApiDocument } from "../../../codegen/openapi/index.js";
import { runGenerate } from "../../../codegen/run-generate.js";
import { redoclyLint } from "./redocly-lint.js";

const FIXTURE = join(import.meta.dirname, "fixtures/swagger-option");

// Through the real generate: flags travel to the plugin as plugin options, the option is read from
// the protos, and flags win field by field.
describe("grpc-gateway's openapiv2_swagger file option, and generate's --openapi-* flags over it", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-swagger-option-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const generate = async (name: string, openapi: Parameters<typeof runGenerate>[0]["openapi"]) => {
    const out = join(work, name);
    await runGenerate({ protoDirs: [FIXTURE], outDir: out, check: false, openapi });
    return JSON.parse(readFileSync(join(out, "openapi.json"), "utf8")) as OpenApiDocument;
  };

  it("takes info and servers (host, base_path, HTTP(S) schemes) from the option", async () => {
    const doc = await generate("option", undefined);
    expect(doc.info).toEqual({
      title: "Store API",
      version: "2.3.0",
      description: "Sells things.",
      contact: { name: "Store team", email: "store@shop.test" },
      license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
    });
    expect(doc.servers).toEqual([{ url: "https://api.shop.test/store" }, { url: "http://api.shop.test/store" }]);
    expect(await redoclyLint(doc)).toEqual([]);
  }, 120_000);

  it("lets the flags win, commas and percent signs included", async () => {
    const doc = await generate("flags", { title: "Store, Inc. (100%)", servers: ["https://gateway.shop.test"], apiKeyHeader: "x-store-key" });
    expect(doc.info).toMatchObject({ title: "Store, Inc. (100%)", version: "2.3.0", description: "Sells things." });
    expect(doc.servers).toEqual([{ url: "https://gateway.shop.test" }]);
    expect(doc.components.securitySchemes.apiKeyAuth).toMatchObject({ type: "apiKey", in: "header", name: "x-store-key" });
  }, 120_000);
});

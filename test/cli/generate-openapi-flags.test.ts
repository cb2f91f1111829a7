import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { OpenApiDocument } from "../../codegen/openapi/index.js";
import { main } from "../../src/cli/main.js";

const FIXTURE = join(import.meta.dirname, "../codegen/openapi/fixtures/swagger-option");

describe("protogate generate --openapi-*", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-openapi-flags-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("sets openapi.json's title, version, description, servers (repeatable) and API-key header", async () => {
    const out = join(work, "generated");
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const flags = ["--openapi-title", "Flag API", "--openapi-version", "9.0", "--openapi-description", "From flags", "--openapi-server", "https://a.shop.test", "--openapi-server", "https://b.shop.test/v1", "--openapi-api-key-header", "x-shop-key"];
    const code = await main(["generate", "--proto", FIXTURE, "--out", out, ...flags]);
    log.mockRestore();
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(join(out, "openapi.json"), "utf8")) as OpenApiDocument;
    expect(doc.info).toMatchObject({ title: "Flag API", version: "9.0", description: "From flags" });
    expect(doc.servers).toEqual([{ url: "https://a.shop.test" }, { url: "https://b.shop.test/v1" }]);
    expect(doc.components.securitySchemes.apiKeyAuth).toMatchObject({ name: "x-shop-key" });
  }, 120_000);
});

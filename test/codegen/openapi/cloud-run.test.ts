import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenApiDocument } from "../../../codegen/openapi/index.js";
import { runGenerate } from "../../../codegen/run-generate.js";
import type { AnyBinding } from "../../../src/binding.js";
import { loadGenerated } from "../../../src/load-generated.js";
import { createRouter } from "../../../src/routing/router.js";
import { fillPath, operationsOf, pathParametersOf } from "./document-checks.js";
import { redoclyLint } from "./redocly-lint.js";

const GOOGLE_PROTOS = join(import.meta.dirname, "../../../node_modules/google-proto-files");

// Cloud Run v2 is a resource-name API: most of its bindings collapsed to `/v2/{name}` before
// slashed patterns were expanded (22 operations shown, 22 hidden).
describe("OpenAPI of google/cloud/run/v2, generated with protogate generate", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-cloud-run-"));
  let document: OpenApiDocument;
  let bindings: readonly AnyBinding[];
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(async () => {
    const protoDir = join(work, "protos");
    mkdirSync(join(protoDir, "google/cloud/run"), { recursive: true });
    cpSync(join(GOOGLE_PROTOS, "google/cloud/run/v2"), join(protoDir, "google/cloud/run/v2"), { recursive: true });
    const out = join(work, "generated");
    const openapi = { title: "Cloud Run Admin API", version: "v2", servers: ["https://run.googleapis.com", "http://127.0.0.1:8080"] };
    await runGenerate({ protoDirs: [protoDir], outDir: out, check: false, openapi });
    document = JSON.parse(readFileSync(join(out, "openapi.json"), "utf8")) as OpenApiDocument;
    ({ bindings } = await loadGenerated(out));
  }, 120_000);

  it("passes Redocly's recommended-strict lint", async () => {
    expect(await redoclyLint(document)).toEqual([]);
  });

  it("shows every binding as an operation of its own, once", () => {
    const operations = operationsOf(document);
    expect(bindings.length).toBeGreaterThan(40);
    expect(operations).toHaveLength(bindings.length);
    const ids = operations.map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const listed = (method: string, rpc: string) => `${method} ${rpc}`;
    expect(operations.map((o) => listed(o.method, o.operation["x-protogate-rpc"] as string)).sort()).toEqual(bindings.map((b) => listed(b.httpMethod, b.rpcPath)).sort());
    expect(Object.keys(document.paths).some((path) => path.startsWith("/v2/{"))).toBe(false);
  });

  it("lists paths the gateway routes to the operation's RPC, and fields rebuilt from the parameters as the gateway sets them", () => {
    const router = createRouter(bindings.map((b) => ({ httpMethod: b.httpMethod, template: b.template, value: b })));
    for (const { method, path, operation } of operationsOf(document)) {
      const parameters = pathParametersOf(operation);
      const value = (name: string) => `${name}-1`;
      const match = router.match(method, fillPath(path, value));
      expect(match.kind, `${method} ${path}`).toBe("found");
      if (match.kind !== "found") continue;
      expect(match.value.rpcPath).toBe(operation["x-protogate-rpc"]);
      const routed = Object.fromEntries(match.variables.map((v) => [v.fieldPath.join("."), v.value]));
      for (const parameter of parameters) {
        const field = parameter["x-protogate-field"] as string;
        const template = (parameter["x-protogate-field-template"] as string | undefined) ?? `{${parameter.name}}`;
        expect(routed[field], `${method} ${path} ${parameter.name}`).toBe(fillPath(template, value));
      }
    }
  });

  it("names parameters after the collection before them", () => {
    const get = document.paths["/v2/projects/{project}/locations/{location}/services/{service}"]?.get;
    expect(get?.operationId).toBe("Services_GetService");
    expect(pathParametersOf(get ?? { operationId: "", tags: [], responses: {} }).map((p) => [p.name, p["x-protogate-field"], p["x-protogate-field-template"]])).toEqual([
      ["project", "name", "projects/{project}/locations/{location}/services/{service}"],
      ["location", "name", "projects/{project}/locations/{location}/services/{service}"],
      ["service", "name", "projects/{project}/locations/{location}/services/{service}"],
    ]);
  });

  it("takes title, version and servers from generate's options", () => {
    expect(document.info).toEqual({ title: "Cloud Run Admin API", version: "v2" });
    expect(document.servers).toEqual([{ url: "https://run.googleapis.com" }, { url: "http://127.0.0.1:8080" }]);
  });
});

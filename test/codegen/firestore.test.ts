import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenApiDocument } from "../../codegen/openapi/index.js";
import { runGenerate } from "../../codegen/run-generate.js";
import type { AnyBinding } from "../../src/binding.js";
import { loadGenerated } from "../../src/load-generated.js";
import { createRouter, type Router } from "../../src/routing/router.js";
import { operationsOf } from "./openapi/document-checks.js";
import { redoclyLint } from "./openapi/redocly-lint.js";

const GOOGLE_PROTOS = join(import.meta.dirname, "../../node_modules/google-proto-files");

// Firestore v1 binds `{parent=projects/*/databases/*/documents/**}/{collection_id}`: segments
// after `**`, which http.proto's grammar leaves out and grpc-gateway and Envoy accept.
describe("google/firestore/v1 (templates with segments after '**')", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-firestore-"));
  let router: Router<AnyBinding>;
  let bindings: readonly AnyBinding[];
  let document: OpenApiDocument;
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(async () => {
    const protoDir = join(work, "protos");
    mkdirSync(join(protoDir, "google/firestore"), { recursive: true });
    cpSync(join(GOOGLE_PROTOS, "google/firestore/v1"), join(protoDir, "google/firestore/v1"), { recursive: true });
    await runGenerate({ protoDirs: [protoDir], outDir: join(work, "generated"), check: false });
    ({ bindings } = await loadGenerated(join(work, "generated")));
    document = JSON.parse(readFileSync(join(work, "generated/openapi.json"), "utf8")) as OpenApiDocument;
    router = createRouter(bindings.map((binding) => ({ httpMethod: binding.httpMethod, template: binding.template, value: binding })));
  }, 120_000);

  const route = (method: string, path: string) => {
    const match = router.match(method, path);
    if (match.kind !== "found") return match.kind;
    return { rpc: match.value.method, ...Object.fromEntries(match.variables.map((v) => [v.fieldPath.join("."), v.value])) };
  };

  it.each([
    ["GET", "/v1/projects/p/databases/d/documents/rooms/r1/messages", { rpc: "ListDocuments", parent: "projects/p/databases/d/documents/rooms/r1", collection_id: "messages" }],
    ["GET", "/v1/projects/p/databases/d/documents/a/b/c/d/e", { rpc: "ListDocuments", parent: "projects/p/databases/d/documents/a/b/c/d", collection_id: "e" }],
    // A template ending at the path's end beats a `**` taking nothing.
    ["GET", "/v1/projects/p/databases/d/documents/rooms", { rpc: "ListDocuments", parent: "projects/p/databases/d/documents", collection_id: "rooms" }],
    ["POST", "/v1/projects/p/databases/d/documents/rooms", { rpc: "CreateDocument", parent: "projects/p/databases/d/documents", collection_id: "rooms" }],
    ["POST", "/v1/projects/p/databases/d/documents/rooms/r1/messages", { rpc: "CreateDocument", parent: "projects/p/databases/d/documents/rooms/r1", collection_id: "messages" }],
    ["DELETE", "/v1/projects/p/databases/d/documents/rooms/r1", { rpc: "DeleteDocument", name: "projects/p/databases/d/documents/rooms/r1" }],
    ["POST", "/v1/projects/p/databases/d/documents", "notFound"],
    ["POST", "/v1/projects/p/databases/d/documents:commit", { rpc: "Commit", database: "projects/p/databases/d" }],
  ])("%s %s", (method, path, expected) => {
    expect(route(method, path)).toEqual(expected);
  });

  it("documents its bindings as lint-clean OpenAPI operations, '**' included", async () => {
    expect(await redoclyLint(document)).toEqual([]);
    const list = document.paths["/v1/projects/{project}/databases/{database}/documents/{document}/{collection_id}"]?.get;
    expect(list?.operationId).toBe("Firestore_ListDocuments");
    expect(list?.parameters?.find((p) => p.name === "document")).toMatchObject({ "x-protogate-field": "parent", "x-protogate-pattern": "*/**", "x-protogate-field-template": "projects/{project}/databases/{database}/documents/{document}" });
    const get = document.paths["/v1/projects/{project}/databases/{database}/documents/{document}"]?.get;
    expect(get?.parameters?.find((p) => p.name === "document")).toMatchObject({ "x-protogate-field": "name", "x-protogate-pattern": "*/**" });
  });

  it("leaves out only the binding OpenAPI cannot tell from another: ListDocuments' /documents/{collection_id} against GetDocument's /documents/{name=*/**}", () => {
    const operations = operationsOf(document);
    expect(operations).toHaveLength(bindings.length - 1);
    const ids = new Set(operations.map((o) => o.operation.operationId));
    expect(ids.has("Firestore_GetDocument")).toBe(true);
    expect(ids.has("Firestore_ListDocuments")).toBe(true);
    expect(ids.has("Firestore_ListDocuments_1")).toBe(false);
  });
});

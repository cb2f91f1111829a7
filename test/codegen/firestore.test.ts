import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGenerate } from "../../codegen/run-generate.js";
import type { AnyBinding } from "../../src/binding.js";
import { loadGenerated } from "../../src/load-generated.js";
import { createRouter, type Router } from "../../src/routing/router.js";

const GOOGLE_PROTOS = join(import.meta.dirname, "../../node_modules/google-proto-files");

// Firestore v1 binds `{parent=projects/*/databases/*/documents/**}/{collection_id}`: segments
// after `**`, which http.proto's grammar leaves out and grpc-gateway and Envoy accept.
describe("google/firestore/v1 (templates with segments after '**')", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-firestore-"));
  let router: Router<AnyBinding>;
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(async () => {
    const protoDir = join(work, "protos");
    mkdirSync(join(protoDir, "google/firestore"), { recursive: true });
    cpSync(join(GOOGLE_PROTOS, "google/firestore/v1"), join(protoDir, "google/firestore/v1"), { recursive: true });
    await runGenerate({ protoDirs: [protoDir], outDir: join(work, "generated"), check: false });
    const { bindings } = await loadGenerated(join(work, "generated"));
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
});

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { buildSchema, type GraphQLObjectType, type GraphQLSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST_FILE } from "../../../codegen/output-manifest.js";
import { runGenerate } from "../../../codegen/run-generate.js";
import type { AnyBinding } from "../../../src/binding.js";
import type { GraphqlMap } from "../../../src/graphql/schema-map.js";

const GOOGLE_PROTOS = join(import.meta.dirname, "../../../node_modules/google-proto-files");

interface Generated {
  readonly schema: GraphQLSchema;
  readonly map: GraphqlMap;
  readonly bindings: readonly AnyBinding[];
  readonly descriptorSet: Uint8Array;
}

/** Generates the given google-proto-files folders together and loads the GraphQL output. */
async function generateApis(work: string, folders: readonly string[]): Promise<Generated> {
  const protoDir = join(work, "protos");
  for (const folder of folders) {
    mkdirSync(join(protoDir, folder, ".."), { recursive: true });
    cpSync(join(GOOGLE_PROTOS, folder), join(protoDir, folder), { recursive: true });
  }
  const out = join(work, "generated");
  await runGenerate({ protoDirs: [protoDir], outDir: out, check: false });
  // Not loadGenerated: vitest's module runner overflows its stack on Vertex AI's descriptor module
  // (one string concatenation of ~20,000 parts; plain Node imports it), so the route rows come from
  // each routes module and the descriptor set from the module's text.
  const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), "utf8")) as { files: string[] };
  const bindings: AnyBinding[] = [];
  for (const file of manifest.files.filter((f) => f.endsWith(".routes.js"))) {
    bindings.push(...((await import(pathToFileURL(join(out, file)).href)) as { bindings: AnyBinding[] }).bindings);
  }
  const base64 = [...readFileSync(join(out, "protogate.descriptors.js"), "utf8").matchAll(/^ {2}"([A-Za-z0-9+/=]+)"/gm)].map((m) => m[1]).join("");
  const descriptorSet = new Uint8Array(Buffer.from(base64, "base64"));
  const { graphqlMap: map } = (await import(pathToFileURL(join(out, "graphql-map.js")).href)) as { graphqlMap: GraphqlMap };
  return { schema: buildSchema(readFileSync(join(out, "schema.graphql"), "utf8")), map, bindings, descriptorSet };
}

const fieldNames = (schema: GraphQLSchema, root: string) => Object.keys((schema.getType(root) as GraphQLObjectType | undefined)?.getFields() ?? {});

/** What must hold of any generated schema: the map and the schema agree, and every RPC named is served. */
function checkConsistency({ schema, map, bindings, descriptorSet }: Generated): void {
  const served = new Map(bindings.map((b) => [b.rpcPath, b]));
  for (const op of map.operations) {
    expect(fieldNames(schema, op.root), `${op.root}.${op.field}`).toContain(op.field);
    const rows = bindings.filter((b) => b.rpcPath === op.rpcPath);
    expect(rows.length, op.rpcPath).toBeGreaterThan(0);
    if (op.root === "Subscription") expect(rows[0].kind).toBe("server");
    else expect(rows[0].kind).toBe("unary");
    if (op.root === "Query") expect(rows.some((b) => b.httpMethod === "GET"), `${op.field} is a Query without a GET rule`).toBe(true);
  }
  const count = (["Query", "Mutation", "Subscription"] as const).reduce((n, root) => n + fieldNames(schema, root).length, 0);
  expect(map.operations.length).toBe(count);
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  for (const [name, type] of Object.entries(map.types)) {
    expect(schema.getType(name), name).toBeDefined();
    const message = registry.getMessage(type.protoType) ?? registry.getMessage(type.protoType.slice(0, type.protoType.lastIndexOf(".")));
    expect(message, `${name}: ${type.protoType}`).toBeDefined();
  }
  for (const join of map.joins) expect(served.has(join.rpcPath)).toBe(true);
}

describe("GraphQL schema of Google Cloud APIs (google-proto-files)", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-graphql-google-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe("Cloud Run v2 and Pub/Sub v1, generated together", () => {
    let generated: Generated;
    beforeAll(async () => {
      generated = await generateApis(join(work, "run-pubsub"), ["google/cloud/run/v2", "google/pubsub/v1"]);
    }, 120_000);

    it("is valid, and its map agrees with the schema and the route table", () => {
      checkConsistency(generated);
      expect(fieldNames(generated.schema, "Query").length).toBeGreaterThan(25);
      expect(fieldNames(generated.schema, "Mutation").length).toBeGreaterThan(40);
    });

    it("qualifies root fields that several services share by their service (getIamPolicy of Jobs, Services, WorkerPools)", () => {
      const query = fieldNames(generated.schema, "Query");
      expect(query).not.toContain("getIamPolicy");
      expect(query).toEqual(expect.arrayContaining(["jobsGetIamPolicy", "servicesGetIamPolicy", "workerPoolsGetIamPolicy", "getService", "getTopic", "getOperation"]));
    });

    it("leaves out the RPC without an HTTP rule (Pub/Sub's bidi StreamingPull) and maps long-running operations", () => {
      expect(generated.map.operations.some((op) => op.rpcPath.endsWith("/StreamingPull"))).toBe(false);
      expect(String((generated.schema.getType("Mutation") as GraphQLObjectType).getFields().createService.type)).toBe("Operation");
    });
  });

  describe("Vertex AI v1 (aiplatform, 35 services)", () => {
    let generated: Generated;
    beforeAll(async () => {
      generated = await generateApis(join(work, "aiplatform"), ["google/cloud/aiplatform/v1"]);
    }, 180_000);

    it("is valid, and its map agrees with the schema and the route table", () => {
      checkConsistency(generated);
      expect(Object.keys(generated.schema.getTypeMap()).length).toBeGreaterThan(1000);
      expect(fieldNames(generated.schema, "Subscription").length).toBeGreaterThan(0);
    });
  });

  // Regression: with a type's object and input names requested together, Intent (object Intent,
  // input IntentInput) and the message IntentInput clashed in every round, package qualification
  // included (both are in one package), and generate failed on Dialogflow CX.
  describe("Dialogflow CX v3 (messages named like another's input type: Intent and IntentInput)", () => {
    let generated: Generated;
    beforeAll(async () => {
      generated = await generateApis(join(work, "dialogflow"), ["google/cloud/dialogflow/cx/v3"]);
    }, 120_000);

    it("is valid; the message keeps its name and the input type is qualified by package", () => {
      checkConsistency(generated);
      expect(generated.map.types.IntentInput).toMatchObject({ kind: "object", protoType: "google.cloud.dialogflow.cx.v3.IntentInput" });
      expect(generated.map.types.GoogleCloudDialogflowCxV3IntentInput).toMatchObject({ kind: "input", protoType: "google.cloud.dialogflow.cx.v3.Intent" });
      expect(generated.map.types.Intent).toMatchObject({ kind: "object", protoType: "google.cloud.dialogflow.cx.v3.Intent" });
    });
  });
});

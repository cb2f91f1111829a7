import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GenerateError, runGenerate } from "../../codegen/run-generate.js";

const work = mkdtempSync(join(tmpdir(), "protogate-selection-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const STORAGE = "google/cloud/bigquery/storage/v1";
const PKG = "google.cloud.bigquery.storage.v1";

/** BigQuery Storage v1 as a team would vendor it: the real protos from google-proto-files, in their layout. */
function bigQueryStorage(): string {
  const root = join(work, "bq-protos");
  mkdirSync(join(root, STORAGE), { recursive: true });
  cpSync(join(import.meta.dirname, "../../node_modules/google-proto-files", STORAGE), join(root, STORAGE), { recursive: true });
  return root;
}

const operationIds = (out: string): string[] => {
  const doc = JSON.parse(readFileSync(join(out, "openapi.json"), "utf8")) as { paths: Record<string, Record<string, { operationId?: string }>> };
  return Object.values(doc.paths).flatMap((item) => Object.values(item).flatMap((op) => (op.operationId === undefined ? [] : [op.operationId])));
};

describe("generate: selection and conflicts on BigQuery Storage v1", () => {
  const protos = bigQueryStorage();

  it("fails on its real route conflicts, naming both rules of each and the --exclude that resolves it, and writes nothing", async () => {
    const out = join(work, "bq-conflict");
    const failure = await runGenerate({ protoDirs: [protos], outDir: out, check: false }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(GenerateError);
    const lines = (failure as Error).message.split("\n");
    // Across services: BigQueryWrite.CreateWriteStream against BigQueryRead.CreateReadSession.
    const across = lines.find((line) => line.includes(`${PKG}.BigQueryWrite.CreateWriteStream:`));
    expect(across).toMatch(
      new RegExp(
        `storage\\.proto:134: ${PKG}\\.BigQueryWrite\\.CreateWriteStream: POST "/v1/\\{parent=projects/\\*/datasets/\\*/tables/\\*\\}" matches exactly the same requests as ` +
          `${PKG}\\.BigQueryRead\\.CreateReadSession: POST "/v1/\\{read_session\\.table=projects/\\*/datasets/\\*/tables/\\*\\}" \\(\\S*storage\\.proto:72\\); ` +
          `leave one out with --exclude ${PKG}\\.BigQueryWrite\\.CreateWriteStream or --exclude ${PKG}\\.BigQueryRead\\.CreateReadSession$`,
      ),
    );
    // Within a service: SplitReadStream against ReadRows (GET), and three POSTs against AppendRows.
    expect(lines.filter((line) => line.includes("matches exactly the same requests"))).toHaveLength(5);
    expect(lines.some((line) => /storage\.proto:108: .*BigQueryRead\.SplitReadStream: GET .* as \S+\.BigQueryRead\.ReadRows: GET .*storage\.proto:88\)/.test(line))).toBe(true);
    expect(lines.every((line) => line.includes(`${STORAGE}/storage.proto:`))).toBe(true);
    expect(existsSync(out)).toBe(false);
  });

  it("succeeds with the conflicting methods excluded: they get no route and no OpenAPI operation", async () => {
    const out = join(work, "bq-selected");
    const result = await runGenerate({ protoDirs: [protos], outDir: out, check: false, selection: { include: [], exclude: [`${PKG}.BigQueryWrite`, "**.ReadRows"] } });
    expect(result.report).toMatchObject({ services: 1, routes: 2, methodsWithoutHttpRule: [] });
    expect([...result.report.excludedMethods].sort()).toEqual(
      [
        "BigQueryRead.ReadRows",
        "BigQueryWrite.AppendRows",
        "BigQueryWrite.BatchCommitWriteStreams",
        "BigQueryWrite.CreateWriteStream",
        "BigQueryWrite.FinalizeWriteStream",
        "BigQueryWrite.FlushRows",
        "BigQueryWrite.GetWriteStream",
      ].map((m) => `${PKG}.${m}`),
    );
    expect(result.warnings).toEqual([]);
    const routes = readFileSync(join(out, STORAGE, "storage.routes.js"), "utf8");
    expect(routes.match(/^export const (\w+)/gm)).toEqual(["export const BigQueryRead_CreateReadSession", "export const BigQueryRead_SplitReadStream", "export const bindings"]);
    expect(operationIds(out).sort()).toEqual(["BigQueryRead_CreateReadSession", "BigQueryRead_SplitReadStream"]);
  });

  it("includes by file glob and service glob; a pattern that matches nothing is a warning", async () => {
    const out = join(work, "bq-include");
    const result = await runGenerate({
      protoDirs: [protos],
      outDir: out,
      check: true,
      selection: { include: [`${STORAGE}/*.proto`], exclude: ["**.BigQueryWrite", `${PKG}.BigQueryRead.Read*`, "no.such.Service"] },
    });
    expect(result.report.routes).toBe(2);
    expect(result.warnings).toEqual([
      "--exclude no.such.Service matched no method; name a package, service or method in full (pkg.Service.Method, globs * and **) or a file by import path (dir/x.proto)",
    ]);
  });
});

describe("generate: excluded methods are not validated", () => {
  it("a folder with only invalid rules generates once its services are excluded, warning that there are no routes", async () => {
    const bad = join(import.meta.dirname, "../fixtures/codegen/bad");
    const result = await runGenerate({ protoDirs: [bad], outDir: join(work, "bad-excluded"), check: false, selection: { include: [], exclude: ["bad/v1/*.proto"] } });
    expect(result.report.routes).toBe(0);
    expect(result.warnings).toEqual(["the output has no routes (--include/--exclude left out every method): serve would answer 404 to every request"]);
  });
});

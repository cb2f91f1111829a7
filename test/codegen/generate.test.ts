import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GenerateError, runGenerate } from "../../codegen/run-generate.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/codegen");
const GOLDEN = join(import.meta.dirname, "../golden/shop");
const work = mkdtempSync(join(tmpdir(), "protogate-codegen-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else files.set(relative(root, full), readFileSync(full, "utf8"));
    }
  };
  visit(root);
  return files;
}

/** Only the plugin's own output is golden; ts-proto's output is its authors' to test. */
const isProtogateOutput = (file: string) => file.endsWith(".routes.ts") || file === "index.ts" || file === "openapi.json";

describe("protogate generate", () => {
  it("matches the golden files for a proto using every HttpRule feature (UPDATE_GOLDEN=1 to refresh)", async () => {
    const out = join(work, "golden");
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    const produced = [...readTree(out)].filter(([file]) => isProtogateOutput(file));
    expect(produced.map(([f]) => f).sort()).toEqual(["index.ts", "openapi.json", "shop/v1/shop.routes.ts"]);
    if (process.env.UPDATE_GOLDEN === "1") {
      rmSync(GOLDEN, { recursive: true, force: true });
      for (const [file, content] of produced) {
        mkdirSync(join(GOLDEN, file, ".."), { recursive: true });
        writeFileSync(join(GOLDEN, `${file}.golden`), content);
      }
    }
    for (const [file, content] of produced) {
      expect(content, `${file} differs from test/golden/shop/${file}.golden`).toBe(readFileSync(join(GOLDEN, `${file}.golden`), "utf8"));
    }
  });

  it("is deterministic: a second run changes nothing and --check agrees", async () => {
    const out = join(work, "twice");
    const first = await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    expect(first.differences.length).toBe(first.fileCount);
    const before = readTree(out);
    const second = await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    expect(second.differences).toEqual([]);
    expect(readTree(out)).toEqual(before);
    const check = await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: true });
    expect(check.differences).toEqual([]);
  });

  it("--check reports changed, added and removed files without writing", async () => {
    const out = join(work, "drift");
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    writeFileSync(join(out, "index.ts"), readFileSync(join(out, "index.ts"), "utf8") + "// edited\n");
    writeFileSync(join(out, "stray.ts"), "// stray\n");
    rmSync(join(out, "openapi.json"));
    const check = await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: true });
    expect(check.differences).toEqual([
      { file: "index.ts", kind: "changed" },
      { file: "openapi.json", kind: "added" },
      { file: "stray.ts", kind: "removed" },
    ]);
    expect(existsSync(join(out, "openapi.json"))).toBe(false);
  });

  it("reports every invalid rule with file:line and a reason, and writes nothing", async () => {
    const out = join(work, "bad");
    const failure = await runGenerate({ protoDirs: [join(FIXTURES, "bad")], outDir: out, check: false }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(GenerateError);
    const message = (failure as Error).message;
    const expected: Array<[number, string]> = [
      [10, `path variable {missing}: "missing" is not a field of bad.v1.Req`],
      [13, `"tags" is a repeated field`],
      [16, `"inner" is a message field`],
      [19, "'**' must be the last segment"],
      [22, `the field "id" is bound twice`],
      [25, `body field "nope" is not a field of bad.v1.Req`],
      [31, `response_body field "absent" is not a field of bad.v1.Res`],
      [37, "a GET rule cannot have a body"],
      [43, "the template must start with '/'"],
      [49, `matches exactly the same requests as bad.v1.BadService.SameAsOther`],
      [54, "additional_bindings must not contain additional_bindings"],
      [61, `"id" is not a message field, so ".sub" cannot follow it`],
    ];
    for (const [line, reason] of expected) {
      const row = message.split("\n").find((l) => l.includes(`bad/v1/bad.proto:${line}:`));
      expect(row, `no error reported for line ${line}`).toBeDefined();
      expect(row).toContain(reason);
    }
    expect(message).not.toContain("signal: killed");
    expect(existsSync(out)).toBe(false);
  });

  it("works on a proto folder outside the project, and a team file wins over google-proto-files", async () => {
    const team = join(work, "team-protos");
    mkdirSync(join(team, "acme/v1"), { recursive: true });
    mkdirSync(join(team, "google/type"), { recursive: true });
    // The team's own google/type/date.proto shadows the one in google-proto-files.
    writeFileSync(join(team, "google/type/date.proto"), 'syntax = "proto3";\npackage google.type;\nmessage Date { int32 year = 1; int32 team_marker = 99; }\n');
    writeFileSync(
      join(team, "acme/v1/acme.proto"),
      [
        'syntax = "proto3";',
        "package acme.v1;",
        'import "google/api/annotations.proto";',
        'import "google/type/date.proto";',
        "service Acme { rpc Get(GetRequest) returns (google.type.Date) { option (google.api.http) = { get: \"/v1/acme/{id}\" }; } }",
        "message GetRequest { string id = 1; }",
        "",
      ].join("\n"),
    );
    const out = join(work, "team-out");
    await runGenerate({ protoDirs: [team], outDir: out, check: false });
    expect(readFileSync(join(out, "acme/v1/acme.routes.ts"), "utf8")).toContain('pattern: "/v1/acme/{id}"');
    expect(readFileSync(join(out, "google/type/date.ts"), "utf8")).toContain("teamMarker");
  });

  it("generates a real Google API (pubsub) with imports resolved from google-proto-files", async () => {
    const root = join(work, "pubsub-protos");
    const source = join(import.meta.dirname, "../../node_modules/google-proto-files/google/pubsub/v1");
    mkdirSync(join(root, "google/pubsub"), { recursive: true });
    cpSync(source, join(root, "google/pubsub/v1"), { recursive: true });
    const out = join(work, "pubsub-out");
    await runGenerate({ protoDirs: [root], outDir: out, check: false });
    const routes = readFileSync(join(out, "google/pubsub/v1/pubsub.routes.ts"), "utf8");
    expect(routes).toContain('pattern: "/v1/{name=projects/*/topics/*}"');
    expect(routes).toContain('httpMethod: "PUT"');
    const openapi = JSON.parse(readFileSync(join(out, "openapi.json"), "utf8")) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).length).toBeGreaterThan(10);
  });

  it("names a missing import with the importing file and line", async () => {
    const team = join(work, "missing-import");
    mkdirSync(team, { recursive: true });
    writeFileSync(join(team, "a.proto"), 'syntax = "proto3";\n\nimport "nowhere/b.proto";\n');
    await expect(runGenerate({ protoDirs: [team], outDir: join(work, "missing-out"), check: false })).rejects.toThrow(
      'a.proto:3: import "nowhere/b.proto" is in no --proto folder and not in google-proto-files',
    );
  });

  it("refuses to overwrite a folder it did not write", async () => {
    const out = join(work, "precious");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "notes.txt"), "keep me");
    await expect(runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false })).rejects.toThrow(/refusing to overwrite/);
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("keep me");
  });
});

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { MANIFEST_FILE, renderManifest } from "../../codegen/output-manifest.js";
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
const isProtogateOutput = (file: string) => /\.routes\.(js|d\.ts)$/.test(file) || file === "index.js" || file === "index.d.ts" || file === "openapi.json";

describe("protogate generate", () => {
  it("matches the golden files for a proto using every HttpRule feature (UPDATE_GOLDEN=1 to refresh)", async () => {
    const out = join(work, "golden");
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    const produced = [...readTree(out)].filter(([file]) => isProtogateOutput(file));
    expect(produced.map(([f]) => f).sort()).toEqual(["index.d.ts", "index.js", "openapi.json", "shop/v1/shop.routes.d.ts", "shop/v1/shop.routes.js"]);
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

  it("writes only the gateway's files (JavaScript, declarations, descriptors, OpenAPI, GraphQL) unless ts-proto's message code is asked for", async () => {
    const lean = join(work, "lean");
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: lean, check: false });
    expect([...readTree(lean).keys()].sort()).toEqual([
      MANIFEST_FILE,
      "graphql-map.d.ts",
      "graphql-map.js",
      "index.d.ts",
      "index.js",
      "openapi.json",
      "package.json",
      "protogate.descriptors.d.ts",
      "protogate.descriptors.js",
      "schema.graphql",
      "shop/v1/shop.routes.d.ts",
      "shop/v1/shop.routes.js",
    ]);
    const full = join(work, "with-ts-proto");
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: full, check: false, tsProto: true });
    const files = readTree(full);
    expect(files.get("shop/v1/shop.ts")).toContain("export const Shelf: MessageFns<Shelf>");
    // The gateway's files do not depend on ts-proto's: the same bytes either way (the manifest lists ts-proto's too).
    for (const [file, content] of readTree(lean)) if (file !== MANIFEST_FILE) expect(files.get(file), file).toBe(content);
  });

  it("writes declarations that type-check against protogate/runtime (library checks on)", async () => {
    const out = join(work, "typed");
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    const consumer = join(out, "consumer.ts");
    // A team's code reading the table: the types must carry through.
    // (An untyped `any` table would leave the @ts-expect-error unused: an error.)
    writeFileSync(
      consumer,
      [
        'import { bindings, routeTableFormat } from "./index.js";',
        "const first: string = bindings[0].pattern;",
        "const format: number = routeTableFormat;",
        "// @ts-expect-error the rows are read-only",
        'bindings[0].pattern = "/x";',
        "export { first, format };",
        "",
      ].join("\n"),
    );
    const declarations = [...readTree(out).keys()].filter((file) => file.endsWith(".d.ts")).map((file) => join(out, file));
    // index, the descriptor set, the GraphQL map and the routes of shop.proto.
    expect(declarations.length).toBe(4);
    const program = ts.createProgram([consumer, ...declarations], {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
      baseUrl: out,
      paths: { "protogate/runtime": [join(import.meta.dirname, "../../src/runtime.ts")] },
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(problems).toEqual([]);
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

  it("--check reports changed, added and removed files of its own without writing, and ignores the user's files", async () => {
    const out = join(work, "drift");
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    writeFileSync(join(out, "index.js"), readFileSync(join(out, "index.js"), "utf8") + "// edited\n");
    writeFileSync(join(out, "stray.js"), "// the user's\n");
    rmSync(join(out, "openapi.json"));
    // A file an earlier run wrote (listed in the manifest) that this run no longer writes.
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), "utf8")) as { files: string[] };
    writeFileSync(join(out, MANIFEST_FILE), renderManifest([...manifest.files, "old/v1/old.routes.ts"]));
    mkdirSync(join(out, "old/v1"), { recursive: true });
    writeFileSync(join(out, "old/v1/old.routes.ts"), "// stale\n");
    const check = await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: true });
    expect(check.differences).toEqual([
      { file: MANIFEST_FILE, kind: "changed" },
      { file: "index.js", kind: "changed" },
      { file: "old/v1/old.routes.ts", kind: "removed" },
      { file: "openapi.json", kind: "added" },
    ]);
    expect(existsSync(join(out, "openapi.json"))).toBe(false);
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    expect(existsSync(join(out, "old"))).toBe(false);
    expect(readFileSync(join(out, "stray.js"), "utf8")).toBe("// the user's\n");
  });

  it("reports every invalid HTTP and access rule with file:line and a reason, and writes nothing", async () => {
    const out = join(work, "bad");
    const failure = await runGenerate({ protoDirs: [join(FIXTURES, "bad")], outDir: out, check: false }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(GenerateError);
    const message = (failure as Error).message;
    const expected: Array<[number, string]> = [
      [11, `path variable {missing}: "missing" is not a field of bad.v1.Req`],
      [14, `"tags" is a repeated field`],
      [17, `"inner" is a message field`],
      [20, "'**' may appear only once in a template"],
      [23, `the field "id" is bound twice`],
      [26, `body field "nope" is not a field of bad.v1.Req`],
      [32, `response_body field "absent" is not a field of bad.v1.Res`],
      [38, "a GET rule cannot have a body"],
      [44, "the template must start with '/'"],
      [50, `matches exactly the same requests as bad.v1.BadService.SameAsOther: GET "/v1/widgets/{id}" (`],
      [50, `bad/v1/bad.proto:47); leave one out with --exclude bad.v1.BadService.SameAsOtherAgain or --exclude bad.v1.BadService.SameAsOther`],
      [55, "additional_bindings must not contain additional_bindings"],
      [62, `"id" is not a message field, so ".sub" cannot follow it`],
      // protogate.v1.rule and protogate.v1.default_rule
      [69, "BadService.PublicWithScopes: public: true cannot be combined with scopes"],
      [78, "BadService.BadScopes: scopes[1] is empty"],
      [79, `BadService.BadScopes: scopes[2] "two words" is not a scope token`],
      [86, "BadDefaultService: public: true cannot be combined with scopes"],
    ];
    for (const [line, reason] of expected) {
      const row = message.split("\n").find((l) => l.includes(`bad/v1/bad.proto:${line}:`));
      expect(row, `no error reported for line ${line}`).toBeDefined();
      expect(row).toContain(reason);
    }
    expect(message).not.toContain("BadScopes: scopes[0]");
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
        'import "protogate/v1/auth.proto";',
        "service Acme {",
        '  rpc Get(GetRequest) returns (google.type.Date) { option (google.api.http) = { get: "/v1/acme/{id}" }; option (protogate.v1.rule) = { scopes: ["acme:read"] }; }',
        "}",
        "message GetRequest { string id = 1; }",
        "",
      ].join("\n"),
    );
    const out = join(work, "team-out");
    await runGenerate({ protoDirs: [team], outDir: out, check: false, tsProto: true });
    const routes = readFileSync(join(out, "acme/v1/acme.routes.js"), "utf8");
    expect(routes).toContain('pattern: "/v1/acme/{id}"');
    // protogate/v1/auth.proto is not in the team's folder: it comes from protogate's own proto/.
    expect(routes).toContain('auth: {"public":false,"scopes":["acme:read"],"forwardAuthorization":false}');
    expect(existsSync(join(out, "protogate/v1/auth.ts"))).toBe(true);
    expect(readFileSync(join(out, "google/type/date.ts"), "utf8")).toContain("teamMarker");
  });

  /** A team folder with `extra/v1/extra.proto` using the rule, and the given own `protogate/v1/auth.proto`. */
  function teamWithOwnAuthProto(name: string, authProto: string): string {
    const team = join(work, name);
    mkdirSync(join(team, "extra/v1"), { recursive: true });
    mkdirSync(join(team, "protogate/v1"), { recursive: true });
    writeFileSync(join(team, "protogate/v1/auth.proto"), authProto);
    writeFileSync(
      join(team, "extra/v1/extra.proto"),
      [
        'syntax = "proto3";',
        "package extra.v1;",
        'import "google/api/annotations.proto";',
        'import "protogate/v1/auth.proto";',
        "service Extra {",
        '  rpc Get(GetRequest) returns (GetRequest) { option (google.api.http) = { get: "/v1/extra/{id}" }; option (protogate.v1.rule) = { public: true }; }',
        "}",
        "message GetRequest { string id = 1; }",
        "",
      ].join("\n"),
    );
    return team;
  }

  it("a team's own protogate/v1/auth.proto wins over the one protogate ships", async () => {
    const ownAuth = readFileSync(join(import.meta.dirname, "../../proto/protogate/v1/auth.proto"), "utf8").replace(
      "bool forward_authorization = 3;",
      "bool forward_authorization = 3;\n  string team_marker = 99;",
    );
    const out = join(work, "own-auth-out");
    await runGenerate({ protoDirs: [teamWithOwnAuthProto("own-auth", ownAuth)], outDir: out, check: false, tsProto: true });
    expect(readFileSync(join(out, "protogate/v1/auth.ts"), "utf8")).toContain("teamMarker");
    expect(readFileSync(join(out, "extra/v1/extra.routes.js"), "utf8")).toContain('auth: {"public":true,"scopes":[],"forwardAuthorization":false}');
  });

  it("rejects a protogate.v1.rule whose type is not protogate's AuthRule", async () => {
    const shadow = [
      'syntax = "proto3";',
      "package protogate.v1;",
      'import "google/protobuf/descriptor.proto";',
      "message AuthRule { bool public = 1; }",
      "extend google.protobuf.MethodOptions { AuthRule rule = 50420; }",
      "",
    ].join("\n");
    await expect(runGenerate({ protoDirs: [teamWithOwnAuthProto("shadow-auth", shadow)], outDir: join(work, "shadow-out"), check: false })).rejects.toThrow(
      /extra\/v1\/extra\.proto:6: extra\.v1\.Extra\.Get: \(protogate\.v1\.rule\) is not a protogate\.v1\.AuthRule/,
    );
  });

  it("generates a real Google API (pubsub) with imports resolved from google-proto-files", async () => {
    const root = join(work, "pubsub-protos");
    const source = join(import.meta.dirname, "../../node_modules/google-proto-files/google/pubsub/v1");
    mkdirSync(join(root, "google/pubsub"), { recursive: true });
    cpSync(source, join(root, "google/pubsub/v1"), { recursive: true });
    const out = join(work, "pubsub-out");
    await runGenerate({ protoDirs: [root], outDir: out, check: false });
    const routes = readFileSync(join(out, "google/pubsub/v1/pubsub.routes.js"), "utf8");
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

  it("names a missing protogate/ import as missing from protogate's own protos", async () => {
    const team = join(work, "missing-protogate-import");
    mkdirSync(team, { recursive: true });
    writeFileSync(join(team, "a.proto"), 'syntax = "proto3";\nimport "protogate/v1/nope.proto";\n');
    await expect(runGenerate({ protoDirs: [team], outDir: join(work, "missing-protogate-out"), check: false })).rejects.toThrow(
      `a.proto:2: import "protogate/v1/nope.proto" is in no --proto folder and not among protogate's own protos nor in google-proto-files`,
    );
  });

  it("warns when a team file copied without its google/... layout defines the same types as the shipped one", async () => {
    const team = join(work, "copied-layout");
    mkdirSync(team, { recursive: true });
    // The team's edited copy of google/type/date.proto, at the wrong import path: imports still get the shipped one.
    writeFileSync(join(team, "date.proto"), 'syntax = "proto3";\npackage google.type;\nmessage Date { int32 year = 1; int32 team_marker = 99; }\n');
    writeFileSync(join(team, "use.proto"), 'syntax = "proto3";\npackage use.v1;\nimport "google/type/date.proto";\nmessage Uses { google.type.Date when = 1; }\n');
    const result = await runGenerate({ protoDirs: [team], outDir: join(work, "copied-layout-out"), check: true });
    expect(result.warnings).toEqual([
      `${relative(process.cwd(), join(team, "date.proto"))} and google/type/date.proto (google-proto-files) both define google.type.Date; imports get the shipped copy, not yours: give your file the import path of the one it replaces (google/type/date.proto under its --proto folder)`,
      "the output has no routes (no selected method has a google.api.http rule): serve would answer 404 to every request",
    ]);
  });

  it("never deletes a file it did not write: a README.md and a .gitkeep survive, and nothing counts them as changed", async () => {
    const out = join(work, "precious");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "README.md"), "keep me");
    writeFileSync(join(out, ".gitkeep"), "");
    const first = await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    expect(first.differences.map((d) => d.file)).not.toContain("README.md");
    expect(first.differences.every((d) => d.kind === "added")).toBe(true);
    const again = await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    expect(again.differences).toEqual([]);
    expect(readFileSync(join(out, "README.md"), "utf8")).toBe("keep me");
    expect(existsSync(join(out, ".gitkeep"))).toBe(true);
  });

  it("a file in the way (there, not written by generate, would be overwritten) is an error naming it; nothing is written", async () => {
    const out = join(work, "in-the-way");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "openapi.json"), "{ \"mine\": true }");
    await expect(runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false })).rejects.toThrow(
      `--out ${out}: openapi.json is in the way: generate would write it but did not write it (not in ${MANIFEST_FILE}); move it away or pick another --out`,
    );
    await expect(runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: true })).rejects.toThrow("openapi.json is in the way");
    expect(readdirSync(out)).toEqual(["openapi.json"]);
    expect(readFileSync(join(out, "openapi.json"), "utf8")).toBe("{ \"mine\": true }");
  });

  it("takes over a folder written before manifests: rewrites its files, removes stale generated ones, keeps the user's", async () => {
    const out = join(work, "legacy");
    await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    rmSync(join(out, MANIFEST_FILE));
    writeFileSync(join(out, "openapi.json"), "{}\n"); // no marker, but generate wrote it
    writeFileSync(join(out, "gone.routes.ts"), "// Code generated by protoc-gen-protogate. DO NOT EDIT.\n");
    writeFileSync(join(out, "NOTES.md"), "mine");
    const result = await runGenerate({ protoDirs: [join(FIXTURES, "golden-protos")], outDir: out, check: false });
    expect(result.differences).toEqual([
      { file: MANIFEST_FILE, kind: "added" },
      { file: "gone.routes.ts", kind: "removed" },
      { file: "openapi.json", kind: "changed" },
    ]);
    expect(readFileSync(join(out, "NOTES.md"), "utf8")).toBe("mine");
    expect(existsSync(join(out, "gone.routes.ts"))).toBe(false);
  });
});

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/protogate.js");
const work = mkdtempSync(join(tmpdir(), "protogate-generate-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `protogate generate ...` in `cwd`; never rejects. */
async function generate(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, "generate", ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const SERVICE = [
  'syntax = "proto3";',
  "package acme.v1;",
  'import "google/api/annotations.proto";',
  "message Thing { string id = 1; }",
  "service Things {",
  '  rpc Get(Thing) returns (Thing) { option (google.api.http) = { get: "/v1/things/{id}" }; }',
  '  rpc Admin(Thing) returns (Thing) { option (google.api.http) = { post: "/v1/things/{id}:admin" body: "*" }; }',
  "  rpc GrpcOnly(Thing) returns (Thing);",
  "}",
  "",
].join("\n");

/** Another service, in another file and package, with a route that clashes with Things.Get. */
const CLASH = [
  'syntax = "proto3";',
  "package acme.v2;",
  'import "google/api/annotations.proto";',
  "message Req { string name = 1; }",
  'service Other { rpc Fetch(Req) returns (Req) { option (google.api.http) = { get: "/v1/things/{name}" }; } }',
  "",
].join("\n");

/** A project: `protos/acme/v1/things.proto`, optionally a protogate.yaml beside `protos/`. */
function project(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [file, content] of Object.entries({ "protos/acme/v1/things.proto": SERVICE, ...files })) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  return dir;
}

const oneLine = (stderr: string) => {
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
};

describe("protogate generate (CLI)", () => {
  it("reads protogate.yaml beside the proto folder (paths relative to it), prints warnings on stderr and the summary on stdout, keeps the user's files", async () => {
    const dir = project("with-config", { "protogate.yaml": "proto: protos\nout: gen\nexclude: [acme.v1.Things.Admin]\n", "gen/README.md": "ours" });
    const first = await generate(dir);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^1 service, 1 route, 2 methods skipped \(1 excluded, 1 without google\.api\.http\); \d+ files in \S*gen \(\d+ written\)\n$/);
    expect(first.stderr).toBe("warning: 1 method has no google.api.http rule and gets no route: acme.v1.Things.GrpcOnly\n");
    expect(readFileSync(join(dir, "gen/acme/v1/things.routes.js"), "utf8")).not.toContain("Admin");
    expect(readFileSync(join(dir, "gen/README.md"), "utf8")).toBe("ours");
    const check = await generate(dir, "--check");
    expect(check).toMatchObject({ code: 0, stdout: expect.stringMatching(/gen is up to date/) as unknown as string });
    // A flag adds to the file's patterns; --check then names the drift and exits 1.
    const drift = await generate(dir, "--check", "--exclude", "acme.v1.Things.Get");
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain("warning: the output has no routes (no selected method has a google.api.http rule): serve would answer 404 to every request\n");
    expect(drift.stderr).toMatch(/gen is out of date; run `protogate generate`\. Differences:\n {2}changed: \.protogate-manifest\.json\n/);
  });

  it.each<[string, Record<string, string>, string[], RegExp]>([
    ["a missing --proto folder", {}, ["--proto", "nope"], /^protogate: --proto nope: no such folder; pass the folder that holds your \.proto files \(default: proto\)$/],
    ["the same file in two folders", { "more/acme/v1/things.proto": SERVICE }, ["--proto", "protos", "--proto", "more"], /^protogate: acme\/v1\/things\.proto is in two --proto folders \(protos\/acme\/v1\/things\.proto and more\/acme\/v1\/things\.proto\); delete one copy or pass only one of the folders$/],
    ["a syntax error, pointing at the user's file", { "protos/acme/v1/bad.proto": 'syntax = "proto3";\nmessage X { int32 y = 1 }\n' }, ["--proto", "protos"], /^protogate: protos\/acme\/v1\/bad\.proto:2:25: unexpected/],
    ["an invalid protogate.yaml", { "protogate.yaml": "exclude: acme.v1.Things.Admin\n" }, [], /^protogate: protogate\.yaml: exclude: Invalid input: expected array, received string$/],
    ["a route conflict", { "protos/acme/v2/other.proto": CLASH }, ["--proto", "protos"], /^protogate: protos\/acme\/v2\/other\.proto:5: acme\.v2\.Other\.Fetch: GET "\/v1\/things\/\{name\}" matches exactly the same requests as acme\.v1\.Things\.Get: GET "\/v1\/things\/\{id\}" \(protos\/acme\/v1\/things\.proto:6\); leave one out with --exclude acme\.v2\.Other\.Fetch or --exclude acme\.v1\.Things\.Get$/],
  ])("%s is one line naming the cause and the fix, no stack trace", async (name, files, args, message) => {
    const dir = project(name.replace(/\W+/g, "-"), files);
    const result = await generate(dir, ...args);
    expect(result.code).toBe(1);
    oneLine(result.stderr.replace(/^protogate: (.*)\n$/, "protogate: $1"));
    expect(result.stderr.trimEnd()).toMatch(message);
    expect(existsSync(join(dir, "generated"))).toBe(false);
  });
});

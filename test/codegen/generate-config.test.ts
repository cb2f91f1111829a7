import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveGenerateSettings, type GenerateFlags } from "../../codegen/generate-config.js";
import { GenerateError } from "../../codegen/generate-error.js";

const work = mkdtempSync(join(tmpdir(), "protogate-gen-config-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const flags = (partial: Partial<GenerateFlags>): GenerateFlags => ({ proto: [], include: [], exclude: [], ...partial });

/** A project folder with `protos/` and the given protogate.yaml beside it. */
function project(name: string, yaml: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, "protos"), { recursive: true });
  writeFileSync(join(dir, "protogate.yaml"), yaml);
  return dir;
}

describe("protogate.yaml", () => {
  it("defaults without a file: proto, generated, no patterns", () => {
    const settings = resolveGenerateSettings(flags({ proto: [join(work, "nowhere", "proto")] }));
    expect(settings).toEqual({ protoDirs: [join(work, "nowhere", "proto")], outDir: "generated", selection: { include: [], exclude: [] }, configFile: undefined });
  });

  it("is found beside the first --proto folder; its paths are relative to the file; patterns add up with the flags", () => {
    const dir = project("beside", "proto: [protos, ../shared]\nout: gen\ninclude: [acme.**]\nexclude: [acme.v1.Admin]\n");
    const settings = resolveGenerateSettings(flags({ proto: [join(dir, "protos")], exclude: ["**.Debug"] }));
    expect(settings.configFile).toBe(join(dir, "protogate.yaml"));
    expect(settings.protoDirs).toEqual([join(dir, "protos")]); // the flag wins over the file
    expect(settings.outDir).toBe(join(dir, "gen"));
    expect(settings.selection).toEqual({ include: ["acme.**"], exclude: ["acme.v1.Admin", "**.Debug"] });
  });

  it("--config names the file; its folders apply when no flag overrides them", () => {
    const dir = project("named", "proto: protos\n");
    const settings = resolveGenerateSettings(flags({ config: join(dir, "protogate.yaml"), out: "mine" }));
    expect(settings.protoDirs).toEqual([join(dir, "protos")]);
    expect(settings.outDir).toBe("mine");
  });

  it.each<[string, string, string]>([
    ["an unknown key", "excludes: [a]\n", `unknown key(s) "excludes" (known: proto, out, include, exclude)`],
    ["a pattern that is not a string", "exclude: [1]\n", "exclude.0: Invalid input: expected string, received number"],
    ["an empty pattern", 'include: [""]\n', "include.0: a pattern must not be empty"],
    ["a list that is a string", "exclude: a.B\n", "exclude: Invalid input: expected array, received string"],
    ["invalid YAML", "exclude: [a\n", "invalid YAML"],
    ["not a mapping", "- a\n", "the top level: Invalid input: expected object, received array"],
  ])("%s is one line naming the file and the key", (name, yaml, message) => {
    const dir = project(name.replace(/\W+/g, "-"), yaml);
    let error: unknown;
    try {
      resolveGenerateSettings(flags({ proto: [join(dir, "protos")] }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GenerateError);
    expect((error as Error).message).toContain(`${relative(process.cwd(), join(dir, "protogate.yaml"))}: `);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain("\n");
  });

  it("a --config that does not exist is an error naming the fix", () => {
    expect(() => resolveGenerateSettings(flags({ config: join(work, "missing.yaml") }))).toThrow(/cannot read .*missing\.yaml \(ENOENT\); check the --config path/);
  });
});

describe("unreadable proto folders", () => {
  it("name the path and the fix", async () => {
    const { unreadable } = await import("../../codegen/workspace.js");
    const error = unreadable(join(process.cwd(), "protos/a.proto"), Object.assign(new Error("EACCES"), { code: "EACCES" }));
    expect(error).toBeInstanceOf(GenerateError);
    expect(error.message).toBe("cannot read protos/a.proto (EACCES); check that it exists and its permissions allow reading");
  });

  // Root reads anything: as root, the CLI runs as `nobody` (uid 65534). That needs the checkout
  // reachable by other users (every folder above it searchable by others, as /tmp or /work are).
  const repo = join(import.meta.dirname, "../..");
  const reachable = (dir: string): boolean => (statSync(dir).mode & 0o001) !== 0 && (dirname(dir) === dir || reachable(dirname(dir)));
  it.skipIf(process.getuid?.() === 0 && !reachable(repo))("regression: a folder without read permission is one line naming it, not a stack trace (the real CLI)", async () => {
    const { chmodSync } = await import("node:fs");
    const { execFile } = await import("node:child_process");
    const root = join(work, "locked");
    mkdirSync(join(root, "secret"), { recursive: true });
    writeFileSync(join(root, "ok.proto"), 'syntax = "proto3";\npackage ok.v1;\n');
    for (const dir of [work, root]) chmodSync(dir, 0o755);
    chmodSync(join(root, "secret"), 0o000);
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const tmp = join(work, "tmp"); // tsx's cache and generate's work folder, writable by that user
    mkdirSync(tmp, { recursive: true });
    chmodSync(tmp, 0o1777);
    try {
      const bin = join(repo, "bin/protogate.js");
      const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = execFile(process.execPath, [bin, "generate", "--proto", root, "--out", join(root, "out"), "--check"], { ...asNobody, env: { ...process.env, TMPDIR: tmp } }, (_error, _stdout, stderr) =>
          done({ code: child.exitCode, stderr }),
        );
      });
      expect(result.stderr).toMatch(/^protogate: cannot read \S*secret \(EACCES\); check that it exists and its permissions allow reading\n$/);
      expect(result.code).toBe(1);
    } finally {
      chmodSync(join(root, "secret"), 0o755);
    }
  });
});

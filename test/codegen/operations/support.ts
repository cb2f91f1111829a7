import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { create, createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema, type CodeGeneratorRequest, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { OPERATIONS_PROTO } from "../../../codegen/operations/operations-options.js";
import { assembleWorkspace, findTeamProtos } from "../../../codegen/workspace.js";

const root = resolve(import.meta.dirname, "../../..");
export const OPERATIONS_FIXTURES = join(root, "test/fixtures/operations");

/** The operations fixtures (library + variants) compiled by buf with source info, as codegen sees them. */
export interface CompiledFixtures {
  readonly files: readonly FileDescriptorProto[];
  readonly registry: FileRegistry;
  /** A CodeGeneratorRequest for these team files (plus operations.proto, as `generate` adds it). */
  request(teamFiles: readonly string[], parameter?: string): CodeGeneratorRequest;
}

export async function compileFixtures(): Promise<CompiledFixtures> {
  const dir = mkdtempSync(join(tmpdir(), "protogate-operations-"));
  try {
    const team = findTeamProtos([join(OPERATIONS_FIXTURES, "library"), join(OPERATIONS_FIXTURES, "variants")]);
    await assembleWorkspace(team, dir, [OPERATIONS_PROTO]);
    writeFileSync(join(dir, "buf.yaml"), "version: v2\n");
    const out = join(dir, "set.binpb");
    execFileSync(join(root, "node_modules/.bin/buf"), ["build", "--as-file-descriptor-set", "-o", out], { cwd: dir, stdio: "pipe" });
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
    return {
      files: set.file,
      registry: createFileRegistry(set),
      request: (teamFiles, parameter = "") =>
        create(CodeGeneratorRequestSchema, { fileToGenerate: [...teamFiles, OPERATIONS_PROTO], protoFile: set.file, parameter }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

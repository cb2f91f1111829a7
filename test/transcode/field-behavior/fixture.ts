import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createFileRegistry, fromBinary, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const root = resolve(import.meta.dirname, "../../..");

/** fixture/fb/v1/fb.proto (with google/api/field_behavior.proto) built by buf into a registry. */
export function buildFieldBehaviorRegistry(): FileRegistry {
  const dir = mkdtempSync(join(tmpdir(), "protogate-fb-"));
  try {
    cpSync(join(import.meta.dirname, "fixture"), dir, { recursive: true });
    mkdirSync(join(dir, "google/api"), { recursive: true });
    cpSync(join(root, "node_modules/google-proto-files/google/api/field_behavior.proto"), join(dir, "google/api/field_behavior.proto"));
    writeFileSync(join(dir, "buf.yaml"), "version: v2\n");
    const out = join(dir, "set.binpb");
    execFileSync(join(root, "node_modules/.bin/buf"), ["build", "--as-file-descriptor-set", "-o", out], { cwd: dir, stdio: "pipe" });
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function message(registry: FileRegistry, name: string): DescMessage {
  const desc = registry.getMessage(name);
  if (desc === undefined) throw new Error(`no message ${name}`);
  return desc;
}

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runGenerate } from "../../codegen/run-generate.js";
import { fixTsProtoFile } from "../../codegen/ts-proto-fixes.js";

const work = mkdtempSync(join(tmpdir(), "protogate-fixes-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const UNWRAP = ["      for (const key of message.fields.keys()) {", "        object[key] = message.fields.get(key);", "      }", ""].join("\n");

describe("fixes to ts-proto's output", () => {
  it("rewrites Struct.unwrap so that a \"__proto__\" key becomes an own property", () => {
    const fixed = fixTsProtoFile("google/protobuf/struct.ts", UNWRAP);
    expect(fixed).toContain('if (key === "__proto__") {');
    expect(fixed).toContain("globalThis.Object.defineProperty(object, key, { value: message.fields.get(key)");
    expect(fixTsProtoFile("demo/v1/user.ts", UNWRAP)).toBe(UNWRAP);
  });

  it("fails loudly when ts-proto's output no longer has the text a fix replaces", () => {
    expect(() => fixTsProtoFile("google/protobuf/struct.ts", "object[key] = message.fields[key];")).toThrow(/ts-proto's output changed.*"__proto__"/);
    expect(() => fixTsProtoFile("google/protobuf/struct.ts", UNWRAP + UNWRAP)).toThrow(/no longer applies/);
  });

  it("protogate generate applies it to the struct.ts it writes", async () => {
    const protos = join(work, "protos", "fx", "v1");
    mkdirSync(protos, { recursive: true });
    writeFileSync(
      join(protos, "fx.proto"),
      'syntax = "proto3";\npackage fx.v1;\nimport "google/api/annotations.proto";\nimport "google/protobuf/struct.proto";\n' +
        'service Fx { rpc Get(google.protobuf.Struct) returns (google.protobuf.Struct) { option (google.api.http) = {post: "/v1/fx" body: "*"}; } }\n',
    );
    const out = join(work, "out");
    await runGenerate({ protoDirs: [join(work, "protos")], outDir: out, check: false, tsProto: true });
    const struct = readFileSync(join(out, "google/protobuf/struct.ts"), "utf8");
    expect(struct).toContain('if (key === "__proto__") {');
    expect(struct).not.toMatch(/^ {8}object\[key\] = message\.fields\.get\(key\);$/m);
  });
});

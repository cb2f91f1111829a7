import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runGenerate } from "../../../codegen/run-generate.js";

const work = mkdtempSync(join(tmpdir(), "protogate-success-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A team folder with one proto file `s/v1/s.proto` made of `lines` (line numbers matter: errors name them). */
function team(name: string, lines: readonly string[]): string {
  const dir = join(work, name);
  mkdirSync(join(dir, "s/v1"), { recursive: true });
  writeFileSync(join(dir, "s/v1/s.proto"), [...lines, ""].join("\n"));
  return dir;
}

const HEADER = [
  'syntax = "proto3";', // 1
  "package s.v1;", // 2
  'import "google/api/annotations.proto";', // 3
  'import "protogate/v1/response.proto";', // 4
  "message Thing { string name = 1; int32 size = 2; Inner inner = 3; repeated string tags = 4; }", // 5
  "message Inner { string path = 1; }", // 6
  "message Req { string name = 1; }", // 7
];

describe("(protogate.v1.success) at codegen", () => {
  it("carries 201 with its Location parts, 202 and 204 into the route table; 200 is the default and not carried", async () => {
    const dir = team("valid", [
      ...HEADER,
      "service S {", // 8
      '  rpc Create(Req) returns (Thing) { option (google.api.http) = {post: "/v1/things" body: "*"}; option (protogate.v1.success) = {status: 201 location: "/v1/{name}/x/{inner.path}"}; }',
      '  rpc Start(Req) returns (Thing) { option (google.api.http) = {post: "/v1/things:start" body: "*"}; option (protogate.v1.success) = {status: 202}; }',
      '  rpc Drop(Req) returns (Thing) { option (google.api.http) = {delete: "/v1/things/{name}"}; option (protogate.v1.success) = {status: 204}; }',
      '  rpc Get(Req) returns (Thing) { option (google.api.http) = {get: "/v1/things/{name}"}; option (protogate.v1.success) = {status: 200}; }',
      "}",
    ]);
    const out = join(work, "valid-out");
    await runGenerate({ protoDirs: [dir], outDir: out, check: false });
    const routes = readFileSync(join(out, "s/v1/s.routes.js"), "utf8");
    expect(routes).toContain('success: {"status":201,"location":[{"text":"/v1/"},{"field":["name"]},{"text":"/x/"},{"field":["inner","path"]}]}');
    expect(routes).toContain('success: {"status":202}');
    expect(routes).toContain('success: {"status":204}');
    expect(routes.match(/success:/g)).toHaveLength(3);
  });

  it("reports every invalid option with the proto's file and line", async () => {
    const dir = team("invalid", [
      ...HEADER,
      "service S {", // 8
      '  rpc A(Req) returns (Thing) { option (google.api.http) = {post: "/v1/a" body: "*"}; option (protogate.v1.success) = {status: 203}; }', // 9
      '  rpc B(Req) returns (Thing) { option (google.api.http) = {get: "/v1/b" response_body: "name"}; option (protogate.v1.success) = {status: 204}; }', // 10
      '  rpc C(Req) returns (Thing) { option (google.api.http) = {post: "/v1/c" body: "*"}; option (protogate.v1.success) = {status: 202 location: "/v1/{name}"}; }', // 11
      '  rpc D(Req) returns (Thing) { option (google.api.http) = {post: "/v1/d" body: "*"}; option (protogate.v1.success) = {status: 201 location: "/v1/{nope}"}; }', // 12
      '  rpc E(Req) returns (Thing) { option (google.api.http) = {post: "/v1/e" body: "*"}; option (protogate.v1.success) = {status: 201 location: "/v1/{size}"}; }', // 13
      '  rpc F(Req) returns (Thing) { option (google.api.http) = {post: "/v1/f" body: "*"}; option (protogate.v1.success) = {status: 201 location: "v1/{name}"}; }', // 14
      '  rpc G(Req) returns (Thing) { option (google.api.http) = {post: "/v1/g" body: "*"}; option (protogate.v1.success) = {status: 201 location: "/v1/{tags}"}; }', // 15
      '  rpc H(Req) returns (Thing) { option (google.api.http) = {post: "/v1/h" body: "*"}; option (protogate.v1.success) = {status: 201 location: "/v1/{name"}; }', // 16
      '  rpc I(Req) returns (stream Thing) { option (google.api.http) = {get: "/v1/i"}; option (protogate.v1.success) = {status: 201}; }', // 17
      '  rpc J(Req) returns (Thing) { option (google.api.http) = {post: "/v1/j" body: "*"}; option (protogate.v1.success) = {status: 201 location: "/v1/fixed"}; }', // 18
      "}",
    ]);
    const error = await runGenerate({ protoDirs: [dir], outDir: join(work, "invalid-out"), check: false }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const lines = (error?.message ?? "").split("\n");
    const expected = [
      "s/v1/s.proto:9: s.v1.S.A: status 203 is not one of 200, 201, 202, 204",
      's/v1/s.proto:10: s.v1.S.B: response_body "name" cannot be sent: the method answers 204 No Content ((protogate.v1.success))',
      "s/v1/s.proto:11: s.v1.S.C: location is for status 201 only (this status is 202)",
      's/v1/s.proto:12: s.v1.S.D: location "/v1/{nope}": {nope}: "nope" is not a field of s.v1.Thing',
      's/v1/s.proto:13: s.v1.S.E: location "/v1/{size}": {size}: "size" of s.v1.Thing is not a singular string field',
      's/v1/s.proto:14: s.v1.S.F: location "v1/{name}": it must be a URL path starting with "/"',
      's/v1/s.proto:15: s.v1.S.G: location "/v1/{tags}": {tags}: "tags" of s.v1.Thing is not a singular string field',
      's/v1/s.proto:16: s.v1.S.H: location "/v1/{name": a "{" without its "}"',
      "s/v1/s.proto:17: s.v1.S.I: (protogate.v1.success) applies to unary methods only; a stream's responses always start with 200",
      's/v1/s.proto:18: s.v1.S.J: location "/v1/fixed": it names no response field ({field}); a constant Location says nothing about what was created',
    ];
    for (const line of expected) expect(lines.some((l) => l.endsWith(line)), `${line}\nin:\n${lines.join("\n")}`).toBe(true);
  });
});

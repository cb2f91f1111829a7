import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readServiceConfigRoutes, ServiceConfigError } from "../../../codegen/operations/service-config.js";
import { OPERATIONS_FIXTURES } from "./support.js";

const work = mkdtempSync(join(tmpdir(), "protogate-service-config-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let count = 0;
/** A proto folder holding these files (path -> text). */
function folder(files: Record<string, string>): string {
  const dir = join(work, `case-${count++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const config = (rules: string) => `type: google.api.Service\nname: x.example.com\napis:\n- name: x.v1.Api\nhttp:\n  rules:\n${rules}`;

describe("readServiceConfigRoutes", () => {
  it("reads only the google.longrunning.Operations rules of a google.api.Service config, with file:line", () => {
    const [routes] = readServiceConfigRoutes([join(OPERATIONS_FIXTURES, "service-config")]);
    expect(routes?.apis).toEqual(["google.longrunning.Operations", "lro.v1.Library"]);
    expect(routes?.rules.map((r) => `${r.method} ${r.rule.pattern.case} ${JSON.stringify(r.rule.pattern.value)} body=${r.rule.body}`)).toEqual([
      `GetOperation get "/v1/{name=projects/*/locations/*/operations/*}" body=`,
      `ListOperations get "/v1/{name=projects/*/locations/*}/operations" body=`,
      `WaitOperation post "/v1/{name=projects/*/locations/*/operations/*}:wait" body=*`,
    ]);
    const path = join(OPERATIONS_FIXTURES, "service-config/library_v1.yaml");
    const file = relative(process.cwd(), path);
    // The line of each rule's first key, as an editor shows it.
    const lines = readFileSync(path, "utf8")
      .split("\n")
      .flatMap((line, i) => (line.includes("selector: google.longrunning.") ? [`${file}:${i + 1}`] : []));
    expect(lines).toHaveLength(3);
    expect(routes?.rules.map((r) => r.source)).toEqual(lines);
  });

  it("accepts custom patterns and finds configs in subfolders, ignoring other YAML and configs without operation rules", () => {
    const dir = folder({
      "buf.yaml": "version: v2\n",
      "broken.yaml": "a: [\n",
      "list.yml": "- 1\n- 2\n",
      "api/none.yaml": config("  - selector: x.v1.Api.Get\n    get: /v1/things\n"),
      "api/deep/ops.yml": config("  - selector: google.longrunning.Operations.GetOperation\n    custom: { kind: FETCH, path: '/v1/{name=operations/**}' }\n"),
    });
    const found = readServiceConfigRoutes([dir]);
    expect(found.map((f) => [f.file.endsWith("api/deep/ops.yml"), f.rules.map((r) => r.rule.pattern)])).toEqual([[true, [{ case: "custom", value: { kind: "FETCH", path: "/v1/{name=operations/**}" } }]]]);
  });

  it.each([
    ["an unknown method", config("  - selector: google.longrunning.Operations.Poll\n    get: /v1/x\n"), /:7: google\.longrunning\.Operations\.Poll is not a method of google\.longrunning\.Operations \(ListOperations, GetOperation/],
    ["two patterns", config("  - selector: google.longrunning.Operations.GetOperation\n    get: /v1/x\n    post: /v1/y\n"), /:7: http rule for google\.longrunning\.Operations\.GetOperation needs exactly one of get, put, post, delete, patch or custom$/],
    ["no pattern", config("  - selector: google.longrunning.Operations.GetOperation\n"), /needs exactly one of get/],
    ["a misspelt key", config("  - selector: google.longrunning.Operations.GetOperation\n    get: /v1/x\n    bdy: '*'\n"), /:7: http rule for google\.longrunning\.Operations\.GetOperation: .*bdy/],
    ["apis that are not a list", "type: google.api.Service\napis: x.v1.Api\n", /not a valid google\.api\.Service config .*fix or remove the file$/],
  ])("rejects %s with the file, the line and the cause", (_, text, message) => {
    const dir = folder({ "api.yaml": text });
    let error: unknown;
    try {
      readServiceConfigRoutes([dir]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ServiceConfigError);
    expect((error as Error).message).toMatch(/api\.yaml/);
    expect((error as Error).message).toMatch(message);
  });
});

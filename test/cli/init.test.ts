import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runGenerate } from "../../codegen/run-generate.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { runInit, type InitOptions } from "../../src/cli/init.js";
import { loadConfig } from "../../src/config/load-config.js";
import { runProtogate } from "../e2e/support/processes.js";

const STARTER_FILES = ["buf.yaml", "gateway.yaml", "proto/greeter/v1/greeter.proto"];
const DEV_KEY = "pg_dev_test-key-0123456789";
const work = mkdtempSync(join(tmpdir(), "pg-init-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let folders = 0;
const freshFolder = () => join(work, `project-${++folders}`, "api");

/** Runs init with its output collected. */
async function init(options: Partial<InitOptions> & { dir: string }): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runInit({ devKey: DEV_KEY, codegenMissing: false, print: (line) => out.push(line), printError: (line) => err.push(line), ...options });
  return { code, out, err };
}

describe("protogate init", () => {
  it("writes buf.yaml, gateway.yaml and the example proto into a new folder", async () => {
    const dir = freshFolder();
    const { code, out, err } = await init({ dir });
    expect(code).toBe(0);
    expect(err).toEqual([]);
    for (const file of STARTER_FILES) expect(existsSync(join(dir, file)), file).toBe(true);
    expect(out[0]).toBe(`protogate: wrote ${STARTER_FILES.join(", ")} in ${dir}`);
  });

  it("gateway.yaml is a valid config: the example upstream, generated/ beside it, docs on, and auth on with the SHA-256 of the printed dev key (no 401 without a hint)", async () => {
    const dir = freshFolder();
    const { out } = await init({ dir });
    const config = loadConfig(join(dir, "gateway.yaml"));
    expect(config.upstreams).toEqual({ "greeter.v1.GreeterService": { address: "127.0.0.1:50051" } });
    expect(config.generated).toBe(join(dir, "generated"));
    expect(config.docs.enabled).toBe(true);
    expect(config.auth.mode).toBe("on");
    expect(config.auth.apiKeys?.keys).toEqual([{ sha256: hashApiKey(DEV_KEY), consumer: "dev", tier: "default", scopes: [] }]);
    expect(readFileSync(join(dir, "gateway.yaml"), "utf8")).not.toContain(DEV_KEY);
    expect(out).toContain(`  curl -H 'x-api-key: ${DEV_KEY}' http://127.0.0.1:8080/v1/greetings/world`);
  });

  it.each([
    ["buf.yaml", ["buf.yaml"]],
    ["gateway.yaml", ["gateway.yaml"]],
    ["the example proto", ["proto/greeter/v1/greeter.proto"]],
    ["two of them", ["buf.yaml", "gateway.yaml"]],
  ])("refuses to overwrite %s: one line naming the files, exit 1, nothing written", async (_name, present) => {
    const dir = freshFolder();
    for (const file of present) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), "mine\n");
    }
    const { code, out, err } = await init({ dir });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([`protogate: init would overwrite ${present.join(", ")} in ${dir}; move ${present.length === 1 ? "it" : "them"} away, or run \`protogate init NEW_FOLDER\``]);
    for (const file of STARTER_FILES) expect(existsSync(join(dir, file)), file).toBe(present.includes(file));
    for (const file of present) expect(readFileSync(join(dir, file), "utf8")).toBe("mine\n");
  });

  it.each([
    [true, true],
    [false, false],
  ])("prints the install line of the codegen packages only when they are missing (missing: %s)", async (codegenMissing, printed) => {
    const { out } = await init({ dir: freshFolder(), codegenMissing });
    expect(out.some((line) => line.includes("npm install --save-dev @bufbuild/buf google-proto-files"))).toBe(printed);
  });

  it("prints cd into the folder, then generate, serve and the curl, in that order", async () => {
    const dir = freshFolder();
    const { out } = await init({ dir });
    const order = [`  cd ${dir}`, "  npx protogate generate", "  npx protogate serve --config gateway.yaml", "  curl -H"].map((start) => out.findIndex((line) => line.startsWith(start)));
    expect(order.every((index) => index > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("generates a new random dev key each time", async () => {
    const keys = await Promise.all(
      [freshFolder(), freshFolder()].map(async (dir) => {
        const { out } = await init({ dir, devKey: undefined });
        return /x-api-key: (pg_dev_[A-Za-z0-9_-]{32})'/.exec(out.join("\n"))?.[1];
      }),
    );
    expect(keys[0]).toBeDefined();
    expect(keys[1]).toBeDefined();
    expect(keys[0]).not.toBe(keys[1]);
  });

  it("the example proto generates both of its REST bindings", async () => {
    const dir = freshFolder();
    await init({ dir });
    await runGenerate({ protoDirs: [join(dir, "proto")], outDir: join(dir, "generated"), check: false });
    const paths = (JSON.parse(readFileSync(join(dir, "generated", "openapi.json"), "utf8")) as { paths: Record<string, Record<string, unknown>> }).paths;
    expect(Object.entries(paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))).toEqual(
      expect.arrayContaining(["get /v1/greetings/{name}", "post /v1/greetings"]),
    );
  }, 60_000);

  it("the command: `protogate init DIR` writes the files and exits 0; a second run exits 1 with one line on stderr", async () => {
    const dir = freshFolder();
    const first = runProtogate(["init", dir]);
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain("npx protogate generate");
    const second = runProtogate(["init", dir]);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toBe(`protogate: init would overwrite ${STARTER_FILES.join(", ")} in ${dir}; move them away, or run \`protogate init NEW_FOLDER\`\n`);
  });
});

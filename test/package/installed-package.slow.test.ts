import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEGEN_PACKAGES, missingCodegenPackagesMessage } from "../../codegen/codegen-dependencies.js";
import { runProtogate, waitForListening, type ProtogateProcess } from "../e2e/support/processes.js";
import { startGreeterBackend, type GreeterBackend } from "./support/greeter-backend.js";
import { folderBytes, INSTALL_FLAGS, megabytes, npm, type CommandOutput } from "./support/npm.js";

/**
 * SLOW (a minute or more: `npm pack` builds dist/ with tsc, then two `npm install`s from the local
 * cache). Part of `npm test`, with generous timeouts.
 *
 * A team's first hour, on the real tarball: pack protogate, install it into an empty folder with
 * nothing else (a serve-only install), `protogate init`, `protogate generate` (first without the
 * codegen packages, then with them), `protogate serve` in front of a real gRPC server of the example
 * service, and tsc over the generated code. One pack and one install serve every case: beforeAll
 * walks the steps in order and keeps what each printed; the cases check what was kept.
 */
const REPO = join(import.meta.dirname, "../..");
const SLOW_STEPS_MS = 600_000;

interface Ran {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

describe("the packed tarball, installed into an empty folder (slow: npm pack + npm install)", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-package-"));
  const app = join(work, "app");
  const installed = join(app, "node_modules", "protogate");
  const bin = join(app, "node_modules", ".bin", "protogate");
  let packedFiles: string[];
  let serveOnlyInstall: CommandOutput;
  let serveOnlyBytes: number;
  let serveOnlyHas: Record<string, boolean>;
  let generateWithoutCodegen: Ran;
  let init: Ran;
  let fullInstall: CommandOutput;
  let fullBytes: number;
  let generate: Ran;
  let backend: GreeterBackend;
  let gateway: ProtogateProcess;
  let base: string;

  const protogate = async (args: readonly string[]): Promise<Ran> => {
    const proc = runProtogate(args, app, bin);
    const code = await proc.exited;
    return { code, stdout: proc.stdout(), stderr: proc.stderr() };
  };

  beforeAll(async () => {
    mkdirSync(join(work, "pack"));
    // prepack runs `npm run build`: the tarball carries a fresh dist/.
    const pack = await npm(["pack", "--json", "--pack-destination", join(work, "pack")], REPO);
    const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packedFiles = packed.files.map((file) => file.path);

    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "team-api", version: "1.0.0", private: true, type: "module" }, null, 2));
    serveOnlyInstall = await npm(["install", join(work, "pack", packed.filename), ...INSTALL_FLAGS], app);
    serveOnlyBytes = folderBytes(join(app, "node_modules"));
    serveOnlyHas = Object.fromEntries(CODEGEN_PACKAGES.map((name) => [name, existsSync(join(app, "node_modules", name))]));

    init = await protogate(["init", "."]);
    generateWithoutCodegen = await protogate(["generate"]);

    fullInstall = await npm(["install", "--save-dev", ...CODEGEN_PACKAGES, ...INSTALL_FLAGS], app);
    fullBytes = folderBytes(join(app, "node_modules"));
    generate = await protogate(["generate"]);
    if (generate.code !== 0) return;

    backend = await startGreeterBackend(join(app, "proto"), join(app, "node_modules", "google-proto-files"));
    gateway = runProtogate(["serve", "--config", "gateway.yaml", "--port", "0", "--admin-port", "0", "--upstream", `greeter.v1.GreeterService=${backend.address}`], app, bin);
    base = await waitForListening(gateway, 60_000);
  }, SLOW_STEPS_MS);

  afterAll(async () => {
    gateway?.child.kill("SIGTERM");
    await gateway?.exited;
    await backend?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("the tarball holds the compiled package, its bin and protos, and nothing of the checkout's sources, tests, benchmarks or CI", () => {
    expect(packedFiles).toEqual(expect.arrayContaining(["bin/protogate.js", "bin/protoc-gen-protogate.js", "dist/src/cli/main.js", "dist/src/runtime.d.ts", "dist/codegen/plugin.js", "proto/protogate/v1/auth.proto", "package.json"]));
    const outsideAllowlist = packedFiles.filter((path) => !/^(bin\/protogate\.js|bin\/protoc-gen-protogate\.js|dist\/.+|proto\/protogate\/.+|package\.json|README\.md|LICENSE)$/.test(path));
    expect(outsideAllowlist).toEqual([]);
    const sourcesOrTests = packedFiles.filter((path) => /(^|\/)(test|bench|\.ci|fixtures|golden)\//.test(path) || /\.test\./.test(path) || (path.endsWith(".ts") && !path.endsWith(".d.ts")));
    expect(sourcesOrTests).toEqual([]);
  });

  it("installs on Node 20 without engine warnings (the override of light-my-request does not reach consumers; the pinned dependency does)", () => {
    expect(serveOnlyInstall.stderr).not.toContain("EBADENGINE");
    expect(fullInstall.stderr).not.toContain("EBADENGINE");
  });

  it("a serve-only install leaves out the codegen packages, and generate there fails in one line naming them and the install command", () => {
    console.log(`installed sizes (node_modules, apparent bytes): serve-only ${megabytes(serveOnlyBytes)}; with the codegen packages ${megabytes(fullBytes)}`);
    expect(serveOnlyHas).toEqual(Object.fromEntries(CODEGEN_PACKAGES.map((name) => [name, false])));
    expect(generateWithoutCodegen.code).toBe(1);
    expect(generateWithoutCodegen.stderr).toBe(`protogate: ${missingCodegenPackagesMessage(CODEGEN_PACKAGES)}\n`);
    expect(fullBytes).toBeGreaterThan(serveOnlyBytes);
  });

  it("init writes the starter files and prints the next commands, with the install line while the codegen packages are missing", () => {
    expect(init.code).toBe(0);
    for (const file of ["buf.yaml", "gateway.yaml", "proto/greeter/v1/greeter.proto"]) expect(existsSync(join(app, file)), file).toBe(true);
    expect(init.stdout).toContain(`npm install --save-dev ${CODEGEN_PACKAGES.join(" ")}`);
    expect(init.stdout).toContain("npx protogate generate");
    expect(init.stdout).toContain("npx protogate serve --config gateway.yaml");
  });

  it("generate succeeds once the codegen packages are installed, writing route tables and openapi.json", () => {
    expect(generate.stderr).toBe("");
    expect(generate.code).toBe(0);
    expect(existsSync(join(app, "generated", "greeter", "v1", "greeter.routes.js"))).toBe(true);
    expect(JSON.parse(readFileSync(join(app, "generated", "openapi.json"), "utf8"))).toHaveProperty(["paths", "/v1/greetings/{name}", "get"]);
  });

  it("serve, with the starter gateway.yaml, answers the curl that init printed with 200 (and 401 without its key), with no auth warning", async () => {
    const curl = /curl -H 'x-api-key: (\S+)' http:\/\/[^/\s]+(\/\S+)/.exec(init.stdout);
    expect(curl, init.stdout).not.toBeNull();
    const [, key, path] = curl!;
    const ok = await fetch(`${base}${path}`, { headers: { "x-api-key": key } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ message: "Hello, world!" });
    expect(backend.requests.at(-1)).toMatchObject({ name: "world" });

    const posted = await fetch(`${base}/v1/greetings`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: JSON.stringify({ name: "team", greeting: "Hi" }) });
    expect(await posted.json()).toEqual({ message: "Hi, team!" });

    expect((await fetch(`${base}${path}`)).status).toBe(401);
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
    expect(gateway.stderr()).not.toContain("no JWT issuer and no API key");
  });

  it("runs from the compiled dist/ (the package ships no TypeScript sources of its own)", () => {
    expect(existsSync(join(installed, "dist", "src", "cli", "main.js"))).toBe(true);
    expect(existsSync(join(installed, "src", "cli", "main.ts"))).toBe(false);
  });

  it(
    "the generated code type-checks in the team's folder with tsc: protogate/runtime resolves through the package's exports",
    async () => {
      writeFileSync(
        join(app, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: false, types: [] }, include: ["generated/**/*.ts", "check-runtime.ts"] }),
      );
      // Uses the runtime types by name, so a module that resolved to `any` would fail the assignment.
      writeFileSync(
        join(app, "check-runtime.ts"),
        'import type { GeneratedRoute } from "protogate/runtime";\nimport { bindings } from "./generated/index.js";\nconst routes: readonly GeneratedRoute[] = bindings;\nexport const methods: string[] = routes.map((route) => route.httpMethod);\n// @ts-expect-error a number is no route (an unused expect-error fails if the types were any)\nexport const notARoute: GeneratedRoute = 42;\n',
      );
      const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
      const result = await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: app }).then(
        () => ({ code: 0, output: "" }),
        (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? "" }),
      );
      expect(result.output).toBe("");
      expect(result.code).toBe(0);
    },
    180_000,
  );

  it("protogate demo runs from the package (the demo's generated code compiled into dist/)", async () => {
    const demo = runProtogate(["demo", "--port", "0"], app, bin);
    try {
      const demoBase = await waitForListening(demo, 60_000);
      expect((await fetch(`${demoBase}/openapi.json`)).status).toBe(200);
    } finally {
      demo.child.kill("SIGTERM");
      await demo.exited;
    }
  }, 90_000);
});

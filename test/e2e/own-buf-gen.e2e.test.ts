import { createFileRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { loadPackageDefinition, Server, ServerCredentials, status, type GrpcObject, type sendUnaryData, type ServerUnaryCall, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { runGenerate } from "../../codegen/run-generate.js";
import { startGateway, type RunningGateway } from "../../src/app.js";
import { loadConfig } from "../../src/config/load-config.js";
import { invalidArgument } from "../../src/demo/rpc-error.js";
import { loadGenerated, type GeneratedFolder } from "../../src/load-generated.js";
import { send } from "./support/gateway-harness.js";

const ROOT = join(import.meta.dirname, "../..");
const FIXTURE = join(ROOT, "test/fixtures/own-buf-gen");
const BUF = join(ROOT, "node_modules/@bufbuild/buf/bin/buf");
const GOOGLE_PROTOS = join(ROOT, "node_modules/google-proto-files");
const BAD_REQUEST = "google.rpc.BadRequest";

/** Runs the real buf in `cwd`; resolves with its exit code and stderr. */
function runBuf(cwd: string, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // The template runs the plugin as `node ...`: the node running the tests.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };
    const child = spawn(process.execPath, [BUF, ...args], { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** The fixture's buf.gen.yaml without the error-detail paths, writing to `out`. */
function withoutErrorDetails(template: string, out: string): string {
  const config = parse(template) as { plugins: Array<{ out: string }>; inputs: Array<{ paths: string[] }> };
  config.plugins[0].out = out;
  config.inputs[0].paths = config.inputs[0].paths.filter((path) => !path.includes("google-proto-files"));
  return stringify(config);
}

/** The same, with the error details as a second input: buf runs a `strategy: all` plugin once per input. */
function asTwoInputs(template: string, out: string): string {
  const config = parse(template) as { plugins: Array<{ out: string }>; inputs: Array<{ directory: string; paths: string[] }> };
  config.plugins[0].out = out;
  const google = "node_modules/google-proto-files";
  config.inputs = [{ directory: "proto", paths: [] }, { directory: google, paths: config.inputs[0].paths.filter((path) => path.startsWith(google)) }];
  return stringify(config).replace(/\n\s*paths: \[\]/, "");
}

/**
 * The own-buf.gen.yaml route of the README: the fixture's buf.yaml + buf.gen.yaml (used as
 * written, with node_modules/protogate pointing at this checkout) run by the real buf, offline,
 * and the output served in front of a grpc-js backend that fails with a google.rpc.BadRequest.
 */
describe("a team's own buf.gen.yaml with Protogate's plugin", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-own-buf-gen-"));
  const backendCalls: string[] = [];
  let bufStderr = "";
  let full: GeneratedFolder;
  let plain: GeneratedFolder;
  let twoInputs: GeneratedFolder;
  let server: Server;
  const gateways: RunningGateway[] = [];
  let withDetails: string;
  let withoutDetails: string;

  beforeAll(async () => {
    cpSync(FIXTURE, work, { recursive: true });
    // A rule OpenAPI cannot show beside its twin: the plugin warns about it (on stderr, no report file).
    writeFileSync(
      join(work, "proto/shop/v1/files.proto"),
      [
        'syntax = "proto3";',
        "package shop.v1;",
        'import "google/api/annotations.proto";',
        "service FileService {",
        "  rpc GetFile(GetFileRequest) returns (GetFileRequest) {",
        '    option (google.api.http) = { get: "/v1/files/{name=*}" additional_bindings { get: "/v1/files/{name=**}" } };',
        "  }",
        "}",
        "message GetFileRequest { string name = 1; }",
        "",
      ].join("\n"),
    );
    mkdirSync(join(work, "node_modules"));
    symlinkSync(GOOGLE_PROTOS, join(work, "node_modules/google-proto-files"));
    symlinkSync(ROOT, join(work, "node_modules/protogate"));
    const template = readFileSync(join(FIXTURE, "buf.gen.yaml"), "utf8");
    writeFileSync(join(work, "plain.gen.yaml"), withoutErrorDetails(template, "generated-plain"));
    writeFileSync(join(work, "two-inputs.gen.yaml"), asTwoInputs(template, "generated-two-inputs"));

    const runs = await Promise.all([
      runBuf(work, ["generate"]),
      runBuf(work, ["generate", "--template", "plain.gen.yaml"]),
      runBuf(work, ["generate", "--template", "two-inputs.gen.yaml"]),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const [documented] = runs;
    bufStderr = documented.stderr;
    full = await loadGenerated(join(work, "generated"));
    plain = await loadGenerated(join(work, "generated-plain"));
    twoInputs = await loadGenerated(join(work, "generated-two-inputs"));

    const definition = loadSync("shop/v1/shop.proto", { includeDirs: [join(work, "proto"), GOOGLE_PROTOS] });
    const shop = (loadPackageDefinition(definition).shop as GrpcObject).v1 as GrpcObject;
    server = new Server();
    server.addService((shop.ShopService as ServiceClientConstructor).service, {
      GetItem: (call: ServerUnaryCall<{ id: string }, unknown>, callback: sendUnaryData<unknown>) => {
        backendCalls.push(call.request.id);
        if (call.request.id !== "bad") return callback(null, { id: call.request.id, displayName: "Lamp" });
        const error = invalidArgument([{ field: "id", description: "must not be bad" }]);
        callback({ code: error.code, details: error.message, metadata: error.toMetadata() }, null);
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const serve = async (folder: GeneratedFolder, dir: string): Promise<string> => {
      const file = join(work, `${dir}.gateway.yaml`);
      writeFileSync(file, stringify({ logging: { level: "silent" }, auth: { mode: "off" } }));
      const config = loadConfig(file, { host: "127.0.0.1", port: 0, adminPort: 0, generated: join(work, dir), upstreams: { "shop.v1.ShopService": `127.0.0.1:${port}` } });
      const gateway = await startGateway(config, folder);
      gateways.push(gateway);
      return gateway.url;
    };
    withDetails = await serve(full, "generated");
    withoutDetails = await serve(plain, "generated-plain");
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
    rmSync(work, { recursive: true, force: true });
  });

  it("gives the route table of the team's rules, and only theirs", () => {
    const routes = full.bindings.map((b) => `${b.httpMethod} ${b.pattern} ${b.rpcPath}`).sort();
    expect(routes).toEqual([
      "GET /v1/files/{name=**} /shop.v1.FileService/GetFile",
      "GET /v1/files/{name=*} /shop.v1.FileService/GetFile",
      "GET /v1/items/{id} /shop.v1.ShopService/GetItem",
      "POST /v1/items /shop.v1.ShopService/CreateItem",
    ]);
    expect(plain.bindings.map((b) => b.rpcPath).sort()).toEqual(full.bindings.map((b) => b.rpcPath).sort());
  });

  it("puts the error-detail messages into the descriptor set only when their paths are listed", () => {
    expect(full.files?.getMessage(BAD_REQUEST)?.typeName).toBe(BAD_REQUEST);
    expect(full.files?.getMessage("google.rpc.Status")?.typeName).toBe("google.rpc.Status");
    expect(plain.files?.getMessage(BAD_REQUEST)).toBeUndefined();
  });

  it("needs one input: with two, each plugin run rewrites index.js and the last one's table wins", () => {
    const complete = twoInputs.bindings.length === full.bindings.length && twoInputs.files?.getMessage(BAD_REQUEST) !== undefined;
    expect(complete).toBe(false);
  });

  it("applies the template's openapi_* options", () => {
    const openApi = JSON.parse(full.openApi ?? "{}") as { info?: { title?: string } };
    expect(openApi.info?.title).toBe("Shop API");
  });

  it("without generate's report option, writes warnings to stderr (buf passes them on) and no report file", () => {
    expect(bufStderr).toMatch(/^warning: shop\/v1\/files\.proto:6: GET \/v1\/files\/\{name=\*\*\} is left out of openapi\.json/m);
    expect(existsSync(join(work, "generated/protogate-plugin-report.json"))).toBe(false);
  });

  it("writes what `protogate generate` writes for the same protos, but its manifest", async () => {
    const check = await runGenerate({ protoDirs: [join(work, "proto")], outDir: join(work, "generated"), check: true, openapi: { title: "Shop API" } });
    expect(check.differences).toEqual([{ file: ".protogate-manifest.json", kind: "added" }]);
  });

  it("serves the generated folder: a reply is transcoded", async () => {
    const response = await send(withDetails, "GET", "/v1/items/i1");
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ id: "i1", displayName: "Lamp" });
    expect(backendCalls.at(-1)).toBe("i1");
  });

  it("renders an upstream's google.rpc.BadRequest detail as JSON", async () => {
    const response = await send(withDetails, "GET", "/v1/items/bad");
    expect(response.status).toBe(400);
    expect(response.json).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "invalid request: id: must not be bad",
      details: [{ "@type": `type.googleapis.com/${BAD_REQUEST}`, fieldViolations: [{ field: "id", description: "must not be bad" }] }],
    });
  });

  it("without error_details.proto, keeps the status and passes the detail on as @type and base64 bytes", async () => {
    const response = await send(withoutDetails, "GET", "/v1/items/bad");
    expect(response.status).toBe(400);
    const body = response.json as { code: number; message: string; details: Array<{ "@type": string; value: string }> };
    expect(body.code).toBe(status.INVALID_ARGUMENT);
    expect(body.message).toBe("invalid request: id: must not be bad");
    expect(body.details).toHaveLength(1);
    expect(Object.keys(body.details[0]).sort()).toEqual(["@type", "value"]);
    expect(body.details[0]["@type"]).toBe(`type.googleapis.com/${BAD_REQUEST}`);
    // The bytes are the BadRequest itself: decoded with the full folder's descriptors, they read back.
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, full.descriptorSet));
    const badRequest = registry.getMessage(BAD_REQUEST);
    if (!badRequest) throw new Error(`${BAD_REQUEST} missing from the full descriptor set`);
    expect(toJson(badRequest, fromBinary(badRequest, Buffer.from(body.details[0].value, "base64")))).toEqual({ fieldViolations: [{ field: "id", description: "must not be bad" }] });
  });
});

import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { PACKAGE_ROOT } from "../src/package-root.js";
import { missingCodegenPackages, missingCodegenPackagesMessage } from "./codegen-dependencies.js";
import { GenerateError } from "./generate-error.js";
import { generateWarnings } from "./generate-summary.js";
import { pluginOptions as openApiOptions, type OpenApiSettings } from "./openapi/settings.js";
import { planOperations, type OperationsMode, type OperationsPlan } from "./operations/operations-generate.js";
import { applyOutput, planOutput, withManifest, type Difference } from "./output-manifest.js";
import { takePluginReport, type PluginReport } from "./plugin-report.js";
import { encodePatterns, type SelectionPatterns } from "./selection.js";
import { FIXED_FILES, fixTsProtoFile } from "./ts-proto-fixes.js";
import { TS_PROTO_OPTIONS } from "./ts-proto-options.js";
import { assembleWorkspace, findTeamProtos, type TeamProto } from "./workspace.js";

export interface GenerateOptions {
  readonly protoDirs: readonly string[];
  readonly outDir: string;
  /** Generate into a temporary folder and only report what differs from `outDir`. */
  readonly check: boolean;
  /**
   * Also write ts-proto's TypeScript message code, for a team's own TypeScript services. The
   * gateway never needs it (its codecs come from the descriptor set), and on the largest APIs it
   * is most of the time and memory of generate.
   */
  readonly tsProto?: boolean;
  /** google.longrunning.Operations routes for APIs that return operations (codegen/operations); default `auto`. */
  readonly operations?: OperationsMode;
  /** openapi.json's title, version, description, servers, API-key header (`--openapi-*` flags). */
  readonly openapi?: OpenApiSettings;
  /** `--include` / `--exclude` (and protogate.yaml's); none: every method. */
  readonly selection?: SelectionPatterns;
}

export interface GenerateResult {
  /** Files generate owns in `outDir` that differ from a fresh generation: `changed`, `added` or `removed`. */
  readonly differences: readonly Difference[];
  readonly fileCount: number;
  /** Counts and findings of the plugin, for the summary. */
  readonly report: PluginReport;
  /** Short lines for stderr (without a `warning: ` prefix). */
  readonly warnings: readonly string[];
}

export { GenerateError };

/**
 * Always compiled alongside the team's files, so the generated descriptor set lets the gateway
 * render the standard error details (google.rpc.BadRequest, ...) an upstream sends as JSON.
 */
const ALWAYS_GENERATED = ["google/rpc/error_details.proto", "google/rpc/status.proto"];

/** The plugin's report (plugin-report.ts) travels as this output file; it is never written to --out. */
const REPORT_FILE = "protogate-plugin-report.json";

/**
 * `protogate generate`: compiles the team's protos with buf (imports they lack come from
 * google-proto-files, never the network), runs Protogate's plugin (and ts-proto with `tsProto`),
 * and writes (or, with `check`, compares) the output folder.
 */
export async function runGenerate(options: GenerateOptions): Promise<GenerateResult> {
  const missing = missingCodegenPackages({ tsProto: options.tsProto ?? false });
  if (missing.length > 0) throw new GenerateError(missingCodegenPackagesMessage(missing));
  const team = findTeamProtos(options.protoDirs.map((d) => resolve(d)));
  if (team.length === 0) throw new GenerateError(`no .proto files under ${options.protoDirs.join(", ")}; pass the folder that holds your .proto files with --proto`);
  const targets = [...team.map((t) => t.importPath), ...ALWAYS_GENERATED.filter((p) => !team.some((t) => t.importPath === p))];
  const work = await mkdtemp(join(tmpdir(), "protogate-gen-"));
  try {
    const workspace = join(work, "ws");
    const output = join(work, "out");
    let operations: OperationsPlan;
    try {
      operations = planOperations(options.protoDirs, options.operations);
      await assembleWorkspace(team, workspace, [...ALWAYS_GENERATED, ...operations.extraImports]);
    } catch (error) {
      if (error instanceof GenerateError) throw error;
      throw new GenerateError(error instanceof Error ? error.message : String(error));
    }
    targets.push(...operations.targets(workspace, new Set(targets)));
    await writeFile(join(workspace, "buf.yaml"), "version: v2\n");
    await writeFile(join(work, "buf.gen.yaml"), bufTemplate(pluginOptions(options, operations), options.tsProto ?? false));
    await runBuf(work, ["generate", "ws", "--template", "buf.gen.yaml", "--output", "out", ...targets.flatMap((path) => ["--path", `ws/${path}`])], team);
    const generated = await readTree(output);
    const report = takePluginReport(generated, REPORT_FILE);
    if (report === undefined) throw new Error(`the plugin wrote no ${REPORT_FILE}`);
    applyTsProtoFixes(generated);
    const fresh = withManifest(generated);
    const current = await readOutDir(options.outDir);
    const plan = planOutput(current, fresh, options.outDir);
    if (!options.check) await applyOutput(options.outDir, plan, current);
    return { differences: plan.differences, fileCount: fresh.size, report, warnings: generateWarnings(report, team) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** buf runs the plugins of a template side by side. */
function bufTemplate(protogateOptions: readonly string[], withTsProto: boolean): string {
  const require = createRequire(import.meta.url);
  const protogate = join(PACKAGE_ROOT, "bin", "protoc-gen-protogate.js");
  const plugins: object[] = [{ local: [process.execPath, protogate], out: ".", strategy: "all", opt: [...protogateOptions] }];
  if (withTsProto) {
    const tsProto = join(dirname(require.resolve("ts-proto/package.json")), "protoc-gen-ts_proto");
    plugins.unshift({ local: [process.execPath, tsProto], out: ".", include_imports: true, include_wkt: true, opt: [...TS_PROTO_OPTIONS] });
  }
  return stringify({ version: "v2", plugins });
}

/** Parameters of protoc-gen-protogate (codegen/plugin-parameters.ts). */
function pluginOptions(options: GenerateOptions, operations: OperationsPlan): string[] {
  const selection = options.selection;
  const selecting = selection !== undefined && (selection.include.length > 0 || selection.exclude.length > 0);
  return [
    `report=${REPORT_FILE}`,
    ...(selecting ? [`selection=${encodePatterns(selection)}`] : []),
    ...operations.pluginOptions,
    ...openApiOptions(options.openapi ?? {}),
  ];
}

async function runBuf(cwd: string, args: string[], team: readonly TeamProto[]): Promise<void> {
  const require = createRequire(import.meta.url);
  const buf = join(dirname(require.resolve("@bufbuild/buf/package.json")), "bin", "buf");
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done, fail) => {
    const child = spawn(process.execPath, [buf, ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    child.on("error", fail);
    child.on("close", (exit) => done({ code: exit, stderr: err }));
  });
  if (code !== 0) throw new GenerateError(pointAtTeamFiles(stderr.trim(), team));
}

/** buf names files by workspace path (`ws/demo/v1/user.proto`); point at the user's own files instead. */
function pointAtTeamFiles(message: string, team: readonly TeamProto[]): string {
  let result = message
    .replace(/^Failure: plugin [^\n]*?protoc-gen-protogate\.js: /m, "")
    .split("\n")
    .filter((line) => !/(^\s*|: )(signal: killed|context canceled)$/.test(line))
    .join("\n")
    .replace(/\bws\//g, "")
    // buf's `file:line:col:message`, spaced like our own `file:line: message`.
    .replace(/^(\S+\.proto:\d+:\d+):(?=\S)/gm, "$1: ");
  for (const t of team) {
    const shown = relative(process.cwd(), t.absolutePath);
    result = result.split(`${t.importPath}:`).join(`${shown}:`);
  }
  return result;
}

/** ts-proto's output with Protogate's corrections (codegen/ts-proto-fixes.ts). */
function applyTsProtoFixes(files: Map<string, Buffer>): void {
  for (const file of FIXED_FILES) {
    const content = files.get(file);
    if (content === undefined) continue;
    try {
      files.set(file, Buffer.from(fixTsProtoFile(file, content.toString("utf8")), "utf8"));
    } catch (error) {
      throw new GenerateError(error instanceof Error ? error.message : String(error));
    }
  }
}

async function readTree(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) files.set(relative(root, full).split("\\").join("/"), await readFile(full));
    }
  };
  await visit(root);
  return files;
}

/** --out as it is: empty when it does not exist yet. */
async function readOutDir(outDir: string): Promise<Map<string, Buffer>> {
  if (!existsSync(outDir)) return new Map();
  if (!statSync(outDir).isDirectory()) throw new GenerateError(`--out ${outDir} is a file, not a folder; pick a folder for the generated code`);
  return readTree(outDir);
}

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { CODEGEN_PACKAGES, missingCodegenPackages } from "../../codegen/codegen-dependencies.js";
import { hashApiKey } from "../auth/api-keys.js";
import { BUF_YAML, EXAMPLE_LISTEN, EXAMPLE_PROTO, EXAMPLE_PROTO_PATH, EXAMPLE_ROUTE, EXAMPLE_SERVICE, EXAMPLE_UPSTREAM, gatewayYaml } from "./init-templates.js";

export interface InitOptions {
  /** The folder to write into (created when missing). */
  readonly dir: string;
  /** The development API key (tests pass a fixed one); a random one by default. */
  readonly devKey?: string;
  /** Whether the codegen packages are missing (tests); asked of Node by default. */
  readonly codegenMissing?: boolean;
  readonly print?: (line: string) => void;
  readonly printError?: (line: string) => void;
}

/**
 * `protogate init [DIR]`: writes a starter buf.yaml, gateway.yaml and an example annotated proto,
 * then prints the next commands. Overwrites nothing: when any of the files exists, it writes none
 * and names them. Resolves to the exit code.
 */
export async function runInit(options: InitOptions): Promise<number> {
  const print = options.print ?? console.log;
  const printError = options.printError ?? console.error;
  const devKey = options.devKey ?? `pg_dev_${randomBytes(24).toString("base64url")}`;
  const files: ReadonlyArray<readonly [path: string, content: string]> = [
    ["buf.yaml", BUF_YAML],
    ["gateway.yaml", gatewayYaml(hashApiKey(devKey))],
    [EXAMPLE_PROTO_PATH, EXAMPLE_PROTO],
  ];
  const existing = files.map(([path]) => path).filter((path) => existsSync(join(options.dir, path)));
  if (existing.length > 0) {
    printError(`protogate: init would overwrite ${existing.join(", ")} in ${options.dir}; move ${existing.length === 1 ? "it" : "them"} away, or run \`protogate init NEW_FOLDER\``);
    return 1;
  }
  for (const [path, content] of files) {
    const target = join(options.dir, path);
    await mkdir(dirname(target), { recursive: true });
    // "wx": never replace a file that appeared since the check above.
    await writeFile(target, content, { flag: "wx" });
  }
  print(`protogate: wrote ${files.map(([path]) => path).join(", ")} in ${options.dir}`);
  print("");
  for (const line of nextSteps(options, devKey)) print(line);
  return 0;
}

function nextSteps(options: InitOptions, devKey: string): string[] {
  const relativeDir = relative(process.cwd(), resolve(options.dir));
  const into = relativeDir.startsWith("..") ? resolve(options.dir) : relativeDir;
  const codegenMissing = options.codegenMissing ?? missingCodegenPackages().length > 0;
  const base = `http://${EXAMPLE_LISTEN.host}:${EXAMPLE_LISTEN.port}`;
  return [
    "Next:",
    ...(into === "" ? [] : [`  cd ${into}`]),
    ...(codegenMissing ? [`  npm install --save-dev ${CODEGEN_PACKAGES.join(" ")}   # what generate needs`] : []),
    "  npx protogate generate                      # proto/ -> generated/ (route tables, openapi.json)",
    `  # start your gRPC server of ${EXAMPLE_SERVICE} on ${EXAMPLE_UPSTREAM}, then:`,
    "  npx protogate serve --config gateway.yaml",
    `  curl -H 'x-api-key: ${devKey}' ${base}${EXAMPLE_ROUTE}`,
    `  # API docs: ${base}/docs`,
    "",
    "The development API key in the curl above is shown only this once; gateway.yaml holds its SHA-256.",
  ];
}

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { resolveGenerateSettings, type GenerateFlags } from "../../codegen/generate-config.js";
import { generateSummary } from "../../codegen/generate-summary.js";
import type { OpenApiSettings } from "../../codegen/openapi/settings.js";
import { runGenerate } from "../../codegen/run-generate.js";
import { packageVersion } from "../package-root.js";
import { userErrorMessage } from "./user-errors.js";
import { parseWorkers } from "../cluster/workers-option.js";

/** Runs the `protogate` command line; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("protogate")
    .description("gRPC-transcoding API gateway: a REST/JSON facade from google.api.http annotations")
    .version(packageVersion(), "-v, --version", "print the version")
    .option("--debug", "print the stack trace of an internal error")
    .exitOverride()
    .showHelpAfterError();
  let exitCode = 0;

  program
    .command("generate")
    .description("compile protos with buf and write route tables (JavaScript + .d.ts), the descriptor set and openapi.json")
    // Defaults are applied after protogate.yaml is read (flags win over it), so commander keeps none.
    .addOption(new Option("--proto <dir>", "a folder of .proto files (repeatable)").argParser(collect).default([], "proto"))
    .option("--out <dir>", "output folder (default: generated)")
    .addOption(new Option("--include <pattern>", "only these files, packages, services or methods (repeatable; globs * and **)").argParser(collect).default([], "all"))
    .addOption(new Option("--exclude <pattern>", "leave out these files, packages, services or methods (repeatable; globs * and **)").argParser(collect).default([], "none"))
    .option("--config <file>", "protogate.yaml (default: the one beside the first --proto folder, if any)")
    .option("--check", "generate into a temporary folder and exit 1 if --out differs", false)
    .option("--ts-proto", "also write ts-proto TypeScript message code, for your own TypeScript services (the gateway does not need it)", false)
    .option("--no-operations", "no google.longrunning.Operations routes for APIs that return operations")
    .option("--openapi-title <text>", "openapi.json's info.title (default: the protos' openapiv2_swagger option, else \"Protogate API\")")
    .option("--openapi-version <text>", "openapi.json's info.version (default: the option's, else 1.0.0)")
    .option("--openapi-description <text>", "openapi.json's info.description")
    .option("--openapi-server <url>", "a server URL for openapi.json (repeatable; replaces the option's)", collect, [])
    .option("--openapi-api-key-header <name>", "the API-key header openapi.json names (default x-api-key)")
    .action(async (opts: GenerateFlags & OpenApiFlags & { check: boolean; tsProto: boolean; operations: boolean }) => {
      const settings = resolveGenerateSettings(opts);
      const result = await runGenerate({
        protoDirs: settings.protoDirs,
        outDir: settings.outDir,
        check: opts.check,
        tsProto: opts.tsProto,
        selection: settings.selection,
        operations: opts.operations ? "auto" : "off",
        openapi: openApiSettings(opts),
      });
      for (const warning of result.warnings) console.error(`warning: ${warning}`);
      if (opts.check) {
        if (result.differences.length > 0) {
          console.error(`${settings.outDir} is out of date; run \`protogate generate\`. Differences:`);
          for (const d of result.differences) console.error(`  ${d.kind}: ${d.file}`);
          exitCode = 1;
        } else console.log(`${settings.outDir} is up to date (${result.fileCount} files)`);
      } else {
        console.log(generateSummary(result.report, result.differences, result.fileCount, settings.outDir));
      }
    });

  program
    .command("serve")
    .description("serve the REST/JSON facade of a generated folder")
    .option("--config <file>", "gateway.yaml")
    .option("--generated <dir>", "folder written by protogate generate")
    .option("--upstream <service=host:port>", "upstream of a fully qualified service (repeatable)", collectUpstream, {})
    .option("--host <host>", "listen address")
    .option("--port <n>", "listen port (0 takes a free one)", parsePort)
    .option("--auth <mode>", "on or off: off skips authentication (local work only)", parseAuthMode)
    .option("--admin-port <n>", "admin listener port: /healthz, /readyz, /metrics (0 takes a free one; default 9901)", parsePort)
    .option("--workers <n>", "worker processes sharing the port: a number, or auto (one per available CPU)", parseWorkersFlag, 1)
    .action(async (opts: { config?: string; generated?: string; upstream: Record<string, string>; host?: string; port?: number; auth?: "on" | "off"; adminPort?: number; workers: number }) => {
      const { runServe } = await import("./serve.js");
      exitCode = await runServe({
        configFile: opts.config,
        overrides: { generated: opts.generated, upstreams: opts.upstream, host: opts.host, port: opts.port, authMode: opts.auth, adminPort: opts.adminPort },
        workers: opts.workers,
      });
    });

  program
    .command("init")
    .description("write a starter buf.yaml, gateway.yaml and example proto into DIR (never overwrites)")
    .argument("[dir]", "folder to write into", ".")
    .action(async (dir: string) => {
      const { runInit } = await import("./init.js");
      exitCode = await runInit({ dir });
    });

  program
    .command("demo")
    .description("start the bundled demo gRPC services and the gateway in front of them (npm start)")
    .option("--host <host>", "listen address", "127.0.0.1")
    .option("--port <n>", "listen port", parsePort, 8080)
    .option("--admin-port <n>", "admin listener port (default 9901; with --port 0, a free one)", parsePort)
    .action(async (opts: { host: string; port: number; adminPort?: number }) => {
      const { runDemo } = await import("./demo.js");
      exitCode = await runDemo(opts);
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const message = userErrorMessage(error);
    if (message !== undefined) {
      console.error(`protogate: ${message}`);
      return 1;
    }
    if (program.opts<{ debug?: boolean }>().debug) console.error(error);
    else console.error(`protogate: internal error: ${error instanceof Error ? error.message : String(error)} (run with --debug for the stack trace)`);
    return 1;
  }
}

/** The `--openapi-*` flags of `generate`, as commander names them. */
interface OpenApiFlags {
  openapiTitle?: string;
  openapiVersion?: string;
  openapiDescription?: string;
  openapiServer: string[];
  openapiApiKeyHeader?: string;
}

/** The `--openapi-*` flags given, for the plugin (those not given fall back to the protos' option). */
function openApiSettings(opts: OpenApiFlags): OpenApiSettings {
  return {
    ...(opts.openapiTitle === undefined ? {} : { title: opts.openapiTitle }),
    ...(opts.openapiVersion === undefined ? {} : { version: opts.openapiVersion }),
    ...(opts.openapiDescription === undefined ? {} : { description: opts.openapiDescription }),
    ...(opts.openapiServer.length === 0 ? {} : { servers: opts.openapiServer }),
    ...(opts.openapiApiKeyHeader === undefined ? {} : { apiKeyHeader: opts.openapiApiKeyHeader }),
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function collectUpstream(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0 || eq === value.length - 1) throw new InvalidArgumentError(`expected SERVICE=HOST:PORT, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function parseAuthMode(value: string): "on" | "off" {
  if (value !== "on" && value !== "off") throw new InvalidArgumentError(`expected on or off, got "${value}"`);
  return value;
}

function parseWorkersFlag(value: string): number {
  try {
    return parseWorkers(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  return port;
}

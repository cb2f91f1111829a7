import { Command, CommanderError, InvalidArgumentError } from "commander";
import { readFileSync } from "node:fs";
import { runGenerate } from "../../codegen/run-generate.js";
import { userErrorMessage } from "./user-errors.js";

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
    .option("--proto <dir>", "a folder of .proto files (repeatable)", collect, [])
    .option("--out <dir>", "output folder", "generated")
    .option("--check", "generate into a temporary folder and exit 1 if --out differs", false)
    .option("--ts-proto", "also write ts-proto TypeScript message code, for your own TypeScript services (the gateway does not need it)", false)
    .action(async (opts: { proto: string[]; out: string; check: boolean; tsProto: boolean }) => {
      const protoDirs = opts.proto.length > 0 ? opts.proto : ["proto"];
      const result = await runGenerate({ protoDirs, outDir: opts.out, check: opts.check, tsProto: opts.tsProto });
      if (opts.check) {
        if (result.differences.length > 0) {
          console.error(`${opts.out} is out of date; run \`protogate generate\`. Differences:`);
          for (const d of result.differences) console.error(`  ${d.kind}: ${d.file}`);
          exitCode = 1;
        } else console.log(`${opts.out} is up to date (${result.fileCount} files)`);
      } else {
        console.log(`generated ${result.fileCount} files into ${opts.out} (${result.differences.length} changed)`);
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
    .action(async (opts: { config?: string; generated?: string; upstream: Record<string, string>; host?: string; port?: number; auth?: "on" | "off" }) => {
      const { runServe } = await import("./serve.js");
      exitCode = await runServe({ configFile: opts.config, overrides: { generated: opts.generated, upstreams: opts.upstream, host: opts.host, port: opts.port, authMode: opts.auth } });
    });

  program
    .command("demo")
    .description("start the bundled demo gRPC services and the gateway in front of them (npm start)")
    .option("--host <host>", "listen address", "127.0.0.1")
    .option("--port <n>", "listen port", parsePort, 8080)
    .action(async (opts: { host: string; port: number }) => {
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

/** The version in Protogate's own package.json. */
function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
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

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  return port;
}

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root (children run with it as their working directory). */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUN_TS = fileURLToPath(new URL("../bin/run-ts.js", import.meta.url));
const OUTPUT_LIMIT = 256 * 1024;

/** A child Node process whose output is always drained (a full pipe would stall it). */
export interface ChildHandle {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last 256 KB of stdout. */
  stdout(): string;
  /** The last 256 KB of stderr. */
  stderr(): string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  /** Resolves with the first match of `pattern` on stdout; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Restricts a child to some CPUs: `taskset -c cpus node ...` (taskset execs node, same pid). */
export interface CpuAffinity {
  readonly tasksetPath: string;
  /** A `taskset -c` list, e.g. "0" or "1-3". */
  readonly cpus: string;
}

/** Runs `node bin/run-ts.js FILE ...args` (a TypeScript entry of this repository). */
export function spawnTs(name: string, file: string, args: readonly string[], affinity?: CpuAffinity): ChildHandle {
  return spawnNode(name, [RUN_TS, fileURLToPath(new URL(file, new URL("../", import.meta.url))), ...args], affinity);
}

/** How a child is started, beyond its arguments. */
export interface SpawnOptions {
  /** Opens an IPC channel (`child.send` / `process.send`), e.g. for a probe preloaded into the child. */
  readonly ipc?: boolean;
  /** The child's environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs `node ...args` in the repository root, on the given CPUs if any. */
export function spawnNode(name: string, args: readonly string[], affinity?: CpuAffinity, options: SpawnOptions = {}): ChildHandle {
  const [command, argv] = affinity ? [affinity.tasksetPath, ["-c", affinity.cpus, process.execPath, ...args]] : [process.execPath, args];
  const stdio = options.ipc ? (["ignore", "pipe", "pipe", "ipc"] as const) : (["ignore", "pipe", "pipe"] as const);
  const child = spawn(command, argv, { cwd: REPO_ROOT, stdio: [...stdio], env: options.env ?? process.env });
  let out = "";
  let err = "";
  const keep = (buffer: string, chunk: string) => (buffer.length + chunk.length > OUTPUT_LIMIT ? (buffer + chunk).slice(-OUTPUT_LIMIT) : buffer + chunk);
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out = keep(out, chunk)));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (err = keep(err, chunk)));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  let exitCode: number | string | undefined;
  void exited.then((code) => (exitCode = code));

  return {
    name,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = pattern.exec(out);
        if (match) return match;
        if (exitCode !== undefined) throw new Error(`${name} exited (${exitCode}) before printing ${pattern}:\n${tail(err || out)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${tail(err || out)}`);
    },
    async stop(graceMs = 5_000) {
      if (exitCode !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last lines of some output, for error messages. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

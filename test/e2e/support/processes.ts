import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PROTOGATE_BIN = fileURLToPath(new URL("../../../bin/protogate.js", import.meta.url));

/** A `protogate` child process with its output collected. */
export interface ProtogateProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

/** Runs `node bin/protogate.js ...args` (or another copy of the command: `bin`, e.g. an installed package's). */
export function runProtogate(args: readonly string[], cwd?: string, bin = PROTOGATE_BIN): ProtogateProcess {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits for the `protogate listening on http://HOST:PORT` line; rejects if the process exits first. */
export async function waitForListening(proc: ProtogateProcess, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /protogate listening on (http:\/\/\S+)/.exec(proc.stdout());
    if (match) return match[1];
    if (proc.child.exitCode !== null) throw new Error(`protogate exited with ${proc.child.exitCode}: ${proc.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`protogate did not start within ${timeoutMs} ms: ${proc.stderr()}`);
}

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
  const match = await waitForOutput(proc, /protogate listening on (http:\/\/\S+)/, timeoutMs, "start");
  return match[1];
}

/**
 * Waits until the process's stdout matches `pattern` (checked on each chunk of output, no
 * polling); rejects if the process exits first, or after `timeoutMs` as a last resort.
 */
export function waitForOutput(proc: ProtogateProcess, pattern: RegExp, timeoutMs = 5_000, what = `print ${String(pattern)}`): Promise<RegExpExecArray> {
  return waitForText(proc, "stdout", pattern, 0, timeoutMs, what);
}

/** As `waitForOutput`, on stderr (the log) from its character `from` on (what was logged before is not looked at). */
export function waitForLog(proc: ProtogateProcess, pattern: RegExp, from: number, timeoutMs = 5_000, what = `log ${String(pattern)}`): Promise<RegExpExecArray> {
  return waitForText(proc, "stderr", pattern, from, timeoutMs, what);
}

function waitForText(proc: ProtogateProcess, source: "stdout" | "stderr", pattern: RegExp, from: number, timeoutMs: number, what: string): Promise<RegExpExecArray> {
  const text = source === "stdout" ? proc.stdout : proc.stderr;
  const stream = source === "stdout" ? proc.child.stdout : proc.child.stderr;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(text().slice(from));
      if (match) finish(() => resolve(match));
    };
    const exited = (code: number | null): void => finish(() => reject(new Error(`protogate exited with ${code}: ${proc.stderr()}`)));
    const timer = setTimeout(() => finish(() => reject(new Error(`protogate did not ${what} within ${timeoutMs} ms: ${proc.stderr()}`))), timeoutMs);
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      stream?.off("data", check);
      proc.child.off("exit", exited);
      settle();
    };
    stream?.on("data", check);
    proc.child.on("exit", exited);
    check();
    if (proc.child.exitCode !== null) exited(proc.child.exitCode);
  });
}

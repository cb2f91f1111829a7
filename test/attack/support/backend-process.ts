import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const RUN_TS = fileURLToPath(new URL("../../../bin/run-ts.js", import.meta.url));
const MAIN = fileURLToPath(new URL("./backend-process-main.ts", import.meta.url));

/** The demo backends in a process of their own, so a test can kill them as a crash would. */
export interface BackendProcess {
  readonly address: string;
  readonly port: number;
  /** SIGKILL: the process dies without closing anything; the kernel resets its connections. */
  kill(): Promise<void>;
}

/**
 * Starts the demo backends in a child process on `port` (0: a free one). Restarting on the port
 * a killed backend had can race another process for it; a bind failure is retried briefly.
 */
export async function startBackendProcess(port = 0, timeoutMs = 20_000): Promise<BackendProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await startOnce(port, deadline);
    } catch (error) {
      if (port === 0 || Date.now() >= deadline || !/EADDRINUSE|No address added/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50)); // the port is still held by the dying process's socket
    }
  }
}

function startOnce(port: number, deadline: number): Promise<BackendProcess> {
  const child: ChildProcess = spawn(process.execPath, [RUN_TS, MAIN, String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const match = /demo backends listening on (\S+)/.exec(out);
      if (match) {
        clearInterval(poll);
        const address = match[1];
        resolve({
          address,
          port: Number(address.slice(address.lastIndexOf(":") + 1)),
          kill: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
            await exited;
          },
        });
      } else if (child.exitCode !== null || Date.now() >= deadline) {
        clearInterval(poll);
        child.kill("SIGKILL");
        reject(new Error(`backend process did not start: ${err || out}`));
      }
    }, 10);
  });
}

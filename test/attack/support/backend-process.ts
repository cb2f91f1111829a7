import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const RUN_TS = fileURLToPath(new URL("../../../bin/run-ts.js", import.meta.url));
const MAIN = fileURLToPath(new URL("./backend-process-main.ts", import.meta.url));

/** The demo backends in a process of their own, so a test can kill them as a crash would. */
export interface BackendProcess {
  readonly address: string;
  /** SIGKILL: the process dies without closing anything; the kernel closes its connections. */
  kill(): Promise<void>;
}

/** Starts the demo backends in a child process on a free loopback port; resolves once they listen. */
export function startBackendProcess(timeoutMs = 20_000): Promise<BackendProcess> {
  const child: ChildProcess = spawn(process.execPath, [RUN_TS, MAIN], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      void kill();
      reject(new Error(`backend process ${why}: ${err || out}`));
    };
    const guard = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
    void exited.then(() => fail("exited before listening"));
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /demo backends listening on (\S+)/.exec(out);
      if (match === null || settled) return;
      settled = true;
      clearTimeout(guard);
      resolve({ address: match[1], kill });
    });
  });
}

import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { UserServiceService } from "../../generated/demo/v1/user.js";
import { roundTripsUntil } from "../support/at-rest.js";
import { steadyLoad } from "./support/load.js";
import { runProtogate, waitForListening, waitForLog, waitForOutput, type ProtogateProcess } from "./support/processes.js";

// Hot reload of a real `protogate serve`: SIGHUP to one process, POST /reload to a primary and
// its workers. Which backend answered shows in the reply (each backend answers with its name),
// and which gateway processes called a backend in the peers it saw.

async function namedBackend(name: string): Promise<{ address: string; peers: string[]; close(): Promise<void> }> {
  const peers: string[] = [];
  const server = new Server();
  server.addService(UserServiceService, {
    getUser: (call: ServerUnaryCall<{ userId: string }, unknown>, callback: sendUnaryData<unknown>) => {
      peers.push(call.getPeer());
      callback(null, { userId: call.request.userId, displayName: name, email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
    },
  } as never);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return { address: `127.0.0.1:${port}`, peers, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

/** The lines of the process's stderr whose JSON `msg` starts with `prefix`. */
const logLines = (proc: ProtogateProcess, prefix: string) =>
  proc
    .stderr()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { msg: string; pid: number })
    .filter((line) => line.msg.startsWith(prefix));

/** Resolves once a whole log line (its newline too, so `logLines` can parse it) with a `msg` starting with `prefix` has arrived. */
const logged = (proc: ProtogateProcess, prefix: string) => waitForLog(proc, new RegExp(`"msg":"${prefix}[^\\n]*\\n`), 0);

describe("hot reload of a running protogate serve", () => {
  let a: Awaited<ReturnType<typeof namedBackend>>;
  let b: Awaited<ReturnType<typeof namedBackend>>;

  beforeAll(async () => {
    a = await namedBackend("A");
    b = await namedBackend("B");
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  function configFile(upstream: string): { file: string; write: (settings: Record<string, unknown>) => void } {
    const file = join(mkdtempSync(join(tmpdir(), "pg-reload-process-")), "gateway.yaml");
    const write = (settings: Record<string, unknown>) => writeFileSync(file, stringify({ auth: { mode: "off" }, accessLog: { mode: "off" }, admin: { port: 0 }, ...settings }));
    write({ upstreams: { "demo.v1.UserService": upstream } });
    return { file, write };
  }

  /** Every process a test started: killed after it even when it timed out (its `finally` never ran then). */
  const spawned: ProtogateProcess[] = [];
  afterEach(() => {
    for (const proc of spawned.splice(0)) proc.child.kill("SIGKILL");
  });

  const serve = (file: string, ...extra: string[]): ProtogateProcess => {
    const proc = runProtogate(["serve", "--config", file, "--generated", "generated", "--port", "0", ...extra]);
    spawned.push(proc);
    return proc;
  };

  it("SIGHUP reloads one process; a broken config is refused with a log line naming the key, and /config keeps the old hash", async () => {
    const config = configFile(a.address);
    const proc = serve(config.file);
    try {
      const base = await waitForListening(proc);
      const [, admin] = await waitForOutput(proc, /protogate admin on (http:\/\/\S+)/);
      const hashOf = async () => ((await (await fetch(`${admin}/config`)).json()) as { hash: string }).hash;
      const first = await hashOf();
      expect(await (await fetch(`${base}/v1/users/u-1`)).json()).toMatchObject({ displayName: "A" });

      config.write({ upstreams: { "demo.v1.UserService": b.address } });
      proc.child.kill("SIGHUP");
      await logged(proc, "configuration reloaded");
      expect(logLines(proc, "configuration reloaded")).toHaveLength(1);
      const second = await hashOf();
      expect(second).not.toBe(first);
      expect(await (await fetch(`${base}/v1/users/u-1`)).json()).toMatchObject({ displayName: "B" });

      config.write({ upstreams: { "demo.v1.UserService": a.address }, server: { bodyLimitBytes: 10 } });
      proc.child.kill("SIGHUP");
      await logged(proc, "reload refused");
      expect(logLines(proc, "reload refused")).toHaveLength(1);
      expect(logLines(proc, "reload refused")[0].msg).toBe(
        "reload refused, the configuration in force is unchanged: server.bodyLimitBytes changed: the listeners were built from it at start; restart the gateway to apply this change",
      );
      expect(await hashOf()).toBe(second);
      expect(await (await fetch(`${base}/v1/users/u-1`)).json()).toMatchObject({ displayName: "B" });

      proc.child.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.child.kill("SIGKILL");
    }
  });

  it("--workers 2: POST /reload under steady load reloads every worker with no failed request; a broken config is refused once and changes nothing", async () => {
    const config = configFile(a.address);
    const proc = serve(config.file, "--workers", "2");
    try {
      const base = await waitForListening(proc);
      const [, admin] = await waitForOutput(proc, /protogate admin on (http:\/\/\S+)/);
      type Config = { hash: string | null; workers: Array<{ worker: number; hash?: string }> };
      const before = (await (await fetch(`${admin}/config`)).json()) as Config;
      expect(before.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(before.workers.map((worker) => worker.hash)).toEqual([before.hash, before.hash]);

      // New connections, so that both workers serve the load.
      const load = steadyLoad(() => `${base}/v1/users/u-1`, 4);
      await load.more(40);
      config.write({ upstreams: { "demo.v1.UserService": b.address } });
      const reloaded = await fetch(`${admin}/reload`, { method: "POST" });
      expect(reloaded.status).toBe(200);
      const after = (await reloaded.json()) as Config;
      expect(after.hash).not.toBe(before.hash);
      expect(after.workers.map((worker) => worker.hash)).toEqual([after.hash, after.hash]);
      const peersBefore = b.peers.length;
      await load.more(40);
      const outcomes = await load.stop();
      expect(outcomes.filter((outcome) => outcome !== 200)).toEqual([]);
      // Both workers now call the new upstream. node:cluster's primary hands out new connections
      // to the workers, not the test: requests on new connections (each a round trip, bounded)
      // until both workers have called it.
      await roundTripsUntil(
        () => new Set(b.peers.slice(peersBefore)).size === 2,
        async () => (await fetch(`${base}/v1/users/u-2`, { headers: { connection: "close" } })).arrayBuffer(),
      );
      expect(new Set(b.peers.slice(peersBefore)).size).toBe(2);

      config.write({ upstreams: { "demo.v1.UserService": a.address }, deadlines: { defaultMs: 0 } });
      const refused = await fetch(`${admin}/reload`, { method: "POST" });
      expect(refused.status).toBe(400);
      const body = (await refused.json()) as { message: string };
      expect(body.message).toContain("deadlines.defaultMs");
      expect(logLines(proc, "reload refused")).toHaveLength(1);
      expect(((await (await fetch(`${admin}/config`)).json()) as Config).hash).toBe(after.hash);
      expect(await (await fetch(`${base}/v1/users/u-3`)).json()).toMatchObject({ displayName: "B" });

      proc.child.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.child.kill("SIGKILL");
    }
  }, 60_000);
});

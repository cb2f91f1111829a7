import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UserServiceService } from "../../generated/demo/v1/user.js";
import { Changes, within } from "../support/until.js";
import { steadyLoad } from "./support/load.js";
import { runProtogate, waitForListening, waitForLog, waitForOutput, type ProtogateProcess } from "./support/processes.js";

// `protogate serve --workers N`: real processes (the primary forks real workers), a real grpc-js
// backend. Which worker served a request shows at the backend: each worker process has its own
// upstream connection, so the peers the backend sees are the workers that called it.

/**
 * A UserService backend answering GetUser, recording the peer (the gateway process's connection)
 * of each call; `whenPeer(matches)` resolves once a call came from a peer `matches` accepts.
 */
async function startPeerRecordingBackend(): Promise<{ address: string; peers: string[]; whenPeer(matches: (peer: string) => boolean): Promise<void>; close(): Promise<void> }> {
  const peers: string[] = [];
  const arrivals = new Changes();
  const server = new Server();
  server.addService(UserServiceService, {
    getUser: (call: ServerUnaryCall<{ userId: string }, unknown>, callback: sendUnaryData<unknown>) => {
      peers.push(call.getPeer());
      arrivals.changed();
      callback(null, { userId: call.request.userId, displayName: "Ada", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
    },
  } as never);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return {
    address: `127.0.0.1:${port}`,
    peers,
    whenPeer: (matches) => arrivals.until(() => peers.some(matches)),
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

interface WorkerState {
  readonly worker: number;
  readonly pid: number;
  readonly state: string;
  readonly restarts: number;
  readonly report?: { readonly ready: boolean };
}

async function readiness(admin: string): Promise<{ status: number; body: { ready: boolean; phase: string; workers: WorkerState[] } }> {
  const response = await fetch(`${admin}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; phase: string; workers: WorkerState[] } };
}

/** The value of the sample `name{labels}` in a Prometheus text (undefined when absent). */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("protogate serve --workers", () => {
  let backend: Awaited<ReturnType<typeof startPeerRecordingBackend>>;

  beforeAll(async () => {
    backend = await startPeerRecordingBackend();
  });
  afterAll(() => backend?.close());

  /** Every process a test started: killed after it even when it timed out (its `finally` never ran then). */
  const spawned: ProtogateProcess[] = [];
  afterEach(() => {
    for (const proc of spawned.splice(0)) proc.child.kill("SIGKILL");
  });

  const serve = (...extra: string[]): ProtogateProcess => {
    const proc = runProtogate(["serve", "--generated", "generated", "--port", "0", "--admin-port", "0", "--auth", "off", "--upstream", `demo.v1.UserService=${backend.address}`, ...extra]);
    spawned.push(proc);
    return proc;
  };

  it("--workers 2: one port served by both workers, one admin listener, /metrics the sum over the workers; SIGTERM drains both and exits 0", async () => {
    const proc = serve("--workers", "2");
    try {
      const base = await waitForListening(proc);
      const [, admin] = await waitForOutput(proc, /protogate admin on (http:\/\/\S+)/);
      // Only the primary prints, once, when every worker listens: the port (0 asked) is the real one.
      expect(proc.stdout()).toMatch(/^protogate listening on http:\/\/127\.0\.0\.1:[1-9]\d*\nprotogate admin on http:\/\/127\.0\.0\.1:\d+\n$/);
      const ready = await readiness(admin);
      expect(ready.status).toBe(200);
      expect(ready.body.workers.map((worker) => [worker.worker, worker.state, worker.report?.ready])).toEqual([
        [1, "ready", true],
        [2, "ready", true],
      ]);
      expect(new Set(ready.body.workers.map((worker) => worker.pid)).size).toBe(2);

      const before = backend.peers.length;
      const load = steadyLoad(() => `${base}/v1/users/u-1`, 4);
      await load.more(60);
      const outcomes = await load.stop();
      expect(outcomes.every((outcome) => outcome === 200)).toBe(true);
      // Both worker processes called the backend, each over its own connection.
      expect(new Set(backend.peers.slice(before)).size).toBe(2);

      const metrics = await (await fetch(`${admin}/metrics`)).text();
      expect(sample(metrics, "protogate_http_requests_total", 'method="GET",route="/v1/users/{user_id}",status="200",grpc_code="OK"')).toBe(outcomes.length);
      expect(sample(metrics, "protogate_upstream_requests_total", 'service="demo.v1.UserService",rpc="GetUser",grpc_code="OK"')).toBe(outcomes.length);
      expect(sample(metrics, "protogate_http_requests_in_flight", "")).toBeUndefined();
      expect(metrics).toContain("protogate_http_requests_in_flight 0");
      expect(["1", "2", "primary"].map((worker) => sample(metrics, "process_start_time_seconds", `worker="${worker}"`)).every((value) => value !== undefined && value > 0)).toBe(true);

      proc.child.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.child.kill("SIGKILL");
    }
  });

  it("a worker killed under steady load: at most the requests it had in flight fail; the primary restarts it (logged) and the new process serves", async () => {
    const proc = serve("--workers", "2");
    try {
      const base = await waitForListening(proc);
      const [, admin] = await waitForOutput(proc, /protogate admin on (http:\/\/\S+)/);
      const { body } = await readiness(admin);
      const killed = body.workers[0].pid;

      const concurrency = 4;
      const load = steadyLoad(() => `${base}/v1/users/u-1`, concurrency);
      await load.more(40);
      const peersBefore = new Set(backend.peers);
      const logFrom = proc.stderr().length;
      process.kill(killed, "SIGKILL");
      // A worker's start takes seconds (a whole gateway process): its log line is the event; the
      // 30 s are a guard.
      await waitForLog(proc, /"msg":"worker restarted"/, logFrom, 30_000);
      const restartLog = proc.stderr().split("\n").find((line) => line.includes('"msg":"worker exited; restarting it"'));
      expect(JSON.parse(restartLog ?? "{}")).toMatchObject({ worker: 1, pid: killed, signal: "SIGKILL", restartInMs: 100 });
      // The primary logs the restart once the new worker said it serves (its phase "serving", which
      // is all a worker's readiness depends on): /readyz is 200 from then on, no wait.
      const afterRestart = await readiness(admin);
      expect(afterRestart.status).toBe(200);
      const restarted = afterRestart.body.workers[0];
      expect(restarted).toMatchObject({ worker: 1, state: "ready", restarts: 1 });
      expect(restarted.pid).not.toBe(killed);
      // The new worker serves: a connection the backend had not seen calls it (when node:cluster's
      // primary hands it one of the load's new connections).
      await within(backend.whenPeer((peer) => !peersBefore.has(peer)), 30_000, "a call from the new worker");
      await load.more(40);
      const outcomes = await load.stop();

      const failed = outcomes.filter((outcome) => outcome !== 200);
      // Only connection errors (the killed worker's connections), never an error answer, and no
      // more than could have been in flight. (A connection node:cluster's primary was handing to
      // the worker as it died is neither answered nor closed: the client's timeout ends it.)
      expect(failed.every((outcome) => typeof outcome === "string")).toBe(true);
      expect(failed.length).toBeLessThanOrEqual(concurrency);

      proc.child.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.child.kill("SIGKILL");
    }
  }, 90_000);

  it("a start-up error is printed once (not once per worker), and the primary exits 1", async () => {
    const proc = runProtogate(["serve", "--generated", "/nonexistent/gen", "--port", "0", "--admin-port", "0", "--auth", "off", "--workers", "3"]);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr().match(/protogate: \/nonexistent\/gen has no index\.js/g)).toHaveLength(1);
    expect(proc.stdout()).toBe("");
  });
});

import { describe, expect, it } from "vitest";
import type { PrimaryMessage } from "../../src/cluster/messages.js";
import { RestartBackoff } from "../../src/cluster/restart-backoff.js";
import { Supervisor, WorkerStartError } from "../../src/cluster/supervisor.js";
import { WorkerChannel, WorkerRequestError } from "../../src/cluster/worker-process.js";
import { createFakeClock } from "../support/fake-clock.js";
import { Changes } from "../support/until.js";
import { FakeWorker, fakeFork } from "./fake-worker.js";

const START = (slot: number, first: boolean): PrimaryMessage => ({ protogate: "start", config: { slot } as never, configSha256: "c0ffee", startupWarnings: first });

function setUp(count: number) {
  const clock = createFakeClock();
  const { fork, forked, whenForked } = fakeFork();
  const logs: Array<{ level: "info" | "warn"; details: Record<string, unknown>; message: string }> = [];
  const logged = new Changes();
  const record = (level: "info" | "warn", details: object, message: string) => {
    logs.push({ level, details: details as Record<string, unknown>, message });
    logged.changed();
  };
  const log = { info: (details: object, message: string) => record("info", details, message), warn: (details: object, message: string) => record("warn", details, message) };
  const supervisor = new Supervisor({ count, fork, startMessage: START, timers: clock, log });
  /** Resolves once a line with `message` has been logged. */
  const whenLogged = (message: string) => logged.until(() => logs.some((line) => line.message === message));
  return { clock, forked, whenForked, logs, whenLogged, supervisor };
}

/** Starts `count` workers and makes each ready as it is forked. */
async function started(count: number) {
  const setup = setUp(count);
  const starting = setup.supervisor.start();
  setup.forked[0].becomeReady(41_000);
  await Promise.resolve();
  for (const worker of setup.forked.slice(1)) worker.becomeReady(41_000);
  await starting;
  return setup;
}

describe("the worker supervisor", () => {
  it("starts the first worker alone (it logs the start-up warnings), the others once it is ready, and resolves with its URL", async () => {
    const { supervisor, forked, whenForked } = setUp(3);
    const starting = supervisor.start();
    expect(forked).toHaveLength(1);
    // The config goes out only when the worker says it listens for it.
    expect(forked[0].sent).toEqual([]);
    forked[0].say({ protogate: "hello" });
    expect(forked[0].sent).toEqual([START(1, true)]);
    forked[0].say({ protogate: "ready", url: "http://127.0.0.1:41000", port: 41_000 });
    await whenForked(3);
    forked[1].becomeReady();
    forked[2].becomeReady();
    expect(forked[1].sent).toEqual([START(2, false)]);
    expect(forked[2].sent).toEqual([START(3, false)]);
    await expect(starting).resolves.toEqual({ url: "http://127.0.0.1:41000", port: 41_000 });
    expect(supervisor.states()).toEqual([
      { worker: 1, pid: 101, state: "ready", restarts: 0 },
      { worker: 2, pid: 102, state: "ready", restarts: 0 },
      { worker: 3, pid: 103, state: "ready", restarts: 0 },
    ]);
  });

  it("a worker that exits before it is ready fails the start, and is not restarted", async () => {
    const { supervisor, forked, clock } = setUp(2);
    const starting = supervisor.start();
    forked[0].say({ protogate: "hello" });
    forked[0].exit(1);
    await expect(starting).rejects.toThrow(WorkerStartError);
    await expect(starting).rejects.toThrow("worker 1 exited before it was ready (exit code 1)");
    clock.advance(60_000);
    expect(forked).toHaveLength(1);
    expect(supervisor.states()[0].state).toBe("stopped");
  });

  it("restarts a worker that dies, after the backoff, logging the exit and the restart", async () => {
    const { supervisor, forked, logs, whenLogged, clock } = await started(2);
    clock.advance(5_000);
    forked[1].exit(null, "SIGKILL");
    expect(supervisor.states()[1]).toEqual({ worker: 2, pid: undefined, state: "restarting", restarts: 0 });
    expect(logs.at(-1)).toEqual({ level: "warn", message: "worker exited; restarting it", details: { worker: 2, pid: 102, code: null, signal: "SIGKILL", uptimeMs: 5_000, restartInMs: 100 } });
    clock.advance(99);
    expect(forked).toHaveLength(2);
    clock.advance(1);
    expect(forked).toHaveLength(3);
    expect(supervisor.states()[1]).toMatchObject({ pid: 103, state: "starting", restarts: 1 });
    forked[2].becomeReady();
    await whenLogged("worker restarted");
    expect(logs.at(-1)?.message).toBe("worker restarted");
    expect(logs.at(-1)?.details).toEqual({ worker: 2, pid: 103, restarts: 1 });
    expect(forked[2].sent).toEqual([START(2, false)]);
    expect(supervisor.readyChannels().map((ready) => [ready.worker, ready.pid])).toEqual([
      [1, 101],
      [2, 103],
    ]);
  });

  it("a worker that keeps dying is restarted ever more slowly, up to the cap; a stable run resets the backoff", async () => {
    const { forked, logs, clock } = await started(1);
    const delays: unknown[] = [];
    for (let i = 0; i < 11; i++) {
      forked.at(-1)!.exit(1);
      delays.push(logs.at(-1)?.details.restartInMs);
      clock.advance(Number(logs.at(-1)?.details.restartInMs));
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000]);
    forked.at(-1)!.becomeReady();
    clock.advance(60_000);
    forked.at(-1)!.exit(1);
    expect(logs.at(-1)?.details.restartInMs).toBe(100);
  });

  it("stop: SIGTERM to every worker, no restart, resolves once all have exited (true when all exited 0)", async () => {
    const { supervisor, forked, clock } = await started(2);
    const stopping = supervisor.stop();
    expect(forked.map((worker) => worker.signals)).toEqual([["SIGTERM"], ["SIGTERM"]]);
    forked[0].exit(0);
    let done = false;
    void stopping.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    forked[1].exit(0);
    await expect(stopping).resolves.toBe(true);
    clock.advance(60_000);
    expect(forked).toHaveLength(2);
    expect(supervisor.states().map((slot) => slot.state)).toEqual(["stopped", "stopped"]);
  });

  it("stop: a worker that did not exit 0 makes it false; a slot waiting to restart is not restarted", async () => {
    const { supervisor, forked, clock } = await started(2);
    forked[0].exit(null, "SIGKILL");
    const stopping = supervisor.stop();
    clock.advance(60_000);
    expect(forked).toHaveLength(2);
    forked[1].exit(1);
    await expect(stopping).resolves.toBe(false);
  });
});

describe("a worker's request channel", () => {
  it("pairs replies with requests by id, fails a request not answered in time, and every pending one when the worker exits", async () => {
    const clock = createFakeClock();
    const worker = new FakeWorker(7);
    const channel = new WorkerChannel(worker, clock);
    const first = channel.request({ kind: "readiness" }, 1_000);
    const second = channel.request({ kind: "metrics" }, 1_000);
    expect(worker.sent).toEqual([
      { protogate: "request", id: 1, request: { kind: "readiness" } },
      { protogate: "request", id: 2, request: { kind: "metrics" } },
    ]);
    worker.say({ protogate: "reply", id: 2, value: [] });
    await expect(second).resolves.toEqual([]);
    clock.advance(1_000);
    await expect(first).rejects.toThrow(new WorkerRequestError("the worker did not answer readiness within 1000 ms"));
    const third = channel.request({ kind: "metrics" }, 1_000);
    worker.say({ protogate: "reply", id: 3, error: "registry failed" });
    await expect(third).rejects.toThrow("registry failed");
    const fourth = channel.request({ kind: "metrics" }, 1_000);
    worker.exit(0);
    await expect(fourth).rejects.toThrow("the worker exited before it answered");
    await expect(channel.request({ kind: "metrics" }, 1_000)).rejects.toThrow("the worker has exited");
    expect(clock.pending()).toBe(0);
  });
});

describe("restart backoff", () => {
  it.each([
    // [uptimes of successive deaths, expected delays]
    [[0, 0, 0, 0], [100, 200, 400, 800]],
    [[0, 0, 60_000, 0], [100, 200, 100, 200]],
    [[59_999, 59_999], [100, 200]],
  ])("deaths after %j ms up wait %j ms", (uptimes, delays) => {
    const backoff = new RestartBackoff();
    expect(uptimes.map((uptime) => backoff.nextDelay(uptime))).toEqual(delays);
  });
});

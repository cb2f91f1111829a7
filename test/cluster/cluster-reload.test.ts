import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createClusterReload } from "../../src/cluster/cluster-reload.js";
import type { WorkerRequest } from "../../src/cluster/messages.js";
import { Supervisor } from "../../src/cluster/supervisor.js";
import { loadConfigFile, type LoadedConfig } from "../../src/config/load-config.js";
import { ReloadRefused } from "../../src/reload/reload-refused.js";
import { createFakeClock } from "../support/fake-clock.js";
import { fakeFork, type FakeWorker } from "./fake-worker.js";

const QUIET = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The requests a fake worker was sent, by kind, with their ids. */
const requests = (worker: FakeWorker, kind: WorkerRequest["kind"]) =>
  worker.sent.flatMap((message) => (message.protogate === "request" && message.request.kind === kind ? [message] : []));

/** Answers the worker's last request of `kind` once it has been sent. */
async function answer(worker: FakeWorker, kind: WorkerRequest["kind"], reply: { value?: unknown; error?: string; refusal?: "invalid" }): Promise<void> {
  await worker.whenSent((message) => message.protogate === "request" && message.request.kind === kind);
  worker.say({ protogate: "reply", id: requests(worker, kind).at(-1)!.id, ...reply });
}

/** Two ready fake workers, a gateway.yaml, and the reload over them. */
async function setUp() {
  const dir = mkdtempSync(join(tmpdir(), "pg-cluster-reload-"));
  const file = join(dir, "gateway.yaml");
  const write = (settings: Record<string, unknown>) => writeFileSync(file, stringify({ logging: { level: "silent" }, ...settings }));
  write({ upstreams: { "demo.v1.UserService": "127.0.0.1:1" } });
  const source = { file, overrides: {} };
  let active: LoadedConfig = loadConfigFile(file);
  const activated: LoadedConfig[] = [];
  const { fork, forked, whenForked } = fakeFork();
  const clock = createFakeClock();
  const supervisor = new Supervisor({ count: 2, fork, startMessage: () => ({ protogate: "start", config: active.config, configSha256: active.sha256, startupWarnings: false }), timers: clock, log: QUIET });
  const starting = supervisor.start();
  forked[0].becomeReady();
  await whenForked(2);
  forked[1].becomeReady();
  await starting;
  const reload = createClusterReload({
    source,
    supervisor,
    active: () => active,
    activate: (next) => {
      active = next;
      activated.push(next);
    },
    phase: () => "serving",
    log: QUIET,
  });
  return { write, reload, workers: forked, activated, supervisor, active: () => active };
}

const identity = (hash: string) => ({ hash, configSha256: "c", routeTableSha256: "r", loadedAt: "2026-01-01T00:00:00.000Z" });

describe("reload with workers", () => {
  it("every worker prepares, then every worker commits; the answer is each worker's new identity", async () => {
    const { write, reload, workers, activated } = await setUp();
    write({ upstreams: { "demo.v1.UserService": "127.0.0.1:2" } });
    const reloading = reload();
    for (const worker of workers) await answer(worker, "prepare-reload", { value: identity("new") });
    for (const worker of workers) await answer(worker, "commit-reload", { value: identity("new") });
    for (const worker of workers) await answer(worker, "config", { value: { ...identity("new"), file: "f", generated: "g" } });
    const result = await reloading;
    expect(result.hash).toBe("new");
    expect(result.workers.map((worker) => [worker.worker, "hash" in worker && worker.hash])).toEqual([
      [1, "new"],
      [2, "new"],
    ]);
    // The prepare carried the new config; the primary holds it from the commit on (a restarted worker gets it).
    const prepare = requests(workers[0], "prepare-reload")[0].request as Extract<WorkerRequest, { kind: "prepare-reload" }>;
    // (The loaded config holds the HOST:PORT shorthand as { address }.)
    expect(prepare.config.upstreams["demo.v1.UserService"]).toEqual({ address: "127.0.0.1:2" });
    expect(activated.map((loaded) => loaded.config.upstreams["demo.v1.UserService"])).toEqual([{ address: "127.0.0.1:2" }]);
    expect(workers.map((worker) => requests(worker, "abort-reload").length)).toEqual([0, 0]);
  });

  it("one worker refuses: every worker closes what it prepared, nothing is committed, and the refusal names the worker and its reason", async () => {
    const { write, reload, workers, activated } = await setUp();
    write({ upstreams: { "demo.v1.UserService": "127.0.0.1:2" } });
    const reloading = reload();
    await answer(workers[0], "prepare-reload", { value: identity("new") });
    await answer(workers[1], "prepare-reload", { error: "cannot load generated/index.js: Unexpected token", refusal: "invalid" });
    for (const worker of workers) await answer(worker, "abort-reload", { value: null });
    await expect(reloading).rejects.toEqual(new ReloadRefused("invalid", "worker 2: cannot load generated/index.js: Unexpected token"));
    expect(workers.map((worker) => requests(worker, "commit-reload").length)).toEqual([0, 0]);
    expect(activated).toEqual([]);
  });

  it("every worker refusing for the same reason says it once", async () => {
    const { write, reload, workers } = await setUp();
    write({ upstreams: { "demo.v1.UserService": "127.0.0.1:2" } });
    const reloading = reload();
    for (const worker of workers) await answer(worker, "prepare-reload", { error: "upstreams.x.tls.keyFile: cannot read k.pem: ENOENT", refusal: "invalid" });
    for (const worker of workers) await answer(worker, "abort-reload", { value: null });
    await expect(reloading).rejects.toEqual(new ReloadRefused("invalid", "upstreams.x.tls.keyFile: cannot read k.pem: ENOENT"));
  });

  it.each([
    ["a schema error", { server: { port: "eighty" } }, "invalid", "server.port"],
    ["a listener setting", { server: { port: 9999 }, upstreams: { "demo.v1.UserService": "127.0.0.1:1" } }, "restart-required", "server.port changed"],
  ])("%s is refused by the primary before any worker is asked", async (_name, settings, refusal, says) => {
    const { write, reload, workers } = await setUp();
    write(settings);
    const refused = await reload().catch((error: unknown) => error as ReloadRefused);
    expect(refused).toBeInstanceOf(ReloadRefused);
    expect((refused as ReloadRefused).refusal).toBe(refusal);
    expect((refused as ReloadRefused).message).toContain(says);
    expect(workers.map((worker) => worker.sent.filter((message) => message.protogate === "request").length)).toEqual([0, 0]);
  });

  it("a worker that is not ready (restarting) makes the reload wait for another try", async () => {
    const { reload, workers } = await setUp();
    workers[1].exit(null, "SIGKILL");
    await expect(reload()).rejects.toEqual(new ReloadRefused("unavailable", "worker 2 is restarting; retry once every worker is ready"));
    expect(requests(workers[0], "prepare-reload")).toEqual([]);
  });
});

import { mkdtempSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { runProtogate, waitForListening, type ProtogateProcess } from "../e2e/support/processes.js";
import { describeWithRedis, startRedisServer, type RedisServer } from "../support/redis-server.js";

/**
 * Fault injection under load: two real `protogate serve` replicas share one real Redis and take a
 * steady load on a fail-open route and a fail-closed route while Redis is paused (SIGSTOP, a hung
 * server) or killed (SIGKILL), then resumed or restarted. Every answer is counted: none may hang,
 * every refusal is a google.rpc.Status body, fail-closed answers 503 while Redis is down,
 * fail-open admits exactly its local share per replica, and once Redis is back the shared limit
 * is exact again.
 *
 * The breaker's cool-down is ten minutes: recovery can only come from Redis's own signs of life
 * (the late replies of a woken Redis, a reconnection), never from time passing, and the test
 * never waits for time to pass; it waits on answers.
 */

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const REPLICAS = 2;
/** The fail-open quota per tenant; each replica falls back to half of it. */
const BURST = 20;
const FALLBACK_SHARE = 0.5;
const LOCAL_BURST = Math.floor(BURST * FALLBACK_SHARE);
/** What a call to a hung Redis costs the few requests that wait for it before the breaker opens. */
const COMMAND_TIMEOUT_MS = 250;
/** Beyond the command timeout, what a request may take on a busy 2-core machine; a hang is far more. */
const MARGIN_MS = 4_000;
const WORKERS = 12;
/** Answers to collect in each phase. */
const PER_PHASE = 400;
/** A guard against a hung test, not a wait: phases end on answers. */
const PHASE_GUARD_MS = 30_000;

const ROUTES = { open: "/v1/users/u-1", closed: "/v1/users" } as const;
type Route = keyof typeof ROUTES;
/** `before` the fault, while Redis is `down`, `between` (until every replica has recovered), `after`. */
type Phase = "before" | "down" | "between" | "after";

interface Answer {
  readonly phase: Phase;
  readonly replica: number;
  readonly route: Route;
  readonly status: number;
  readonly body: string;
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function get(base: string, path: string, tenant: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { agent, headers: { "x-tenant": tenant } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * A steady load: WORKERS loops, each sending its next request as soon as the last one is
 * answered, alternating routes and replicas. The tenant (the limits' key) is the phase's, so
 * each phase has fresh buckets.
 */
function startLoad(bases: readonly string[], run: string) {
  const answers: Answer[] = [];
  const inFlight = new Map<Phase, number>();
  const watchers = new Set<() => void>();
  let phase: Phase = "before";
  let running = true;
  let sent = 0;
  const worker = async () => {
    while (running) {
      const i = sent++;
      const route: Route = i % 2 === 0 ? "open" : "closed";
      const replica = Math.floor(i / 2) % REPLICAS;
      const tagged = phase;
      inFlight.set(tagged, (inFlight.get(tagged) ?? 0) + 1);
      const sentAt = performance.now();
      const { status, body } = await get(bases[replica], ROUTES[route], `${run}-${tagged}`);
      inFlight.set(tagged, (inFlight.get(tagged) ?? 0) - 1);
      const answeredAt = performance.now();
      answers.push({ phase: tagged, replica, route, status, body, sentAt, answeredAt, ms: answeredAt - sentAt });
      for (const watch of watchers) watch();
    }
  };
  const workers = Promise.all(Array.from({ length: WORKERS }, worker));
  return {
    answers,
    set phase(next: Phase) {
      phase = next;
    },
    /** Resolves once `condition` holds, checked after every answer. */
    until(condition: () => boolean, what: string): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        if (condition()) return resolve();
        const guard = setTimeout(() => {
          watchers.delete(watch);
          reject(new Error(`timed out waiting for ${what}`));
        }, PHASE_GUARD_MS);
        const watch = () => {
          if (!condition()) return;
          clearTimeout(guard);
          watchers.delete(watch);
          resolve();
        };
        watchers.add(watch);
      });
    },
    inFlight: (of: Phase) => inFlight.get(of) ?? 0,
    count: (of: Phase) => answers.filter((answer) => answer.phase === of).length,
    async stop() {
      running = false;
      await workers;
    },
  };
}

/** Asserts that a refusal is a google.rpc.Status body with the code and reason of its status. */
function expectStatusBody(answer: Answer): void {
  const expected: Record<number, [number, string]> = { 429: [8, "PG_ERR_RATE_LIMITED"], 503: [14, "PG_ERR_RATE_LIMIT_UNAVAILABLE"] };
  const [code, reason] = expected[answer.status] ?? [-1, `an answer the limits never give: ${answer.status}`];
  const status = JSON.parse(answer.body) as { code: number; message: string; details: unknown[] };
  expect(status).toMatchObject({ code, message: expect.any(String) });
  expect(status.details[0]).toEqual({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "protogate" });
}

/** Status counts of `answers` by replica and route, e.g. `{ "0 open": { 200: 10, 429: 90 } }`. */
function tally(answers: readonly Answer[]): Record<string, Record<number, number>> {
  const table: Record<string, Record<number, number>> = {};
  for (const answer of answers) {
    const row = (table[`${answer.replica} ${answer.route}`] ??= {});
    row[answer.status] = (row[answer.status] ?? 0) + 1;
  }
  return table;
}

describeWithRedis("attack: Redis faults under load, fail-open and fail-closed, through real gateways", () => {
  let redis: RedisServer;
  let backends: DemoBackends;
  let gateways: ProtogateProcess[] = [];
  let bases: string[] = [];

  beforeAll(async () => {
    [redis, backends] = await Promise.all([startRedisServer(), startDemoBackends()]);
    const file = join(mkdtempSync(join(tmpdir(), "pg-redis-faults-")), "gateway.yaml");
    writeFileSync(
      file,
      stringify({
        logging: { level: "info" },
        auth: { mode: "off" },
        rateLimits: {
          store: "redis",
          redis: {
            nodes: [redis.address],
            commandTimeoutMs: COMMAND_TIMEOUT_MS,
            connectTimeoutMs: 5_000,
            localFallbackShare: FALLBACK_SHARE,
            breaker: { failureThreshold: 3, coolDownMs: 600_000 },
          },
          limits: [
            { name: "open", key: "header:x-tenant", requests: BURST, periodSeconds: 3600, methods: ["demo.v1.UserService.GetUser"] },
            { name: "closed", key: "header:x-tenant", requests: 1_000_000, periodSeconds: 3600, methods: ["demo.v1.UserService.ListUsers"], onStoreFailure: "fail-closed" },
          ],
        },
      }),
    );
    gateways = Array.from({ length: REPLICAS }, () =>
      runProtogate(["serve", "--config", file, "--generated", "generated", "--port", "0", "--admin-port", "0", "--upstream", `demo.v1.UserService=${backends.address}`], REPO_ROOT),
    );
    bases = await Promise.all(gateways.map((gateway) => waitForListening(gateway, 30_000)));
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    for (const gateway of gateways) if (gateway.child.exitCode === null) gateway.child.kill("SIGKILL");
    if (redis?.running) redis.resume();
    await Promise.all([backends?.close(), redis?.stop()]);
  });

  /**
   * Runs the load through a fault: `before` on a healthy Redis, `down` (the whole phase while the
   * fault lasts), `between` (Redis restored, until every replica has answered a fail-closed
   * request from Redis again), `after`. Returns every answer and when the fault began.
   */
  async function throughFault(run: string, fault: () => Promise<void>, restore: () => Promise<void>): Promise<{ answers: Answer[]; faultAt: number }> {
    const load = startLoad(bases, run);
    let faultAt = Infinity;
    try {
      await load.until(() => load.count("before") >= PER_PHASE, "answers before the fault");
      faultAt = performance.now();
      await fault();
      load.phase = "down";
      await load.until(() => load.count("down") >= PER_PHASE, "answers while Redis is down");
      // No request of the `down` tenant may reach a restored Redis.
      load.phase = "between";
      await load.until(() => load.inFlight("down") === 0, "the last answers of the outage");
      const restoredAt = performance.now();
      await restore();
      await load.until(
        () => bases.every((_, replica) => load.answers.some((a) => a.phase === "between" && a.replica === replica && a.route === "closed" && a.status === 200 && a.sentAt > restoredAt)),
        "every replica to use Redis again",
      );
      load.phase = "after";
      await load.until(() => load.count("after") >= PER_PHASE, "answers after recovery");
    } finally {
      await load.stop();
    }
    return { answers: load.answers, faultAt };
  }

  /** What every fault must give: no hang, Status bodies, exact local shares while down, exact again after. */
  function expectCountedOutcomes({ answers, faultAt }: { answers: readonly Answer[]; faultAt: number }): void {
    // Every request got an answer (stop() awaited each), none of them slowly.
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(COMMAND_TIMEOUT_MS + MARGIN_MS);
    for (const answer of answers) if (answer.status !== 200) expectStatusBody(answer);

    // Before the fault, Redis decided alone: exactly the burst, no 503.
    const before = answers.filter((answer) => answer.answeredAt < faultAt);
    expect(before.filter((answer) => answer.route === "open" && answer.status === 200)).toHaveLength(BURST);
    expect(before.filter((answer) => answer.status === 503)).toEqual([]);
    // Requests in flight when the fault struck: fail-open ones that lost their Redis answer fall
    // back to the local limit (the fail-open trade-off), never beyond the local share.
    const struck = answers.filter((answer) => answer.phase === "before" && answer.answeredAt >= faultAt);
    for (let replica = 0; replica < REPLICAS; replica++) {
      expect(struck.filter((a) => a.replica === replica && a.route === "open" && a.status === 200).length).toBeLessThanOrEqual(LOCAL_BURST);
    }

    const down = answers.filter((answer) => answer.phase === "down");
    const downTally = tally(down);
    for (let replica = 0; replica < REPLICAS; replica++) {
      // Fail-open: exactly the replica's local share of the fresh tenant's bucket, then 429.
      const open = downTally[`${replica} open`];
      expect(open[200]).toBe(LOCAL_BURST);
      expect(open[200] + (open[429] ?? 0)).toBe(down.filter((a) => a.replica === replica && a.route === "open").length);
      // Fail-closed: 503 and nothing else.
      expect(downTally[`${replica} closed`]).toEqual({ 503: down.filter((a) => a.replica === replica && a.route === "closed").length });
    }

    const after = answers.filter((answer) => answer.phase === "after");
    const afterTally = tally(after);
    // Exact again: the replicas together admit exactly the shared burst of the fresh tenant.
    const admitted = after.filter((answer) => answer.route === "open" && answer.status === 200).length;
    expect(admitted).toBe(BURST);
    for (let replica = 0; replica < REPLICAS; replica++) {
      expect(Object.keys(afterTally[`${replica} open`]).sort()).toEqual(["200", "429"]);
      expect(afterTally[`${replica} closed`]).toEqual({ 200: after.filter((a) => a.replica === replica && a.route === "closed").length });
    }
  }

  const logged = (pattern: RegExp) => gateways.map((gateway) => gateway.stderr().match(new RegExp(pattern, "g"))?.length ?? 0);

  it("Redis paused (hung) under load, then resumed: answers counted, and the limit is exact again without waiting out the cool-down", async () => {
    const answers = await throughFault(
      "paused",
      async () => redis.pause(),
      async () => redis.resume(),
    );
    expectCountedOutcomes(answers);
    // Each replica says once that Redis is down and once that it is back.
    expect(logged(/rate-limit store DOWN/)).toEqual([1, 1]);
    expect(logged(/rate-limit store recovered/)).toEqual([1, 1]);
  }, 90_000);

  it("Redis killed under load, then restarted empty: answers counted, and the limit is exact again as soon as the replicas reconnect", async () => {
    const answers = await throughFault(
      "killed",
      () => redis.kill(),
      () => redis.restart(),
    );
    expectCountedOutcomes(answers);
    expect(logged(/rate-limit store DOWN/)).toEqual([2, 2]);
    expect(logged(/rate-limit store recovered/)).toEqual([2, 2]);
  }, 90_000);
});

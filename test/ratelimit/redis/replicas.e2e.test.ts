import { mkdtempSync, writeFileSync } from "node:fs";
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { startDemoBackends, type DemoBackends } from "../../../src/demo/index.js";
import { runProtogate, waitForListening, waitForLog, type ProtogateProcess } from "../../e2e/support/processes.js";
import { describeWithRedis, startRedisServer, type RedisServer } from "../../support/redis-server.js";

/**
 * Three real `protogate serve` processes sharing one real Redis, hammered concurrently: together
 * they admit exactly the burst; with Redis killed mid-load, fail-open routes answer from each
 * replica's local limit and fail-closed routes answer 503, none of them slowly; once Redis is
 * back they are exact again.
 */

const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const REPLICAS = 3;
const BURST = 50;
/** Each replica's local limit while Redis is down: floor(50 * 0.34) = 17. */
const FALLBACK_SHARE = 0.34;
const LOCAL_BURST = Math.floor(BURST * FALLBACK_SHARE);
const COMMAND_TIMEOUT_MS = 500;
/** Beyond the command timeout, what a request may take on a busy 2-core machine; a hang is far more. */
const MARGIN_MS = 4_000;
const GET_USER = "/v1/users/u-1";
const LIST_USERS = "/v1/users";

interface Answer {
  readonly gateway: number;
  readonly path: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly sentAt: number;
  readonly ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function get(bases: readonly string[], gateway: number, path: string): Promise<Answer> {
  const url = new URL(path, bases[gateway]);
  const sentAt = performance.now();
  return new Promise<Answer>((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("error", reject);
      res.on("end", () => resolve({ gateway, path, status: res.statusCode ?? 0, headers: res.headers, body, sentAt, ms: performance.now() - sentAt }));
    });
    req.on("error", reject);
    req.end();
  });
}

const countStatus = (answers: readonly Answer[], status: number) => answers.filter((answer) => answer.status === status).length;

describeWithRedis("three gateway replicas sharing one Redis", () => {
  let redis: RedisServer;
  let backends: DemoBackends;
  let gateways: ProtogateProcess[] = [];
  let bases: string[] = [];

  beforeAll(async () => {
    [redis, backends] = await Promise.all([startRedisServer(), startDemoBackends()]);
    const file = join(mkdtempSync(join(tmpdir(), "pg-replicas-")), "gateway.yaml");
    writeFileSync(
      file,
      stringify({
        logging: { level: "info" },
        auth: { mode: "off" },
        rateLimits: {
          store: "redis",
          redis: { nodes: [redis.address], commandTimeoutMs: COMMAND_TIMEOUT_MS, connectTimeoutMs: 5_000, localFallbackShare: FALLBACK_SHARE, breaker: { failureThreshold: 3, coolDownMs: 500 } },
          limits: [
            // A long period: no refill while the test runs, so the burst is all there is.
            { name: "users", key: "global", requests: BURST, periodSeconds: 3600, methods: ["demo.v1.UserService.GetUser"] },
            { name: "listing", key: "global", requests: 100_000, periodSeconds: 3600, methods: ["demo.v1.UserService.ListUsers"], onStoreFailure: "fail-closed" },
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
    await Promise.all([backends?.close(), redis?.stop()]);
  });

  /** `count` GET_USER requests at once, spread round-robin over the replicas. */
  const hammer = (count: number) => Promise.all(Array.from({ length: count }, (_, i) => get(bases, i % REPLICAS, GET_USER)));

  const expectExactlyTheBurst = (answers: readonly Answer[]) => {
    const admitted = answers.filter((answer) => answer.status === 200);
    expect(admitted).toHaveLength(BURST);
    expect(countStatus(answers, 429)).toBe(answers.length - BURST);
    // Every admitted request saw its own place in the one shared bucket.
    expect(admitted.map((answer) => Number(answer.headers["x-ratelimit-remaining"])).sort((a, b) => a - b)).toEqual(Array.from({ length: BURST }, (_, i) => i));
  };

  it("admits exactly the burst across the replicas; the rest get 429 with RetryInfo and Retry-After", async () => {
    const answers = await hammer(600);
    expectExactlyTheBurst(answers);
    expect(JSON.parse(answers.find((answer) => answer.status === 200)!.body)).toMatchObject({ userId: "u-1" });
    for (const answer of answers.filter((candidate) => candidate.status === 429)) {
      expect(answer.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      expect(answer.headers["x-ratelimit-remaining"]).toBe("0");
      const status = JSON.parse(answer.body) as { code: number; details: Array<Record<string, string>> };
      expect(status.code).toBe(8); // RESOURCE_EXHAUSTED
      const retryInfo = status.details.find((detail) => detail["@type"] === "type.googleapis.com/google.rpc.RetryInfo");
      expect(retryInfo?.retryDelay).toMatch(/^\d+(\.\d+)?s$/);
    }
  }, 30_000);

  it("Redis killed mid-load: fail-open answers from each replica's local limit, fail-closed answers 503, nothing hangs", async () => {
    const total = 600;
    const concurrency = 24;
    const answers: Answer[] = [];
    let next = 0;
    let killedAt = Infinity;
    let killing: Promise<void> | undefined;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const path = i % 2 === 0 ? GET_USER : LIST_USERS;
        answers.push(await get(bases, Math.floor(i / 2) % REPLICAS, path));
        if (answers.length === 100 && !killing) killing = redis.kill().then(() => void (killedAt = performance.now()));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await killing;
    expect(killedAt).toBeLessThan(Infinity);

    expect(answers).toHaveLength(total);
    const slowest = Math.max(...answers.map((answer) => answer.ms));
    expect(slowest).toBeLessThan(COMMAND_TIMEOUT_MS + MARGIN_MS);

    const getUser = answers.filter((answer) => answer.path === GET_USER);
    expect(getUser.filter((answer) => answer.status !== 200 && answer.status !== 429)).toEqual([]);
    // The shared bucket was spent before: every 200 here came from a replica's local limit, each
    // of which admitted exactly its share once Redis failed.
    for (let gateway = 0; gateway < REPLICAS; gateway++) {
      expect(countStatus(getUser.filter((answer) => answer.gateway === gateway), 200)).toBe(LOCAL_BURST);
    }

    const listingAfterKill = answers.filter((answer) => answer.path === LIST_USERS && answer.sentAt > killedAt);
    expect(listingAfterKill.length).toBeGreaterThan(50);
    for (const answer of listingAfterKill) {
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 14 });
      expect(answer.body).toContain("PG_ERR_RATE_LIMIT_UNAVAILABLE");
    }
    for (const gateway of gateways) expect(gateway.stderr().match(/rate-limit store DOWN/g)).toHaveLength(1);
  }, 60_000);

  it("Redis restarted: every replica recovers by itself and the shared limit is exact again", async () => {
    const logged = gateways.map((gateway) => gateway.stderr().length);
    await redis.restart();
    // Each replica's client reconnects by itself; its breaker then lets the next request probe at once.
    await Promise.all(gateways.map((gateway, i) => waitForLog(gateway, /rate-limit redis connected/, logged[i], 20_000)));
    for (let gateway = 0; gateway < bases.length; gateway++) expect((await get(bases, gateway, LIST_USERS)).status).toBe(200);
    for (const gateway of gateways) expect(gateway.stderr()).toMatch(/rate-limit store recovered/);
    // Redis came back empty, so the shared bucket is full: exactly the burst again.
    expectExactlyTheBurst(await hammer(600));
  }, 60_000);

  it("SIGTERM stops every replica with exit code 0", async () => {
    agent.destroy();
    for (const gateway of gateways) gateway.child.kill("SIGTERM");
    expect(await Promise.all(gateways.map((gateway) => gateway.exited))).toEqual(Array<number>(REPLICAS).fill(0));
  }, 30_000);
});

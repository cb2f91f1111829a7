import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getUserOrNotFound, startUserBackend } from "./support/gateway-harness.js";
import { steadyLoad } from "./support/load.js";
import { runProtogate, waitForListening, waitForOutput, type ProtogateProcess } from "./support/processes.js";
import { startRoundRobinBalancer, type RoundRobinBalancer } from "./support/round-robin-balancer.js";

// A rolling restart as a deployment does it: two real `protogate serve` processes behind a load
// balancer that sends new connections only to backends whose /readyz answered 200 at its last
// check (every CHECK_INTERVAL_MS), clients keeping their connections alive. Each gateway in turn
// gets SIGTERM, exits 0 and is replaced by a new process, under steady load: no request may fail.
//
// Why zero loss holds: on SIGTERM /readyz turns 503 at once, and for PRE_STOP_DELAY_MS the gateway
// still accepts and serves, each response closing its connection; the balancer sees the 503 within
// one check interval and places the clients' new connections on the other gateway. Only then does
// the gateway stop accepting. The delay must be comfortably longer than the check interval (plus a
// check's own time on a loaded machine), as a Kubernetes preStop must outlast the endpoint update.

const CHECK_INTERVAL_MS = 100;
const PRE_STOP_DELAY_MS = 1_500;
const DRAIN_TIMEOUT_MS = 2_000;
/** Clients keeping one connection alive; a balancer places a connection once, so these stay where they are until it closes. */
const KEEP_ALIVE_CLIENTS = 6;
/** Clients opening a connection per request (new clients arriving): spread over every ready gateway, the new ones included. */
const NEW_CONNECTION_CLIENTS = 2;
/** Requests answered at each stage (before the restarts, after each one): each new process serves some of them. */
const PER_STAGE = 300;

/** The `protogate_http_requests_total` samples with status 200 in a /metrics text, summed. */
function answered200(metrics: string): number {
  return metrics
    .split("\n")
    .filter((line) => line.startsWith("protogate_http_requests_total{") && line.includes('status="200"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

describe("rolling restart behind a load balancer", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let balancer: RoundRobinBalancer;
  let configFile: string;
  const spawned: ProtogateProcess[] = [];

  beforeAll(async () => {
    backend = await startUserBackend({ getUser: getUserOrNotFound });
    balancer = await startRoundRobinBalancer(CHECK_INTERVAL_MS);
    configFile = join(mkdtempSync(join(tmpdir(), "protogate-rolling-")), "gateway.yaml");
    writeFileSync(configFile, `server:\n  preStopDelayMs: ${PRE_STOP_DELAY_MS}\n  drainTimeoutMs: ${DRAIN_TIMEOUT_MS}\nlogging:\n  level: warn\n`);
  });
  afterAll(async () => {
    await balancer?.close();
    await backend?.close();
  });
  /** Killed after the test even when it failed or timed out. */
  afterEach(() => {
    for (const proc of spawned.splice(0)) proc.child.kill("SIGKILL");
  });

  /** Starts a gateway process in the balancer's `slot`; resolves once the balancer has seen it ready. */
  const startInSlot = async (slot: number): Promise<{ proc: ProtogateProcess; admin: string }> => {
    const proc = runProtogate(["serve", "--config", configFile, "--generated", "generated", "--port", "0", "--admin-port", "0", "--auth", "off", "--upstream", `demo.v1.UserService=${backend.address}`]);
    spawned.push(proc);
    const url = new URL(await waitForListening(proc));
    const [, admin] = await waitForOutput(proc, /protogate admin on (http:\/\/\S+)/);
    balancer.set(slot, { port: Number(url.port), readyzUrl: `${admin}/readyz` });
    await balancer.ready(slot);
    return { proc, admin };
  };

  it("SIGTERM each of two gateways in turn, start a new one: every request of a steady keep-alive load is answered 200", async () => {
    const first = await Promise.all([startInSlot(0), startInSlot(1)]);
    const url = () => `${balancer.url}/v1/users/u-1`;
    const kept = steadyLoad(url, KEEP_ALIVE_CLIENTS, 5_000, { keepAlive: true });
    const fresh = steadyLoad(url, NEW_CONNECTION_CLIENTS);
    await kept.more(PER_STAGE);

    const replacements: Array<{ proc: ProtogateProcess; admin: string }> = [];
    for (const [slot, old] of first.entries()) {
      old.proc.child.kill("SIGTERM");
      expect(await old.proc.exited).toBe(0);
      replacements.push(await startInSlot(slot));
      await kept.more(PER_STAGE);
    }
    // Read before they stop: what each new process served.
    const servedByNew = await Promise.all(replacements.map(async ({ admin }) => answered200(await (await fetch(`${admin}/metrics`)).text())));
    const [keptOutcomes, freshOutcomes] = await Promise.all([kept.stop(), fresh.stop()]);
    const outcomes = [...keptOutcomes, ...freshOutcomes];

    const failed = outcomes.filter((outcome) => outcome !== 200);
    expect({ failed: failed.length, kinds: [...new Set(failed)], balancerFailures: balancer.failures() }).toEqual({ failed: 0, kinds: [], balancerFailures: 0 });
    expect(keptOutcomes.length).toBeGreaterThanOrEqual(3 * PER_STAGE);
    expect(freshOutcomes.length).toBeGreaterThan(0);
    for (const served of servedByNew) expect(served).toBeGreaterThan(0);
    // The keep-alive clients did keep their connections: far fewer connections than their requests.
    expect(balancer.accepted() - freshOutcomes.length).toBeLessThan(keptOutcomes.length / 4);

    for (const { proc } of replacements) proc.child.kill("SIGTERM");
    expect(await Promise.all(replacements.map(({ proc }) => proc.exited))).toEqual([0, 0]);
  }, 60_000);
});

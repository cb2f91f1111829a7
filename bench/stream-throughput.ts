import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { spawnNode, spawnTs, tail, type CpuAffinity } from "./child-process.js";
import { STREAM_RESULT_PREFIX } from "./stream-result.js";
import { SERVING_NODE_FLAGS } from "../src/cli/node-flags.js";

/** One stream read through one path. */
export interface StreamRun {
  readonly messages: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** CPU time of the process under test (the gateway, or the direct client) for the whole stream. */
  readonly cpuMs: number | undefined;
}

/** The streaming measurement: per round, a direct grpc-js stream and the same stream through the gateway. */
export interface StreamThroughput {
  readonly messagesPerStream: number;
  readonly rounds: ReadonlyArray<{ readonly direct: StreamRun; readonly gateway: StreamRun }>;
  /** Medians over the rounds. */
  readonly directMessagesPerSecond: number;
  readonly gatewayMessagesPerSecond: number;
  /** gateway / direct messages per second (target: at least 0.5). */
  readonly ratio: number;
  /** The gateway's CPU time per streamed message, in µs (median). */
  readonly gatewayCpuMicrosPerMessage: number | undefined;
}

const GENERATED_DIR = fileURLToPath(new URL("../generated", import.meta.url));

/**
 * Messages per second of one server stream (ChatService.Subscribe, `messages` messages of ~100
 * bytes) read straight from the backend by a grpc-js client, and through a Protogate gateway as
 * NDJSON by an HTTP client, round after round, with the gateway's CPU time per message. As in
 * the rest of the bench, the process under test (the gateway, or the direct client) runs on the
 * server CPUs and everything else on the others.
 */
export async function measureStreamThroughput(messages: number, rounds: number, protogateEntry: string, serverAffinity: CpuAffinity | undefined, loadAffinity: CpuAffinity | undefined): Promise<StreamThroughput> {
  const backend = spawnTs("stream-backend", "bench/stream-backend.ts", [], loadAffinity);
  const dir = mkdtempSync(join(tmpdir(), "protogate-stream-bench-"));
  let gateway: ReturnType<typeof spawnNode> | undefined;
  try {
    const [, address] = await backend.waitFor(/stream backend listening on (\S+)/, 30_000);
    const config = join(dir, "gateway.yaml");
    writeFileSync(config, stringify({ logging: { level: "warn" }, auth: { mode: "off" }, admin: { enabled: false }, upstreams: { "demo.v1.ChatService": address } }));
    gateway = spawnNode("stream-gateway", [...SERVING_NODE_FLAGS, protogateEntry, "serve", "--config", config, "--generated", GENERATED_DIR, "--host", "127.0.0.1", "--port", "0"], serverAffinity);
    const [, base] = await gateway.waitFor(/protogate listening on (http:\/\/\S+)/, 30_000);
    const serverPid = String(gateway.child.pid);
    // A first, unmeasured stream through each path warms both up.
    await readStream(["--direct", address, "--messages", String(Math.min(messages, 20_000))], serverAffinity);
    await readStream(["--url", base, "--messages", String(Math.min(messages, 20_000)), "--server-pid", serverPid], loadAffinity);
    const results: Array<{ direct: StreamRun; gateway: StreamRun }> = [];
    for (let round = 0; round < rounds; round++) {
      const direct = await readStream(["--direct", address, "--messages", String(messages)], serverAffinity);
      const viaGateway = await readStream(["--url", base, "--messages", String(messages), "--server-pid", serverPid], loadAffinity);
      console.log(`  stream round ${round + 1}/${rounds}: direct ${Math.round(direct.messagesPerSecond)} msg/s, gateway ${Math.round(viaGateway.messagesPerSecond)} msg/s`);
      results.push({ direct, gateway: viaGateway });
    }
    const directRate = median(results.map((r) => r.direct.messagesPerSecond));
    const gatewayRate = median(results.map((r) => r.gateway.messagesPerSecond));
    const cpu = results.map((r) => r.gateway.cpuMs).filter((value): value is number => value !== undefined);
    return {
      messagesPerStream: messages,
      rounds: results,
      directMessagesPerSecond: directRate,
      gatewayMessagesPerSecond: gatewayRate,
      ratio: gatewayRate / directRate,
      gatewayCpuMicrosPerMessage: cpu.length === 0 ? undefined : (median(cpu) * 1000) / messages,
    };
  } finally {
    await gateway?.stop();
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report's lines for the streaming measurement. */
export function formatStreamThroughput(result: StreamThroughput): string {
  const cpu = result.gatewayCpuMicrosPerMessage === undefined ? "n/a" : `${result.gatewayCpuMicrosPerMessage.toFixed(1)} µs`;
  return [
    `server streaming (${result.messagesPerStream} messages per stream, ${result.rounds.length} rounds, medians)`,
    `  direct grpc-js client: ${Math.round(result.directMessagesPerSecond)} msg/s`,
    `  through Protogate (NDJSON): ${Math.round(result.gatewayMessagesPerSecond)} msg/s, gateway CPU per message ${cpu}`,
    `  gateway / direct: ${result.ratio.toFixed(2)}x (target >= 0.50x)`,
  ].join("\n");
}

async function readStream(args: readonly string[], affinity: CpuAffinity | undefined): Promise<StreamRun> {
  const client = spawnTs("stream-client", "bench/stream-client.ts", args, affinity);
  const code = await client.exited;
  const line = client.stdout().split("\n").find((candidate) => candidate.startsWith(STREAM_RESULT_PREFIX));
  if (code !== 0 || !line) throw new Error(`stream client failed (exit ${code}):\n${tail(client.stderr() || client.stdout())}`);
  return JSON.parse(line.slice(STREAM_RESULT_PREFIX.length)) as StreamRun;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

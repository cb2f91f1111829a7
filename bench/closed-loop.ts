// What the closed-loop load children (dashboard-load.ts, graphql-load.ts) share: a keep-alive
// JSON client, and the loop that runs `connections` workers, each making one whole answer after
// another (one dashboard, one query, or the REST calls standing for it) and recording its latency.
import { Agent, request } from "node:http";
import { createLatencyRecorder, type LoadResult } from "./latency-recorder.js";
import { treeCpuSeconds } from "./process-tree-memory.js";

export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One request over `agent` to `base`; resolves with its status and JSON body (a body that is not JSON rejects). */
export function sendJson(base: URL, agent: Agent, method: "GET" | "POST", path: string, body?: string): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const outgoing = request({ host: base.hostname, port: base.port, path, method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        } catch (error) {
          reject(error as Error);
        }
      });
      response.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

export interface ClosedLoop {
  readonly connections: number;
  /** The server's process, whose CPU time (with its children's) is divided by the answers. */
  readonly serverPid: number | undefined;
  /** One whole answer: whether it succeeded (a throw counts as an error). */
  readonly once: () => Promise<boolean>;
}

/** Runs the loop for `seconds`; with `record` false (a warm-up) nothing is counted. */
export async function runClosedLoop(loop: ClosedLoop, seconds: number, record: boolean): Promise<LoadResult> {
  const latencies = createLatencyRecorder();
  let failed = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const endAt = performance.now() + seconds * 1000;
  const cpuBefore = loop.serverPid === undefined ? undefined : treeCpuSeconds(loop.serverPid);
  const worker = async () => {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      try {
        const ok = await loop.once();
        if (!record) continue;
        latencies.record(performance.now() - t0);
        if (!ok) failed++;
      } catch {
        if (record) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: loop.connections }, worker));
  const cpuAfter = loop.serverPid === undefined ? undefined : treeCpuSeconds(loop.serverPid);
  const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    requests: latencies.count,
    durationSeconds,
    requestsPerSecond: latencies.count / durationSeconds,
    p50Ms: latencies.percentile(50),
    p99Ms: latencies.percentile(99),
    errors,
    non2xx: failed,
    statusCodes: { ok: latencies.count - failed, failed },
    ...(cpuBefore !== undefined && cpuAfter !== undefined && latencies.count > 0 && { cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1e6) / latencies.count }),
  };
}

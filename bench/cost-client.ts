// Child process of bench/feature-cost.ts: the HTTP client, in a process of its own so that the
// gateways' process is charged for the gateways' work only. On each IPC message it sends a batch
// of GETs, paced at a fixed rate with at most `concurrency` in flight over keep-alive connections,
// and answers when all are done.
import { Agent, request } from "node:http";

/** One batch, as feature-cost.ts asks for it. */
export interface BatchRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  /** A response header every answer must carry (proof that the feature is on). */
  readonly expectHeader?: string;
  readonly count: number;
  readonly concurrency: number;
  /**
   * Requests per second, paced (request i starts at i / rate s, or later when `concurrency` are
   * in flight): every gateway then sees the same arrivals, so how many requests share an event
   * loop turn (which changes the CPU per request) does not depend on how fast it answers.
   */
  readonly ratePerSecond: number;
}

export type BatchReply = { readonly ok: true } | { readonly ok: false; readonly error: string };

const agents = new Map<number, Agent>();

function get(url: string, agent: Agent, headers: Record<string, string>, expectHeader: string | undefined): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      res.resume();
      res.once("end", () => {
        if (res.statusCode !== 200) resolve(`status ${res.statusCode}`);
        else if (expectHeader !== undefined && res.headers[expectHeader] === undefined) resolve(`no ${expectHeader} header`);
        else resolve(undefined);
      });
      res.once("error", reject);
    });
    req.once("error", reject);
    req.end();
  });
}

async function runBatch(batch: BatchRequest): Promise<BatchReply> {
  let agent = agents.get(batch.concurrency);
  if (agent === undefined) agents.set(batch.concurrency, (agent = new Agent({ keepAlive: true, maxSockets: batch.concurrency })));
  let next = 0;
  let failure: string | undefined;
  const start = performance.now();
  const worker = async () => {
    while (next < batch.count && failure === undefined) {
      const due = start + (next++ * 1000) / batch.ratePerSecond;
      const wait = due - performance.now();
      if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
      failure = (await get(batch.url, agent, batch.headers, batch.expectHeader)) ?? failure;
    }
  };
  try {
    await Promise.all(Array.from({ length: batch.concurrency }, worker));
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  return failure === undefined ? { ok: true } : { ok: false, error: failure };
}

process.on("message", (message: BatchRequest) => {
  void runBatch(message).then((reply) => process.send?.(reply));
});
process.on("disconnect", () => process.exit(0));

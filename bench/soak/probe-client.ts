import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The preload that makes a gateway process answer probe requests (see gateway-probe.mjs). */
export const GATEWAY_PROBE = fileURLToPath(new URL("gateway-probe.mjs", import.meta.url));
/** Must match the constants of gateway-probe.mjs. */
const SAMPLE_MESSAGE = "protogate-soak-sample";
const SNAPSHOT_MESSAGE = "protogate-soak-heap-snapshot";

/** Event-loop delay over one interval, in ms beyond the timer's period. */
export interface EventLoopDelay {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What the probe inside the gateway reports (bytes). */
export interface ProbeReading {
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** Heap used just after the last major GC; null before the first one. */
  readonly heapAfterMajorGc: number | null;
  readonly majorGcs: number;
  /** Since the previous reading; null when the delay timer has not fired since (a blocked loop). */
  readonly eventLoopDelayMs: EventLoopDelay | null;
}

/** Talks to the probe of one gateway process over its IPC channel. */
export interface ProbeClient {
  /** The probe's reading, or undefined when it does not answer within `timeoutMs` (a blocked or dead gateway). */
  read(timeoutMs: number): Promise<ProbeReading | undefined>;
  /** Writes a heap snapshot of the gateway to `path` (blocks the gateway while it is written). */
  heapSnapshot(path: string, timeoutMs: number): Promise<string>;
}

interface Reply {
  readonly type?: string;
  readonly id?: number;
}

/** A client for the probe preloaded into `child` (spawned with an IPC channel). */
export function createProbeClient(child: ChildProcess): ProbeClient {
  let nextId = 1;
  const ask = <T extends Reply>(message: Record<string, unknown>, timeoutMs: number): Promise<T | undefined> =>
    new Promise((resolve) => {
      const id = nextId++;
      const finish = (reply: T | undefined) => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(reply);
      };
      const onMessage = (reply: T) => {
        if (reply?.type === message.type && reply.id === id) finish(reply);
      };
      const onExit = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      child.on("message", onMessage);
      child.once("exit", onExit);
      if (!child.connected) return finish(undefined);
      child.send({ ...message, id }, (error) => error && finish(undefined));
    });

  return {
    async read(timeoutMs) {
      const reply = await ask<Reply & ProbeReading>({ type: SAMPLE_MESSAGE }, timeoutMs);
      if (!reply) return undefined;
      const { heapUsed, heapTotal, external, arrayBuffers, heapAfterMajorGc, majorGcs, eventLoopDelayMs } = reply;
      return { heapUsed, heapTotal, external, arrayBuffers, heapAfterMajorGc, majorGcs, eventLoopDelayMs };
    },
    async heapSnapshot(path, timeoutMs) {
      const reply = await ask<Reply & { path: string }>({ type: SNAPSHOT_MESSAGE, path }, timeoutMs);
      if (!reply) throw new Error(`the gateway wrote no heap snapshot within ${timeoutMs} ms`);
      return reply.path;
    },
  };
}

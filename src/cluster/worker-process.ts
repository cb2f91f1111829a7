import type { Worker } from "node:cluster";
import type { ReloadRefusal } from "../reload/reload-refused.js";
import type { Timers } from "../timers.js";
import { isProtogateMessage, type PrimaryMessage, type WorkerMessage, type WorkerReplies, type WorkerRequest } from "./messages.js";

/** A worker process as the primary sees it (node:cluster's Worker; tests pass a fake). */
export interface WorkerProcess {
  readonly pid: number | undefined;
  send(message: PrimaryMessage): void;
  kill(signal: NodeJS.Signals): void;
  onMessage(listener: (message: WorkerMessage) => void): void;
  /** Once, when the process has exited (`code` or the `signal` that ended it). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
}

/** node:cluster's Worker as a WorkerProcess. */
export function clusterWorkerProcess(worker: Worker): WorkerProcess {
  return {
    pid: worker.process.pid,
    send: (message) => {
      // A worker that is exiting has closed its channel: what it would have answered is covered by the request's timeout.
      if (worker.isConnected()) worker.send(message);
    },
    kill: (signal) => {
      if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill(signal);
    },
    onMessage: (listener) => worker.on("message", (message: unknown) => isProtogateMessage<WorkerMessage>(message) && listener(message)),
    onExit: (listener) => worker.once("exit", listener),
  };
}

/** A worker did not answer a request in time, exited before it did, or answered with an error (`refusal`: a refused reload's). */
export class WorkerRequestError extends Error {
  override name = "WorkerRequestError";

  constructor(
    message: string,
    readonly refusal?: ReloadRefusal,
  ) {
    super(message);
  }
}

/**
 * Requests to one worker over its IPC channel, each answered by a reply with its id. A request
 * the worker does not answer within `timeoutMs` (or before it exits) fails: a stuck worker must
 * not hang a scrape or a readiness probe.
 */
export class WorkerChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: unknown }>();
  private exited = false;

  constructor(
    private readonly worker: WorkerProcess,
    private readonly timers: Timers,
  ) {
    worker.onMessage((message) => {
      if (message.protogate !== "reply") return;
      const waiting = this.pending.get(message.id);
      if (waiting === undefined) return;
      this.pending.delete(message.id);
      timers.clearTimeout(waiting.timer);
      if (message.error !== undefined) waiting.reject(new WorkerRequestError(message.error, message.refusal));
      else waiting.resolve(message.value);
    });
    worker.onExit(() => {
      this.exited = true;
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id);
        timers.clearTimeout(waiting.timer);
        waiting.reject(new WorkerRequestError("the worker exited before it answered"));
      }
    });
  }

  /** Asks the worker; its answer, or a WorkerRequestError. */
  request<K extends WorkerRequest["kind"]>(request: WorkerRequest & { readonly kind: K }, timeoutMs: number): Promise<WorkerReplies[K]> {
    if (this.exited) return Promise.reject(new WorkerRequestError("the worker has exited"));
    const id = this.nextId++;
    return new Promise<WorkerReplies[K]>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new WorkerRequestError(`the worker did not answer ${request.kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      // Boundary: the reply's value is what the worker's handler for this kind returned (messages.ts pairs them).
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.worker.send({ protogate: "request", id, request });
    });
  }
}

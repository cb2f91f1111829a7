import { get as httpGet } from "node:http";

/**
 * GET on a connection of its own: the status, or the connection error's code (ECONNREFUSED once
 * the listener is closed; "timeout" when `timeoutMs` passed without an answer).
 */
export function getOnNewConnection(url: string, timeoutMs?: number): Promise<number | string> {
  return new Promise((resolve) => {
    const request = httpGet(url, { agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
      response.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    }).on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    if (timeoutMs !== undefined) {
      request.setTimeout(timeoutMs, () => {
        resolve("timeout");
        request.destroy();
      });
    }
  });
}

/** Outcomes of a steady load: each request's status, or its connection error's code. */
export interface SteadyLoad {
  /** Every outcome so far, in the order they came. */
  readonly outcomes: ReadonlyArray<number | string>;
  /** Resolves once `count` more requests have been answered (or failed) from now. */
  more(count: number): Promise<void>;
  /** Stops sending; resolves with every outcome once the requests in flight are over. */
  stop(): Promise<ReadonlyArray<number | string>>;
}

/**
 * `concurrency` clients sending GET `url` back to back, each request on a new connection (so that
 * node:cluster spreads them over the workers), until `stop`. No pause between requests: the load
 * is as steady as the server lets it be. A request unanswered (and not failed) after `timeoutMs`
 * of socket inactivity is a "timeout".
 */
export function steadyLoad(url: () => string, concurrency: number, timeoutMs = 5_000): SteadyLoad {
  const outcomes: Array<number | string> = [];
  const waiters: Array<{ until: number; resolve: () => void }> = [];
  let running = true;
  const client = async (): Promise<void> => {
    while (running) {
      outcomes.push(await getOnNewConnection(url(), timeoutMs));
      for (let i = waiters.length - 1; i >= 0; i--) if (outcomes.length >= waiters[i].until) waiters.splice(i, 1)[0].resolve();
    }
  };
  const clients = Array.from({ length: concurrency }, client);
  return {
    outcomes,
    more: (count) => new Promise((resolve) => waiters.push({ until: outcomes.length + count, resolve })),
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return outcomes;
    },
  };
}

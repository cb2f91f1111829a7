import { Agent, get as httpGet, type IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";

/**
 * GET on a connection of its own: the status, or the connection error's code (ECONNREFUSED once
 * the listener is closed; "timeout" when `timeoutMs` passed without an answer).
 */
export async function getOnNewConnection(url: string, timeoutMs?: number): Promise<number | string> {
  const answer = await getWith(url, false, timeoutMs);
  return typeof answer === "string" ? answer : answer.status;
}

/** An answered GET: its status, headers, and the connection it came on. */
export interface Answered {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
}

/**
 * GET through `agent` (false: a connection of its own): the answer, or the connection error's
 * code ("timeout" when `timeoutMs` of socket inactivity passed without an answer).
 */
export function getWith(url: string, agent: Agent | false, timeoutMs?: number): Promise<Answered | string> {
  return new Promise((resolve) => {
    const request = httpGet(url, { agent }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, socket: response.socket }));
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
 * `concurrency` clients sending GET `url` back to back, until `stop`: by default each request on
 * a new connection (so that node:cluster spreads them over the workers); with `keepAlive`, each
 * client keeps one connection for as long as the server keeps it open (as browsers and HTTP
 * client libraries do). No pause between requests: the load is as steady as the server lets it
 * be. A request unanswered (and not failed) after `timeoutMs` of socket inactivity is a "timeout".
 */
export function steadyLoad(url: () => string, concurrency: number, timeoutMs = 5_000, { keepAlive = false } = {}): SteadyLoad {
  const outcomes: Array<number | string> = [];
  const waiters: Array<{ until: number; resolve: () => void }> = [];
  let running = true;
  const client = async (): Promise<void> => {
    const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    while (running) {
      const answer = await getWith(url(), agent, timeoutMs);
      outcomes.push(typeof answer === "string" ? answer : answer.status);
      for (let i = waiters.length - 1; i >= 0; i--) if (outcomes.length >= waiters[i].until) waiters.splice(i, 1)[0].resolve();
    }
    if (agent) agent.destroy();
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

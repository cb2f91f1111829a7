import { withoutRequestInfo } from "../../e2e/support/request-info.js";

/** The outcome of one request of a steady load. */
export interface LoadOutcome {
  /** When it was sent, ms since the load started. */
  readonly sentAt: number;
  /** When it was answered (or gave up), ms since the load started. */
  readonly doneAt: number;
  /** HTTP status; 0 for a transport error, -1 for a request still unanswered at its time limit. */
  readonly status: number;
  /** The response body (parsed when JSON). */
  readonly body: unknown;
}

export interface SteadyLoad {
  /** Stops sending and resolves once every request sent so far has its outcome. */
  stop(): Promise<LoadOutcome[]>;
  /** ms since the load started. */
  elapsed(): number;
  /** Resolves once the outcomes so far (in the order they came) satisfy `condition`, checked as each comes. */
  until(condition: (outcomes: readonly LoadOutcome[]) => boolean): Promise<void>;
}

/**
 * `concurrency` loops each sending `GET url` again as soon as the previous one is answered, each
 * request with its own time limit (so a request the gateway leaves hanging is counted, not waited for).
 */
export function startSteadyLoad(url: string, concurrency: number, requestTimeoutMs: number): SteadyLoad {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const outcomes: LoadOutcome[] = [];
  const waiters = new Set<{ condition: (outcomes: readonly LoadOutcome[]) => boolean; resolve(): void }>();
  let running = true;
  const loop = async () => {
    while (running) {
      const sentAt = elapsed();
      let status: number;
      let body: unknown;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(requestTimeoutMs) });
        status = response.status;
        const text = await response.text();
        try {
          body = withoutRequestInfo(JSON.parse(text), status, response.headers.get("x-request-id"));
        } catch {
          body = text;
        }
      } catch (error) {
        status = (error as Error).name === "TimeoutError" ? -1 : 0;
        body = String(error);
      }
      outcomes.push({ sentAt, doneAt: elapsed(), status, body });
      for (const waiter of waiters) {
        if (!waiter.condition(outcomes)) continue;
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    elapsed,
    until: (condition) => (condition(outcomes) ? Promise.resolve() : new Promise((resolve) => void waiters.add({ condition, resolve }))),
    async stop() {
      running = false;
      await Promise.all(loops);
      return outcomes.sort((a, b) => a.sentAt - b.sentAt);
    },
  };
}

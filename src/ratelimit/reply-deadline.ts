import type { Timers } from "../timers.js";

export { REAL_TIMERS } from "../timers.js";

/** The timers a reply deadline is armed with; tests pass manual ones to expire deadlines at will. */
export type DeadlineTimers = Pick<Timers, "setTimeout" | "clearTimeout">;

/** No reply within the deadline: the server did not answer in time (the event loop's lag is not counted). */
export class ReplyTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out: no reply within ${ms} ms`);
    this.name = "ReplyTimeoutError";
  }
}

/** How long to wait for a reply, on which timers, and whom to tell of a reply that came too late. */
export interface ReplyDeadline {
  readonly ms: number;
  readonly timers: DeadlineTimers;
  /** Called when a reply arrives after its call was given up as timed out: the server is alive. */
  readonly onLateReply?: () => void;
}

/**
 * Settles as `reply` does, or rejects with ReplyTimeoutError when the reply has not arrived
 * `deadline.ms` after this call (make it right after the command is written).
 *
 * The timer alone cannot tell a silent server from a busy event loop: Node runs expired timers
 * before it polls for I/O, so after the loop was blocked (a burst of new connections, a long
 * synchronous task) the timer fires while the reply may already sit unread in the socket. So
 * the expired timer only schedules the verdict with setImmediate, which runs after the next
 * poll phase: a reply that is already readable is parsed there and wins. A timeout therefore
 * means no reply had arrived when the loop next looked, at least `ms` after the write.
 */
export function awaitReply<T>(reply: Promise<T>, deadline: ReplyDeadline): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let answered = false;
    let timedOut = false;
    const timer = deadline.timers.setTimeout(() => {
      setImmediate(() => {
        if (answered) return;
        timedOut = true;
        reject(new ReplyTimeoutError(deadline.ms));
      });
    }, deadline.ms);
    reply.then(
      (value) => {
        if (timedOut) return deadline.onLateReply?.();
        answered = true;
        deadline.timers.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        // A call given up already may still fail later (its connection closes): nothing left to decide.
        if (timedOut) return;
        answered = true;
        deadline.timers.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The clock and timers time-dependent code takes, so that tests drive time by hand instead of
 * sleeping (the body reader, stream idle timeouts and keep-alives, the Redis reply deadline).
 */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's clock and timers. */
export const REAL_TIMERS: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Waits for `promise` to settle, at most `ms` on `timers`: whether it did (its outcome is then
 * left to whoever awaits it). Keep-alives use it to tell a quiet stream from a slow reply.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number, timers: Timers): Promise<{ done: boolean }> {
  let timer: unknown;
  const timeout = new Promise<{ done: false }>((resolve) => (timer = timers.setTimeout(() => resolve({ done: false }), ms)));
  const settled = promise.then(
    () => ({ done: true }),
    () => ({ done: true }),
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    timers.clearTimeout(timer);
  }
}

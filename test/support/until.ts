/**
 * A condition over state that tests change by calling methods (fake workers, fake loggers): each
 * change calls `changed()`, and `until(check)` resolves at the first change after which `check`
 * holds (at once if it already does). Tests wait for the event that makes a condition true, never
 * poll on real time (see the README's "Tests that wait for events, not time").
 */
export class Changes {
  private readonly waiting: Array<{ check: () => boolean; resolve: () => void }> = [];

  /** Something the conditions read changed. */
  changed(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].check()) this.waiting.splice(i, 1)[0].resolve();
    }
  }

  /** Resolves once `check()` holds. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ check, resolve }));
  }
}

/**
 * A guard, not a wait: `promise`, or a rejection naming `what` once `ms` have passed without it
 * settling, so that a wait whose event never comes fails the test with a reason (and lets its
 * `finally` clean up) instead of running into the test's own timeout.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not so within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

import type { Exchange } from "../../../src/observe/exchange.js";
import type { ExchangeObserver } from "../../../src/observe/observer.js";

/** What a test sees of the gateway's exchanges as they end. */
export interface ExchangeWatch {
  /** Pass to `startTestGateway(..., { observe: { observers: [watch.observer] } })`. */
  readonly observer: ExchangeObserver;
  /** Every exchange that has ended, in order. */
  readonly ended: readonly Exchange[];
  /** Resolves once `count` exchanges in all have ended (no waiting on time). */
  reached(count: number): Promise<void>;
  /** The next `count` exchanges to end after the ones already taken by `next`. */
  next(count?: number): Promise<Exchange[]>;
}

/** Watches the ends of exchanges (the responses being over), for end-to-end tests. */
export function watchExchanges(): ExchangeWatch {
  const ended: Exchange[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let taken = 0;
  const noop = () => undefined;
  const reached = (count: number): Promise<void> => (ended.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })));
  return {
    observer: {
      started: noop,
      upstreamStarted: noop,
      upstreamEnded: noop,
      streamMessage: noop,
      ended: (exchange) => {
        ended.push(exchange);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i].count <= ended.length) waiters.splice(i, 1)[0].resolve();
        }
      },
    },
    ended,
    reached,
    async next(count = 1) {
      const from = taken;
      taken += count;
      await reached(taken);
      return ended.slice(from, taken);
    },
  };
}

import type { Exchange, StreamDirection } from "./exchange.js";

/** Metadata the upstream call will carry; an observer may append (trace context). */
export type OutgoingMetadata = Array<[string, string | Buffer]>;

/**
 * What the pipeline tells the gateway's observers (metrics, tracing, access log) about each
 * request, in order: started, then (if the request got that far) upstreamStarted and
 * upstreamEnded, streamMessage for each message of a stream, and ended once the response is
 * over (written, or abandoned by the client). Every hook is synchronous and must not throw.
 */
export interface ExchangeObserver {
  started(exchange: Exchange): void;
  /** The upstream call is about to start with `metadata` (append to it to propagate context). */
  upstreamStarted(exchange: Exchange, metadata: OutgoingMetadata): void;
  upstreamEnded(exchange: Exchange): void;
  streamMessage(exchange: Exchange, direction: StreamDirection): void;
  ended(exchange: Exchange): void;
}

/** Observes nothing (observability off). */
export const NO_OBSERVER: ExchangeObserver = {
  started: () => undefined,
  upstreamStarted: () => undefined,
  upstreamEnded: () => undefined,
  streamMessage: () => undefined,
  ended: () => undefined,
};

/** One observer that tells each of `observers` in turn (the no-op when there are none). */
export function combineObservers(observers: readonly ExchangeObserver[]): ExchangeObserver {
  if (observers.length === 0) return NO_OBSERVER;
  if (observers.length === 1) return observers[0]!;
  return {
    started: (exchange) => {
      for (const observer of observers) observer.started(exchange);
    },
    upstreamStarted: (exchange, metadata) => {
      for (const observer of observers) observer.upstreamStarted(exchange, metadata);
    },
    upstreamEnded: (exchange) => {
      for (const observer of observers) observer.upstreamEnded(exchange);
    },
    streamMessage: (exchange, direction) => {
      for (const observer of observers) observer.streamMessage(exchange, direction);
    },
    ended: (exchange) => {
      for (const observer of observers) observer.ended(exchange);
    },
  };
}

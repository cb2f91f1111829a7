import type { GatewayError } from "../errors/gateway-error.js";
import type { RequestHead } from "../gateway/request.js";
import { Exchange, type StreamDirection } from "./exchange.js";
import { NO_OBSERVER, type ExchangeObserver, type OutgoingMetadata } from "./observer.js";
import { randomRequestId, REQUEST_ID_HEADER, requestIdOf } from "./request-id.js";

/** What the recorder needs; tests inject the clock and the ID generator. */
export interface ExchangeRecorderOptions {
  readonly observer?: ExchangeObserver;
  /** Milliseconds on a monotonic clock (performance.now() by default). */
  readonly now?: () => number;
  /** New request IDs (random UUIDs by default). */
  readonly newRequestId?: () => string;
}

/**
 * The one place the pipeline and the adapter record what happens to a request: it creates the
 * Exchange (with its request ID), keeps its timings and outcome, adds the request ID to the
 * upstream metadata, and tells the observers at each step.
 */
export class ExchangeRecorder {
  private readonly observer: ExchangeObserver;
  private readonly now: () => number;
  private readonly newRequestId: () => string;
  /** Exchanges begun and not yet ended. */
  private open = 0;
  private whenSettled: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(options: ExchangeRecorderOptions = {}) {
    this.observer = options.observer ?? NO_OBSERVER;
    this.now = options.now ?? (() => performance.now());
    this.newRequestId = options.newRequestId ?? randomRequestId;
  }

  /** A request arrived: its Exchange, its request ID taken from the client when sane. */
  begin(head: RequestHead): Exchange {
    const exchange = new Exchange(requestIdOf(head.headers[REQUEST_ID_HEADER], this.newRequestId), head, this.now());
    this.open++;
    this.observer.started(exchange);
    return exchange;
  }

  /** The upstream call starts: the request ID (and the observers' context) join its metadata. */
  upstreamStarted(exchange: Exchange, metadata: OutgoingMetadata): OutgoingMetadata {
    exchange.upstreamStartedAt = this.now();
    metadata.push([REQUEST_ID_HEADER, exchange.requestId]);
    this.observer.upstreamStarted(exchange, metadata);
    return metadata;
  }

  /** The upstream call ended with `grpcCode` (once; a second end is ignored). */
  upstreamEnded(exchange: Exchange, grpcCode: number): void {
    if (exchange.upstreamStartedAt === undefined || exchange.upstreamMs !== undefined) return;
    exchange.upstreamMs = this.now() - exchange.upstreamStartedAt;
    exchange.upstreamCode = grpcCode;
    this.observer.upstreamEnded(exchange);
  }

  streamMessage(exchange: Exchange, direction: StreamDirection): void {
    this.observer.streamMessage(exchange, direction);
  }

  /** The request failed with `error` (the first outcome recorded wins). */
  failed(exchange: Exchange, error: GatewayError): void {
    exchange.settle(error.code, error);
  }

  /** The response is over: written (`status`, `bytesOut` set by the adapter) or abandoned. */
  end(exchange: Exchange): void {
    if (exchange.durationMs !== undefined) return;
    exchange.durationMs = this.now() - exchange.startedAt;
    this.observer.ended(exchange);
    if (--this.open === 0 && this.whenSettled !== undefined) {
      const settled = this.whenSettled;
      this.whenSettled = undefined;
      settled.resolve();
    }
  }

  /**
   * Resolves once no exchange this recorder began is open (at once if none is): a generation
   * swapped out by a reload closes its resources then. Exchanges begun after the call count too.
   */
  settled(): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    if (this.whenSettled === undefined) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((done) => (resolve = done));
      this.whenSettled = { promise, resolve };
    }
    return this.whenSettled.promise;
  }
}

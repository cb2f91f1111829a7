import { createLogThrottle, type WarnLog } from "../../log-throttle.js";
import { createOtlpHttpTransport, type OtlpTransport } from "./otlp-http.js";
import { OtlpSpanBatch, type SpanSource } from "./otlp-spans.js";

/** When a batch leaves and how much may wait. */
export interface BatchLimits {
  /** A batch leaves once it holds this many spans... */
  readonly maxBatchSpans: number;
  /** ...or this long after its first span. */
  readonly scheduledDelayMs: number;
  /** Batches waiting for the collector at most; beyond that new batches are dropped, never waited for. */
  readonly maxQueuedBatches: number;
}

/*
 * 1024-span batches (512 requests), sent at most 5 s after their first span; four batches may
 * wait while one is on its way, so a slow collector costs spans, never the gateway's memory or
 * its requests' time. (With the SDK's batch processor the batch size made no difference the bench
 * could see between 64 and 1024 spans.)
 */
export const BATCH: BatchLimits = { maxBatchSpans: 1_024, scheduledDelayMs: 5_000, maxQueuedBatches: 4 };

/** The timers the sink schedules exports with (tests drive them by hand). */
export interface SinkTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unreferenced: a pending export never keeps the process alive. */
const UNREF_TIMERS: SinkTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface SpanSinkOptions {
  readonly source: SpanSource;
  /** The collector's OTLP/HTTP traces URL. */
  readonly endpoint: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** How long one export may take before it is abandoned. */
  readonly timeoutMs: number;
  readonly log: WarnLog;
  readonly limits?: BatchLimits;
  /** How bodies reach the collector (default: OTLP/HTTP to `endpoint`). */
  readonly transport?: OtlpTransport;
  readonly timers?: SinkTimers;
}

/**
 * Where the tracing observer writes spans: the batch being filled, and the export of full batches
 * to the collector (OTLP/HTTP, protobuf: otlp-http.ts), one request at a time. A failed
 * export is not retried: its spans are dropped and a warning names the endpoint and the reason
 * (at most one line per 10 s).
 */
export class SpanSink {
  readonly batch: OtlpSpanBatch;
  private readonly limits: BatchLimits;
  private readonly queue: Buffer[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly warn: (key: string, details: object, message: string) => void;
  private readonly transport: OtlpTransport;
  private readonly timers: SinkTimers;
  private scheduled: unknown = undefined;
  private sending = false;

  constructor(private readonly options: SpanSinkOptions) {
    this.batch = new OtlpSpanBatch(options.source);
    this.limits = options.limits ?? BATCH;
    this.warn = createLogThrottle(options.log);
    this.transport = options.transport ?? createOtlpHttpTransport(options);
    this.timers = options.timers ?? UNREF_TIMERS;
  }

  /** The observer wrote one span into `batch`. */
  spanWritten(): void {
    if (this.batch.count >= this.limits.maxBatchSpans) this.ship();
    else if (this.batch.count === 1) this.scheduled = this.timers.setTimeout(() => this.ship(), this.limits.scheduledDelayMs);
  }

  /** Sends what is left, then closes the collector connection. */
  async close(): Promise<void> {
    await this.flush();
    this.transport.close();
  }

  /** Sends every span written so far; resolves once the collector answered (or the export failed). */
  flush(): Promise<void> {
    this.ship();
    if (!this.sending && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Moves the batch being filled to the export queue. */
  private ship(): void {
    if (this.scheduled !== undefined) {
      this.timers.clearTimeout(this.scheduled);
      this.scheduled = undefined;
    }
    const spans = this.batch.count;
    const body = this.batch.take();
    if (body === undefined) return;
    if (this.queue.length >= this.limits.maxQueuedBatches) {
      this.warn("otlp-queue", { endpoint: this.options.endpoint, spans }, "span export queue full (the collector is slow or down); spans dropped");
      return;
    }
    this.queue.push(body);
    if (!this.sending) void this.sendQueued();
  }

  private async sendQueued(): Promise<void> {
    this.sending = true;
    for (let body = this.queue.shift(); body !== undefined; body = this.queue.shift()) {
      try {
        await this.transport.send(body);
      } catch (error) {
        this.warn("otlp-export", { endpoint: this.options.endpoint, bytes: body.length, reason: error instanceof Error ? error.message : String(error) }, "span export failed; its spans are dropped");
      }
    }
    this.sending = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/**
 * Flow control of one upstream stream, shared by both transports: the bounded queue of response
 * messages waiting for `read()`, the wait of `write()` for a transport that cannot take more,
 * and the stream's `headers` promise.
 */

/**
 * How many response messages (and bytes) a stream holds for its reader before it stops reading
 * from the upstream. Small on purpose: the memory of a stream whose HTTP client reads slowly
 * must not grow with the upstream's speed. Reading stops (the transport pauses its stream, so
 * HTTP/2 flow control stops the upstream) once either bound is reached, and starts again once
 * `read()` has taken the queue down to half of both. One network chunk is decoded whole, so the
 * queue can pass the bounds by the messages of that one chunk.
 */
export const STREAM_READ_BUFFER = Object.freeze({ messages: 4, bytes: 64 * 1024 });

/** The transport's switch for reading from the upstream. */
export interface ReadSwitch {
  pause(): void;
  resume(): void;
}

/** A call's end as a reader sees it: `null` for OK, else the error that reads reject with. */
type Outcome = { readonly error: unknown } | null;

const RESOLVED: Promise<undefined> = Promise.resolve(undefined);

/**
 * The response messages of one stream that have arrived and not yet been read, and its outcome.
 * Messages that arrived before a failure are read before it (a status after messages rejects the
 * read after them), except after `discard`.
 */
export class ResponseQueue {
  private readonly messages: Buffer[] = [];
  /** Index of the next message to read; the array is reset once read to its end. */
  private head = 0;
  private bytes = 0;
  private paused = false;
  private waiting: { resolve(message: Buffer | undefined): void; reject(error: unknown): void } | undefined;
  /** undefined while the call runs. */
  private outcome: Outcome | undefined;

  constructor(private readonly flow: ReadSwitch) {}

  /** Whether the call's outcome is known (further messages are dropped). */
  get ended(): boolean {
    return this.outcome !== undefined;
  }

  /** A message from the upstream: to the waiting read, else queued (pausing the transport when full). */
  push(message: Buffer): void {
    if (this.outcome !== undefined) return;
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting.resolve(message);
      return;
    }
    this.messages.push(message);
    this.bytes += message.byteLength;
    if (!this.paused && (this.messages.length - this.head >= STREAM_READ_BUFFER.messages || this.bytes >= STREAM_READ_BUFFER.bytes)) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** The call ended with OK: reads return the queued messages, then undefined. */
  end(): void {
    this.settle(null);
  }

  /** The call failed: reads return the queued messages, then reject with `error`. */
  fail(error: unknown): void {
    this.settle({ error });
  }

  /**
   * Drops the unread messages; reads reject with `error` from now on, unless the call had
   * already failed (then with its failure).
   */
  discard(error: unknown): void {
    this.messages.length = 0;
    this.head = 0;
    this.bytes = 0;
    if (this.outcome === undefined || this.outcome === null) this.outcome = { error };
    this.settleWaiting();
  }

  read(): Promise<Buffer | undefined> {
    if (this.waiting !== undefined) return Promise.reject(new Error("UpstreamStream.read: one read at a time"));
    if (this.head < this.messages.length) return Promise.resolve(this.take());
    const outcome = this.outcome;
    if (outcome === null) return RESOLVED;
    if (outcome !== undefined) return Promise.reject(outcome.error);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  private take(): Buffer {
    const message = this.messages[this.head];
    this.messages[this.head++] = EMPTY;
    this.bytes -= message.byteLength;
    if (this.head === this.messages.length) {
      this.messages.length = 0;
      this.head = 0;
    }
    if (this.paused && this.outcome === undefined && 2 * (this.messages.length - this.head) <= STREAM_READ_BUFFER.messages && 2 * this.bytes <= STREAM_READ_BUFFER.bytes) {
      this.paused = false;
      this.flow.resume();
    }
    return message;
  }

  private settle(outcome: Outcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    // The queue is empty whenever a read waits: the waiting read gets the outcome now.
    this.settleWaiting();
  }

  private settleWaiting(): void {
    const waiting = this.waiting;
    const outcome = this.outcome;
    if (waiting === undefined || outcome === undefined || this.head < this.messages.length) return;
    this.waiting = undefined;
    if (outcome === null) waiting.resolve(undefined);
    else waiting.reject(outcome.error);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The `write()`s waiting until the transport can take more (Node's 'drain' after a `write` that
 * returned false), released together, or rejected with the call's failure.
 */
export class WriteWait {
  private waiters: Array<{ resolve(): void; reject(error: unknown): void }> | undefined;

  /** Whether a write is waiting. */
  get pending(): boolean {
    return this.waiters !== undefined;
  }

  wait(): Promise<void> {
    return new Promise((resolve, reject) => (this.waiters ??= []).push({ resolve, reject }));
  }

  /** The transport drained (or the call ended with OK): every waiting write resolves. */
  release(): void {
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters) for (const waiter of waiters) waiter.resolve();
  }

  /** The call failed: every waiting write rejects with its failure. */
  fail(error: unknown): void {
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters) for (const waiter of waiters) waiter.reject(error);
  }
}

/** The stream's `headers`: settled once; a rejection nobody awaits is not an unhandled rejection. */
export class HeadersPromise<T> {
  readonly promise: Promise<T>;
  private settled = false;
  private resolveFn: (value: T) => void = noop;
  private rejectFn: (error: unknown) => void = noop;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // A caller that only reads messages need never look at the headers.
    this.promise.catch(noop);
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn(value);
  }

  reject(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
  }
}

function noop(): void {}

import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { UpstreamError } from "../upstream/upstream-error.js";
import type { UpstreamStream } from "../upstream/upstream.js";
import { admitOnBehalf, identityMetadata, upstreamOf, type BehalfRunner, type OnBehalfOf } from "./call-on-behalf.js";
import { IdleWatchdog } from "./idle-watchdog.js";
import type { PreparedRoute } from "./prepared-route.js";

/** One server-streaming RPC to open on a client's behalf. */
export interface BehalfStream {
  readonly route: PreparedRoute;
  /** Names the stream in errors, e.g. `subscription "subscribe" (demo.v1.ChatService/Subscribe)`. */
  readonly what: string;
  /** The request message's bytes, built only once the stream is admitted. */
  readonly request: () => Uint8Array;
}

/**
 * Opens a server-streaming RPC as if the client had called the method itself (its rule, its rate
 * limits, the caller's identity metadata, the method's stream deadline and idle timeout, never
 * past the request's deadline) and yields each reply's protobuf bytes. The upstream call is
 * cancelled when the consumer stops (`return()`, at once, even while a `next()` waits: an async
 * generator would queue the `return()` behind that read and leak the call), when
 * `onBehalf.cancelled` aborts, or at the idle timeout / deadline. Failures are thrown as
 * GatewayErrors or the call's UpstreamError. Flow control holds: the next message is read from
 * the upstream only when the consumer asks.
 */
export function streamOnBehalf(call: BehalfStream, onBehalf: OnBehalfOf, runner: BehalfRunner): AsyncIterableIterator<Uint8Array> {
  return new BehalfReplies(call, onBehalf, runner);
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

class BehalfReplies implements AsyncIterableIterator<Uint8Array> {
  private readonly opened: Promise<Opened>;
  private closed = false;
  private current: Opened | undefined;

  constructor(
    private readonly call: BehalfStream,
    private readonly onBehalf: OnBehalfOf,
    private readonly runner: BehalfRunner,
  ) {
    this.opened = this.open();
    this.opened.catch(() => undefined); // next() reports it
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.closed) return DONE;
    const opened = await this.opened;
    if (this.closed) return DONE;
    const { stream, idle } = opened;
    const { what, route } = this.call;
    let message: Uint8Array | undefined;
    try {
      message = await stream.read();
    } catch (thrown) {
      if (this.closed) return DONE; // the consumer stopped while this read waited
      this.finish();
      if (idle.fired) throw new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_STREAM_IDLE", `${what} was idle for ${route.stream.idleTimeoutMs} ms (no message)`, { cause: thrown });
      if (this.onBehalf.cancelled.aborted && thrown instanceof UpstreamError && thrown.origin === "cancelled") throw new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", `${what} was cancelled`, { cause: thrown });
      throw thrown;
    }
    if (message === undefined) {
      this.finish();
      return DONE;
    }
    idle.touch();
    return { done: false, value: message };
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    this.finish();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<Uint8Array>> {
    this.finish();
    throw error;
  }

  /** Stops the watchdog and cancels the call (nothing happens to a call that has ended); once open, if it is still opening. */
  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.current !== undefined) close(this.current);
    else this.opened.then(close, () => undefined);
  }

  private async open(): Promise<Opened> {
    const { call, onBehalf } = this;
    const { route, what } = call;
    const { timers } = this.runner;
    await admitOnBehalf(route, onBehalf, this.runner);
    if (route.binding.kind !== "server") throw new Error(`${what} is not a server-streaming method`); // the caller's bug
    const requestBytes = call.request();
    const upstream = upstreamOf(route);

    const left = onBehalf.deadlineAt - timers.now();
    if (left <= 0) throw new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_DEADLINE_EXCEEDED", `${what} had no time left to start`);
    const own = route.stream.deadlineMs;
    const timeoutMs = own === undefined ? (Number.isFinite(left) ? left : undefined) : Math.min(own, left);
    if (onBehalf.cancelled.aborted) throw new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", `${what} was cancelled`);

    const stream: UpstreamStream = upstream.stream({
      rpcPath: route.binding.rpcPath,
      metadata: identityMetadata(route, onBehalf, this.runner),
      deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
      timeoutMs,
      signal: onBehalf.cancelled,
    });
    stream.headers.catch(() => undefined); // its failure is what read() rejects with
    const opened: Opened = { stream, idle: new IdleWatchdog(route.stream.idleTimeoutMs, timers, () => stream.cancel()) };
    this.current = opened;
    if (this.closed) close(opened);
    else {
      await stream.write(requestBytes);
      stream.end();
    }
    return opened;
  }
}

interface Opened {
  readonly stream: UpstreamStream;
  readonly idle: IdleWatchdog;
}

function close({ stream, idle }: Opened): void {
  idle.stop();
  stream.cancel();
}

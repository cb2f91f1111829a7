import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import type { Timers } from "../timers.js";
import { UpstreamError } from "../upstream/upstream-error.js";
import type { CancelSignal, MetadataEntries, Upstream, UpstreamStream } from "../upstream/upstream.js";
import type { Exchange } from "../observe/exchange.js";
import type { ExchangeRecorder } from "../observe/exchange-recorder.js";
import { toGatewayError } from "../errors/to-gateway-error.js";
import { IdleWatchdog } from "./idle-watchdog.js";
import type { PreparedRoute } from "./prepared-route.js";

/** What opening a streaming call needs. */
export interface StreamOpening {
  readonly route: PreparedRoute;
  readonly upstream: Upstream;
  readonly metadata: MetadataEntries;
  /** The stream's deadline in ms from now, or undefined for none. */
  readonly timeoutMs: number | undefined;
  /** Aborted when the client goes away. */
  readonly signal: CancelSignal;
  /** The request the stream serves, and where its messages and end are recorded. */
  readonly exchange: Exchange;
  readonly recorder: ExchangeRecorder;
}

/**
 * An upstream streaming call opened for an admitted request (over HTTP or a WebSocket), with its
 * idle watchdog, and the one rule for what a failure means to the client: the idle timeout if it
 * fired, else the gateway's own reason to give up (a bad request message, a body that failed),
 * for which the call's CANCELLED then stands, else the call's own status.
 */
export class OpenStream {
  readonly call: UpstreamStream;
  readonly idle: IdleWatchdog;
  private givenUp: { reason: unknown } | undefined;
  private ending: { readonly signal: AbortSignal; readonly listener: () => void } | undefined;
  /** The upstream's header metadata once they have arrived. */
  headers: MetadataEntries | undefined;

  constructor(
    private readonly opening: StreamOpening,
    timers: Timers,
  ) {
    const { route, timeoutMs } = opening;
    this.call = opening.upstream.stream({
      rpcPath: route.binding.rpcPath,
      metadata: opening.metadata,
      deadline: timeoutMs === undefined ? undefined : timers.now() + timeoutMs,
      timeoutMs,
      signal: opening.signal,
    });
    this.idle = new IdleWatchdog(route.stream.idleTimeoutMs, timers, () => this.call.cancel());
    this.call.headers.then(
      (headers) => (this.headers = headers),
      () => undefined,
    );
  }

  /** Gives up on the call for `reason` (the first reason wins) and cancels it upstream. */
  giveUp(reason: unknown): void {
    this.givenUp ??= { reason };
    this.call.cancel();
  }

  /**
   * Gives up with `reason` when `signal` aborts (at once if it has): the gateway's shutdown
   * ending the streams still open at its drain deadline. `close` stops listening.
   */
  endOn(signal: AbortSignal, reason: () => unknown): void {
    if (signal.aborted) return this.giveUp(reason());
    const listener = (): void => this.giveUp(reason());
    signal.addEventListener("abort", listener, { once: true });
    this.ending = { signal, listener };
  }

  /** The gateway's reason to give up, if it did. */
  get failure(): unknown {
    return this.givenUp?.reason;
  }

  /** What `thrown` (a failure of the call) means to the client. */
  cause(thrown: unknown): unknown {
    if (this.idle.fired) {
      return new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_STREAM_IDLE", `the stream was idle for ${this.opening.route.stream.idleTimeoutMs} ms (no message in either direction)`);
    }
    if (this.givenUp !== undefined && thrown instanceof UpstreamError && thrown.origin === "cancelled") return this.givenUp.reason;
    return thrown;
  }

  /** The next reply (undefined at the end), any failure already translated by `cause`. */
  async read(): Promise<Uint8Array | undefined> {
    try {
      const message = await this.call.read();
      this.idle.touch();
      if (message === undefined) this.opening.recorder.upstreamEnded(this.opening.exchange, GrpcCode.OK);
      else this.opening.recorder.streamMessage(this.opening.exchange, "received");
      return message;
    } catch (thrown) {
      const cause = this.cause(thrown);
      this.opening.recorder.upstreamEnded(this.opening.exchange, thrown instanceof UpstreamError ? thrown.code : toGatewayError(cause).code);
      throw cause;
    }
  }

  /** Sends one request message (the watchdog sees the activity). */
  write(message: Uint8Array): Promise<void> {
    this.idle.touch();
    this.opening.recorder.streamMessage(this.opening.exchange, "sent");
    return this.call.write(message);
  }

  /** Stops the watchdog and cancels the call (nothing happens to a call that has ended). */
  close(): void {
    this.idle.stop();
    if (this.ending !== undefined) {
      this.ending.signal.removeEventListener("abort", this.ending.listener);
      this.ending = undefined;
    }
    this.call.cancel();
    // A call still open here is being cancelled (the client went away, or the gateway gave up).
    this.opening.recorder.upstreamEnded(this.opening.exchange, GrpcCode.CANCELLED);
  }
}

import { once } from "node:events";
import { openSync } from "node:fs";
import { pino } from "pino";
import type { WarnLog } from "../../log-throttle.js";
import { NO_OBSERVER, type ExchangeObserver } from "../observer.js";
import { accessLine, formatAccessLine, isFailure } from "./access-line.js";
import type { AccessLogConfig } from "./access-log-config.js";
import { createIsoClock } from "./iso-time.js";

/** Where lines go: one newline-terminated JSON text per call. */
export interface LineSink {
  write(line: string): unknown;
}

/** Test seams: the sampling's random source, the wall clock, and where the lines go. */
export interface AccessLogSeams {
  /** Uniform in [0, 1) (Math.random by default); a success is logged when it is below successSampleRate. */
  readonly random?: () => number;
  /** Milliseconds since the epoch, for the `time` field (Date.now by default). */
  readonly now?: () => number;
  /** Receives the lines instead of the configured destination (the test then owns it). */
  readonly stream?: LineSink;
}

/** The access log of a running gateway: its observer (none when off), and its close (flushes what is buffered). */
export interface AccessLog {
  readonly observers: readonly ExchangeObserver[];
  close(): Promise<void>;
}

/**
 * Lines buffered in memory at most while the destination is slower than the traffic (a stalled
 * pipe, a full disk): beyond this, lines are dropped (and counted in a warning) rather than
 * growing the heap without bound.
 */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/**
 * Lines are written in batches of about this many bytes (one system call for a dozen lines rather
 * than one each: an asynchronous write per line measured about 10 µs of CPU), and at least once
 * a second, so a quiet gateway's lines are not held back.
 */
const BATCH_BYTES = 4096;
const FLUSH_EVERY_MS = 1000;
/**
 * On stderr, each write is at most one pipe buffer (PIPE_BUF, 4 KiB on Linux) of whole lines
 * (sonic-boom batches whole writes), so it is atomic and never interleaves with the gateway's own
 * log lines written to the same pipe.
 */
const STDERR_MAX_WRITE = 4096;

/**
 * The access log (`accessLog` in gateway.yaml): one JSON line per ended request, written to
 * pino's asynchronous destination (sonic-boom) of its own, so `logging.level` cannot silence it
 * and the request path only appends to a buffer. `mode: off` gives no observer (the hot path
 * pays nothing) and nothing to close.
 */
export function createAccessLog(config: AccessLogConfig, warnLog: WarnLog, seams: AccessLogSeams = {}): AccessLog {
  if (config.mode === "off") return { observers: [], close: () => Promise.resolve() };
  const destination: OpenDestination = seams.stream ? { sink: seams.stream, end: () => Promise.resolve() } : openDestination(config.destination, warnLog);
  const { sink } = destination;
  const time = createIsoClock(seams.now);
  const random = seams.random ?? Math.random;
  const errorsOnly = config.mode === "errors";
  const rate = config.successSampleRate;
  const observer: ExchangeObserver = {
    ...NO_OBSERVER,
    ended: (exchange) => {
      if (!isFailure(exchange)) {
        if (errorsOnly || rate === 0) return;
        if (rate < 1 && random() >= rate) return;
      }
      sink.write(formatAccessLine(accessLine(exchange), time()));
    },
  };
  return { observers: [observer], close: () => destination.end() };
}

/** The asynchronous destination and how to end it. */
interface OpenDestination {
  readonly sink: LineSink;
  /** Writes what is buffered and closes the file (stderr stays open); at once after a write error. */
  end(): Promise<void>;
}

/**
 * stderr, or the file appended to (opened now, so a bad path fails the start with its error). A
 * write error later (a full disk, a closed pipe) is logged once by the gateway's logger instead of
 * crashing the process. pino flushes the buffer if the process exits without close().
 */
function openDestination(destination: string, warnLog: WarnLog): OpenDestination {
  const toStderr = destination === "stderr";
  const stream = pino.destination({
    fd: toStderr ? 2 : openSync(destination, "a"),
    sync: false,
    minLength: toStderr ? STDERR_MAX_WRITE / 2 : BATCH_BYTES,
    periodicFlush: FLUSH_EVERY_MS,
    maxLength: MAX_BUFFERED_BYTES,
    ...(toStderr && { maxWrite: STDERR_MAX_WRITE }),
  });
  let failed = false;
  stream.on("error", (error: Error) => {
    if (failed) return;
    failed = true;
    warnLog.warn({ err: error.message, destination }, "access log: write failed; later lines may be lost");
  });
  let dropped = 0;
  stream.on("drop", () => {
    if (dropped++ % 10_000 === 0) warnLog.warn({ dropped, destination }, "access log: the destination is slower than the traffic; lines dropped");
  });
  let ended: Promise<void> | undefined;
  return {
    sink: stream,
    end: () =>
      (ended ??= (async () => {
        // After a write error pino may have turned end() into a no-op: no 'close' would come.
        if (failed) return;
        const closed = once(stream, "close").then(
          () => undefined,
          () => undefined, // an 'error' while ending: already logged above
        );
        stream.end();
        await closed;
      })()),
  };
}

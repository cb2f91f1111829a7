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
 * Lines are handed to the destination in batches of about this many characters (a file: ~100
 * lines), and at least once a second so a quiet gateway's lines are not held back. Measured per
 * line (bench/access-log-cost.ts): an asynchronous write each cost ~10 µs of CPU; sonic-boom's own
 * buffering (minLength) ~3 µs, as it measures the byte length of its whole pending buffer on every
 * write; 8 KiB batches ~1.9 µs and 32 KiB ones ~1.1 µs above building the line.
 * On stderr a batch stays below one pipe buffer (PIPE_BUF, 4 KiB on Linux): each write is then
 * atomic and never interleaves with the gateway's own log lines on the same pipe (at a higher
 * cost per line: use a file for every request at high rates).
 */
const FILE_BATCH_CHARS = 32768;
const STDERR_BATCH_CHARS = 3072;
const STDERR_MAX_WRITE = 4096;
const FILE_MAX_WRITE = 64 * 1024;
const FLUSH_EVERY_MS = 1000;

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
 * stderr, or the file appended to (opened now, so a bad path fails the start with its error),
 * through pino's asynchronous destination (sonic-boom), fed in batches. A write error later (a
 * full disk, a closed pipe) is logged once by the gateway's logger instead of crashing the
 * process; a process that exits without close() writes what is pending synchronously.
 */
function openDestination(destination: string, warnLog: WarnLog): OpenDestination {
  const toStderr = destination === "stderr";
  const stream = pino.destination({
    fd: toStderr ? 2 : openSync(destination, "a"),
    sync: false,
    maxLength: MAX_BUFFERED_BYTES,
    maxWrite: toStderr ? STDERR_MAX_WRITE : FILE_MAX_WRITE,
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

  const batchChars = toStderr ? STDERR_BATCH_CHARS : FILE_BATCH_CHARS;
  let pending = "";
  const flush = (): void => {
    if (pending === "" || failed) return;
    stream.write(pending);
    pending = "";
  };
  const timer = setInterval(flush, FLUSH_EVERY_MS);
  timer.unref();
  // A process that exits without close() (a crash): the batch is written synchronously.
  const onExit = (): void => {
    flush();
    try {
      stream.flushSync();
    } catch {
      // Nothing more can be done on the way out.
    }
  };
  process.once("exit", onExit);
  let ended: Promise<void> | undefined;
  return {
    sink: {
      write: (line) => {
        if (pending.length + line.length > batchChars) flush();
        pending += line;
      },
    },
    end: () =>
      (ended ??= (async () => {
        clearInterval(timer);
        process.off("exit", onExit);
        flush();
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

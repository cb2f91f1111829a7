import { openSync } from "node:fs";
import { once } from "node:events";
import { pino, type DestinationStream, type Logger } from "pino";
import type { WarnLog } from "../../log-throttle.js";
import { NO_OBSERVER, type ExchangeObserver } from "../observer.js";
import { accessLine, isFailure } from "./access-line.js";
import type { AccessLogConfig } from "./access-log-config.js";

/** Test seams: the sampling's random source and where the lines go. */
export interface AccessLogSeams {
  /** Uniform in [0, 1) (Math.random by default); a success is logged when it is below successSampleRate. */
  readonly random?: () => number;
  /** Receives the lines instead of the configured destination (the test then owns it). */
  readonly stream?: DestinationStream;
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
 * On stderr, writes are at most one pipe buffer (PIPE_BUF, 4 KiB on Linux) and hold whole lines
 * (sonic-boom batches whole writes), so they stay atomic and never interleave with the gateway's
 * own log lines written to the same pipe.
 */
const STDERR_MAX_WRITE = 4096;
const ACCESS_MARK = Object.freeze({ log: "access" });

/**
 * The access log (`accessLog` in gateway.yaml): one JSON line per ended request through its own
 * pino instance, so `logging.level` cannot silence it, on an asynchronous sonic-boom destination
 * (the request path only appends to a buffer; writes happen off it, batched under load).
 * `mode: off` gives no observer (the hot path pays nothing) and nothing to close.
 */
export function createAccessLog(config: AccessLogConfig, warnLog: WarnLog, seams: AccessLogSeams = {}): AccessLog {
  if (config.mode === "off") return { observers: [], close: () => Promise.resolve() };
  const destination: OpenDestination = seams.stream ? { stream: seams.stream, end: () => Promise.resolve() } : openDestination(config.destination, warnLog);
  const logger = accessLogger(destination.stream);
  const random = seams.random ?? Math.random;
  const errorsOnly = config.mode === "errors";
  const rate = config.successSampleRate;
  return {
    observers: [
      {
        ...NO_OBSERVER,
        ended: (exchange) => {
          if (!isFailure(exchange)) {
            if (errorsOnly || rate === 0) return;
            if (rate < 1 && random() >= rate) return;
          }
          logger.info(accessLine(exchange));
        },
      },
    ],
    close: () => destination.end(),
  };
}

/**
 * Pino with only what an access line needs: `log: "access"` (to tell it apart on a shared stderr;
 * it takes the level's place, which says nothing here) and an ISO time; no pid or hostname.
 */
function accessLogger(destination: DestinationStream): Logger {
  return pino(
    {
      level: "info",
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: () => ACCESS_MARK },
    },
    destination,
  );
}

/** The asynchronous destination and how to end it. */
interface OpenDestination {
  readonly stream: DestinationStream;
  /** Writes what is buffered and closes the file (stderr stays open); at once after a write error. */
  end(): Promise<void>;
}

/**
 * stderr, or the file appended to (opened now, so a bad path fails the start with its error). A
 * write error later (a full disk, a closed pipe) is logged once by the gateway's logger instead of
 * crashing the process.
 */
function openDestination(destination: string, warnLog: WarnLog): OpenDestination {
  const toStderr = destination === "stderr";
  const stream = pino.destination({
    fd: toStderr ? 2 : openSync(destination, "a"),
    sync: false,
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
    stream,
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

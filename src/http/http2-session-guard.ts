import { constants, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";

/** Rapid-reset accounting of one HTTP/2 session (CVE-2023-44487). */
export interface ResetFloodLimits {
  /** Streams a session may open before the reset ratio is judged (Envoy's default is 500). */
  readonly minStreams: number;
  /** A session whose client reset more than this share of its streams early is closed. */
  readonly maxResetRatio: number;
}

export const DEFAULT_RESET_FLOOD_LIMITS: ResetFloodLimits = { minStreams: 500, maxResetRatio: 0.5 };

/** How long a session asked to close (idle, or draining) may take before it is destroyed. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Guards one server HTTP/2 session:
 * - **Rapid reset** (CVE-2023-44487): a client that opens streams and resets them before their
 *   response makes the server start work it then throws away, without the stream counting
 *   against `maxConcurrentStreams`. Like Envoy, count streams the client reset before their
 *   response ended; once a session has opened `minStreams`, more than `maxResetRatio` of them
 *   reset closes it with GOAWAY ENHANCE_YOUR_CALM. (nghttp2's own limit triggers later, and on
 *   Node 20 leaves the server's socket open and unread: a leaked connection per flood.)
 * - **Idle sessions** close after `idleTimeoutMs`, and are destroyed if a graceful close does
 *   not finish in a moment (a wedged session must not hold its socket forever).
 */
export function guardHttp2Session(session: ServerHttp2Session, idleTimeoutMs: number, limits: ResetFloodLimits = DEFAULT_RESET_FLOOD_LIMITS): void {
  let streams = 0;
  let resets = 0;
  session.on("stream", (stream: ServerHttp2Stream) => {
    streams++;
    stream.once("aborted", () => {
      resets++;
      if (streams >= limits.minStreams && resets > streams * limits.maxResetRatio && !session.destroyed) {
        session.destroy(new Error("HTTP/2 rapid reset: too many streams reset by the client"), constants.NGHTTP2_ENHANCE_YOUR_CALM);
      }
    });
  });
  // The error passed to destroy() above is the guard's own verdict, already acted on.
  session.on("error", () => undefined);
  session.setTimeout(idleTimeoutMs, () => closeGracefully(session));
}

/** Asks a session to finish (GOAWAY, in-flight streams complete), destroying it if that takes too long. */
export function closeGracefully(session: ServerHttp2Session, graceMs = CLOSE_GRACE_MS): void {
  if (session.closed || session.destroyed) return;
  session.close();
  setTimeout(() => session.destroyed || session.destroy(), graceMs).unref();
}

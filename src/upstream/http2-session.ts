import { connect, type ClientHttp2Session, type SecureClientSessionOptions } from "node:http2";
import { DEFAULT_RECONNECT_BACKOFF, type ReconnectBackoff, type UpstreamTls } from "./upstream-options.js";

export interface UpstreamConnectionOptions {
  tls?: UpstreamTls;
  /** Reconnection backoff after a failed connection attempt (tests shorten it). */
  backoff?: ReconnectBackoff;
  /** Clock in ms, for the backoff. */
  now?: () => number;
  /** Random source in [0, 1), for the backoff's jitter (tests fix it). */
  random?: () => number;
  /** How long an attempt may take until the upstream's SETTINGS arrive (TCP, TLS, HTTP/2 preface). */
  connectTimeoutMs?: number;
  /** Interval of keepalive pings; none unless set. */
  keepaliveTimeMs?: number;
  /** How long a ping may go unanswered before the connection is dropped (default 20 s). */
  keepaliveTimeoutMs?: number;
}

const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

const BACKOFF_JITTER = 0.2;
/**
 * A connection attempt that has not completed the HTTP/2 handshake by then is abandoned (a
 * blackholed address, a peer that accepts TCP and stays silent): its calls fail with UNAVAILABLE
 * rather than each waiting for its deadline, and the backoff starts.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Why no session can be had right now; the call fails with UNAVAILABLE and this text. */
export interface SessionUnavailable {
  readonly unavailable: string;
}
const MAX_SESSION_MEMORY_MB = 1024;

/**
 * One long-lived HTTP/2 connection to an upstream (`host:port`), made when a call first needs
 * it and again after the previous one closed, received GOAWAY or failed. Streams in flight on a
 * dying connection fail with it (Node destroys them); later calls get the next connection.
 * After an attempt that failed before the upstream's SETTINGS arrived (refused, reset, TLS
 * failure), calls fail at once for a backoff instead of connecting again each time, so a
 * down upstream under load gets one attempt per backoff, not one per request. Attempts are
 * only ever made for a call (there is no background reconnection), so the backoff's cap is
 * both the longest a restarted upstream waits for the gateway to notice, under load, and the
 * shortest interval between attempts to a down one (see `DEFAULT_RECONNECT_BACKOFF`). The
 * loss of a connection that had completed its handshake starts the next attempt at once and
 * the backoff from its start.
 *
 * The peer's SETTINGS_MAX_CONCURRENT_STREAMS is respected by nghttp2 (under `node:http2`): a
 * stream beyond the limit waits in its queue until another closes, so a call never gets a
 * REFUSED_STREAM for it; the call's deadline runs while it waits.
 */
export class UpstreamConnection {
  private current: ClientHttp2Session | undefined;
  private closed = false;
  /** Attempts in a row that failed before the upstream's SETTINGS. */
  private failedAttempts = 0;
  private retryAtMs = 0;
  private lastFailure = "";
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly url: string;
  private readonly connectOptions: SecureClientSessionOptions;

  constructor(
    address: string,
    private readonly options: UpstreamConnectionOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    const tls = options.tls;
    this.url = `${tls ? "https" : "http"}://${address}`;
    this.connectOptions = {
      settings: { enablePush: false },
      // Node's default (10 MB) fails a busy connection's streams with ENHANCE_YOUR_CALM; what a call
      // holds is bounded by the message limits and its deadline instead.
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      ...(tls && {
        ...(tls.ca !== undefined && { ca: tls.ca }),
        ...(tls.cert !== undefined && { cert: tls.cert }),
        ...(tls.key !== undefined && { key: tls.key }),
        // Node verifies the certificate against `servername` (SNI); without it, against the host.
        ...(tls.serverName !== undefined && { servername: tls.serverName }),
        ALPNProtocols: ["h2"],
      }),
    };
  }

  /** The live session, connecting when there is none; why not, once closed or while backing off. */
  session(): ClientHttp2Session | SessionUnavailable {
    const session = this.current;
    if (session !== undefined && !session.closed && !session.destroyed) return session;
    if (this.closed) return { unavailable: "The upstream was closed" };
    const waitMs = this.retryAtMs - this.now();
    if (waitMs > 0) return { unavailable: `Connection failed (${this.lastFailure}); next attempt in ${Math.ceil(waitMs)} ms` };
    return this.connect();
  }

  /** Destroys the session: calls in flight fail, later calls fail at once. */
  close(): void {
    this.closed = true;
    const session = this.current;
    this.current = undefined;
    session?.destroy();
  }

  private connect(): ClientHttp2Session {
    const session = connect(this.url, this.connectOptions);
    this.current = session;
    // An idle connection must not keep the process alive; a call in flight has its deadline timer.
    session.unref();
    const forget = () => {
      if (this.current === session) this.current = undefined;
    };
    const connectTimeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const connectTimer = setTimeout(() => session.destroy(new Error(`no HTTP/2 handshake within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    connectTimer.unref();
    // The attempt's outcome, decided once: the upstream's SETTINGS arrived, or it failed before them.
    let settled = false;
    const settle = (failure: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      if (failure === undefined) {
        this.failedAttempts = 0;
        this.retryAtMs = 0;
      } else if (!this.closed) {
        this.failedAttempts++;
        this.lastFailure = failure;
        this.retryAtMs = this.now() + backoffMs(this.options.backoff ?? DEFAULT_RECONNECT_BACKOFF, this.failedAttempts, this.random());
      }
    };
    session.once("remoteSettings", () => settle(undefined));
    // The error reaches every stream of the session, whose calls report it.
    session.on("error", (error: Error) => {
      settle(error.message);
      forget();
    });
    // After GOAWAY the session takes no new streams; the ones it accepted finish on it.
    session.on("goaway", forget);
    session.once("close", () => {
      settle("closed before the HTTP/2 handshake");
      forget();
    });
    if (this.options.keepaliveTimeMs !== undefined) this.keepAlive(session, this.options.keepaliveTimeMs);
    return session;
  }

  private keepAlive(session: ClientHttp2Session, intervalMs: number): void {
    const timeoutMs = this.options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    const interval = setInterval(() => {
      if (session.destroyed) return;
      const watchdog = setTimeout(() => session.destroy(new Error(`keepalive ping unanswered for ${timeoutMs} ms`)), timeoutMs);
      watchdog.unref();
      const sent = session.ping((error) => {
        clearTimeout(watchdog);
        if (error && !session.destroyed) session.destroy(error);
      });
      if (!sent) clearTimeout(watchdog);
    }, intervalMs);
    interval.unref();
    session.once("close", () => clearInterval(interval));
  }
}

/** The pause before attempt `failedAttempts + 1`, with jitter (`random` in [0, 1)) so that replicas do not reconnect in step. */
export function backoffMs(backoff: ReconnectBackoff, failedAttempts: number, random: number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failedAttempts - 1, 30));
  return base * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * random);
}

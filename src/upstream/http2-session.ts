import { connect, type ClientHttp2Session, type SecureClientSessionOptions } from "node:http2";
import type { UpstreamConnectionState } from "./upstream.js";
import type { SessionUnavailable } from "./grpc-exchange.js";
import { ReconnectGate, type ReconnectGateOptions } from "./reconnect-gate.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS, type UpstreamTls } from "./upstream-options.js";

export interface UpstreamConnectionOptions extends ReconnectGateOptions {
  tls?: UpstreamTls;
  /** How long an attempt may take until the upstream's SETTINGS arrive (TCP, TLS, HTTP/2 preface). */
  connectTimeoutMs?: number;
  /** Interval of keepalive pings; none unless set. */
  keepaliveTimeMs?: number;
  /** How long a ping may go unanswered before the connection is dropped (default 20 s). */
  keepaliveTimeoutMs?: number;
}

const MAX_SESSION_MEMORY_MB = 1024;

/**
 * One long-lived HTTP/2 connection to an upstream (`host:port`), made when a call first needs
 * it and again after the previous one closed, received GOAWAY or failed. Streams in flight on a
 * dying connection fail with it (Node destroys them); later calls get the next connection.
 * When attempts may be made is the `ReconnectGate`'s decision (the backoff after failed ones).
 *
 * The peer's SETTINGS_MAX_CONCURRENT_STREAMS is respected by nghttp2 (under `node:http2`): a
 * stream beyond the limit waits in its queue until another closes, so a call never gets a
 * REFUSED_STREAM for it; the call's deadline runs while it waits.
 */
export class UpstreamConnection {
  private current: ClientHttp2Session | undefined;
  private readonly gate: ReconnectGate;
  private readonly url: string;
  private readonly connectOptions: SecureClientSessionOptions;
  /** The current session's handshake is done; the last attempt failed (for `state`, never the hot path). */
  private handshaken = false;
  private lastAttemptFailed = false;

  constructor(
    address: string,
    private readonly options: UpstreamConnectionOptions = {},
  ) {
    this.gate = new ReconnectGate(options);
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
    return this.gate.refusal() ?? this.connect();
  }

  /** The connection's state in gRPC's terms (for readiness reports). */
  state(): UpstreamConnectionState {
    if (this.gate.closed) return "shutdown";
    const session = this.current;
    if (session !== undefined && !session.closed && !session.destroyed) return this.handshaken ? "ready" : "connecting";
    return this.lastAttemptFailed ? "transient_failure" : "idle";
  }

  /** Destroys the session: calls in flight fail, later calls fail at once. */
  close(): void {
    this.gate.closed = true;
    const session = this.current;
    this.current = undefined;
    session?.destroy();
  }

  private connect(): ClientHttp2Session {
    const session = connect(this.url, this.connectOptions);
    this.current = session;
    this.handshaken = false;
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
      if (this.current === session) this.handshaken = failure === undefined;
      this.lastAttemptFailed = failure !== undefined;
      if (failure === undefined) this.gate.succeeded();
      else this.gate.failed(failure);
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

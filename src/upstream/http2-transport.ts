import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type OutgoingHttpHeaders } from "node:http2";
import type { ExchangeStream, ExchangeTransport, GrpcExchange, RequestHead, SessionUnavailable } from "./grpc-exchange.js";
import { addMetadataHeaders } from "./grpc-wire-metadata.js";
import type { UpstreamConnection } from "./http2-session.js";
import { USER_AGENT } from "./upstream-options.js";

const REQUEST_OPTIONS = Object.freeze({ endStream: false });

/** The port a `ClientHttp2Stream` belongs to; the stream listeners are shared functions that look it up. */
const PORT = Symbol("protogate.http2Port");
type PortStream = ClientHttp2Stream & { [PORT]?: Http2Port };

/** Streams of `node:http2` sessions of one `UpstreamConnection`, for `GrpcExchange`s. */
export class Http2Transport implements ExchangeTransport {
  constructor(
    private readonly connection: UpstreamConnection,
    /** `:authority` when the TLS server name overrides the address; Node's default otherwise. */
    private readonly authority: string | undefined,
  ) {}

  open(exchange: GrpcExchange, head: RequestHead): ExchangeStream | SessionUnavailable {
    const session = this.connection.session();
    if ("unavailable" in session) return session;
    const stream: PortStream = session.request(this.requestHeaders(head), REQUEST_OPTIONS);
    const port = new Http2Port(exchange, session, stream);
    stream[PORT] = port;
    stream.on("response", onStreamResponse);
    stream.on("data", onStreamData);
    stream.on("trailers", onStreamTrailers);
    stream.on("error", onStreamError);
    stream.on("close", onStreamClose);
    if (exchange.streaming) {
      stream.on("drain", onStreamDrain);
      stream.on("end", onStreamEnd);
    }
    return port;
  }

  private requestHeaders(head: RequestHead): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": head.path,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": USER_AGENT,
    };
    if (head.timeout !== undefined) headers["grpc-timeout"] = head.timeout;
    if (this.authority !== undefined) headers[":authority"] = this.authority;
    addMetadataHeaders(headers, head.metadata);
    return headers;
  }
}

/** One `ClientHttp2Stream` as its exchange drives it, and what the stream saw for the exchange's outcome. */
class Http2Port implements ExchangeStream {
  /** The session failed under the stream (refused, reset, TLS, closed), rather than the upstream resetting it. */
  connectionError: Error | undefined;

  constructor(
    readonly exchange: GrpcExchange,
    readonly session: ClientHttp2Session,
    readonly stream: ClientHttp2Stream,
  ) {}

  write(bytes: Buffer): boolean {
    return !this.stream.destroyed && this.stream.write(bytes);
  }

  end(bytes?: Buffer): void {
    if (this.stream.destroyed) return;
    if (bytes === undefined) this.stream.end();
    else this.stream.end(bytes);
  }

  reset(code: number): void {
    if (this.stream.closed) return;
    // After a normal end whose request side has ended too, the stream closes by itself: no
    // RST_STREAM. nghttp2 servers (Node's, so grpc-js) count received resets against their
    // rapid-reset limit and close the connection (GOAWAY) after about a thousand.
    if (code === constants.NGHTTP2_NO_ERROR && this.stream.writableEnded) return;
    this.stream.close(code);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }
}

function portOf(stream: PortStream): Http2Port {
  return stream[PORT] as Http2Port;
}

function onStreamResponse(this: PortStream, headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
  portOf(this).exchange.handleResponse(headers, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0);
}
function onStreamData(this: PortStream, chunk: Buffer): void {
  portOf(this).exchange.handleData(chunk);
}
function onStreamTrailers(this: PortStream, trailers: IncomingHttpHeaders): void {
  portOf(this).exchange.handleTrailers(trailers);
}
function onStreamError(this: PortStream, error: Error & { code?: string }): void {
  // ERR_HTTP2_STREAM_ERROR is the upstream's RST_STREAM, read from `rstCode` on close.
  if (error.code !== "ERR_HTTP2_STREAM_ERROR") portOf(this).connectionError = error;
}
function onStreamClose(this: PortStream): void {
  const port = portOf(this);
  const connectionError = port.connectionError;
  port.exchange.handleClose({ rstCode: this.rstCode ?? constants.NGHTTP2_NO_ERROR, connectionError, connectionGone: port.session.destroyed, unsent: failedBeforeConnect(connectionError) });
}

/**
 * Errors of a connection attempt that failed before the socket connected (node:http2 does not say
 * whether it connected, the error's code does): nothing of the request was sent.
 */
const CONNECT_FAILURES: ReadonlySet<string> = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN"]);

function failedBeforeConnect(error: (Error & { code?: unknown; cause?: unknown }) | undefined): boolean {
  if (error === undefined) return false;
  const cause = error.cause as { code?: unknown } | undefined;
  return CONNECT_FAILURES.has(String(error.code)) || (cause !== undefined && cause !== null && CONNECT_FAILURES.has(String(cause.code)));
}
/** 'end' of a streaming call's response: the upstream may end its side before ours (see handleRemoteEnd). */
function onStreamEnd(this: PortStream): void {
  portOf(this).exchange.handleRemoteEnd();
}
function onStreamDrain(this: PortStream): void {
  portOf(this).exchange.handleDrain();
}

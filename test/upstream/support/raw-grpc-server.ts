import { createSecureServer, createServer, type Http2SecureServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type SecureServerOptions, type ServerHttp2Stream, type Settings } from "node:http2";

/** One request as the raw server saw it. */
export interface RawRequest {
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  /** Header name/value pairs in wire order (repeated fields visible). */
  readonly rawHeaders: readonly string[];
  /** The request body, once the client ended it. */
  readonly body: Promise<Buffer>;
}

export type RawHandler = (request: RawRequest) => void;

/** A hand-driven HTTP/2 server: each test answers the gRPC wire protocol (or breaks it) as it likes. */
export interface RawGrpcServer {
  readonly port: number;
  readonly address: string;
  /** Sessions accepted so far, open or not. */
  readonly sessions: Http2Session[];
  /** Handlers by method name (the last `:path` segment). */
  readonly handlers: Map<string, RawHandler>;
  /** Stops listening and destroys every session (an abrupt stop: sockets are closed). */
  destroy(): Promise<void>;
}

export async function startRawGrpcServer(options: { port?: number; settings?: Settings; tls?: SecureServerOptions } = {}): Promise<RawGrpcServer> {
  const server: Http2Server | Http2SecureServer = options.tls ? createSecureServer({ ...options.tls, settings: options.settings }) : createServer({ settings: options.settings });
  const sessions: Http2Session[] = [];
  const handlers = new Map<string, RawHandler>();
  server.on("session", (session: Http2Session) => {
    sessions.push(session);
    session.on("error", () => undefined);
  });
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    stream.on("error", () => undefined);
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const body = new Promise<Buffer>((resolve) => stream.on("end", () => resolve(Buffer.concat(chunks))));
    const method = String(headers[":path"] ?? "").split("/").pop() ?? "";
    const handler = handlers.get(method);
    if (handler) handler({ stream, headers, rawHeaders, body });
    else stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "unknown method" }, { endStream: true });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
  return {
    port,
    address: `127.0.0.1:${port}`,
    sessions,
    handlers,
    destroy: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}

/**
 * Resolves once the client has read every frame queued on `session` so far (or once the session
 * is gone, when nothing more will be read). A peer answers a PING after the frames before it,
 * but nghttp2 sends a PING ahead of the HEADERS, GOAWAY and DATA queued with it: the first ACK
 * shows that those have gone out, the ACK of a second PING, sent after them, that they were read.
 */
export async function clientHasRead(session: Http2Session | undefined): Promise<void> {
  for (let i = 0; i < 2; i++) if (!(await pingAnswered(session))) return;
}

/** Whether a PING on `session` was answered (false when the session is or goes away first). */
function pingAnswered(session: Http2Session | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (session === undefined || session.destroyed || session.closed) return resolve(false);
    if (!session.ping((error) => resolve(error === null))) resolve(false);
  });
}

/** `message` with its 5-byte gRPC prefix; `flag` 1 marks it compressed. */
export function grpcFrame(message: Uint8Array, flag = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([prefix, message]);
}

/** Answers like a gRPC server: headers, the frames, then trailers with `grpc-status` 0 and `trailers`. */
export function replyOk(stream: ServerHttp2Stream, body: Buffer, trailers: Record<string, string | string[]> = {}, headers: Record<string, string | string[]> = {}): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc", ...headers }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", ...trailers }));
  stream.end(body);
}

/** Headers, then `body` if any, then RST_STREAM `rstCode`; waitForTrailers keeps Node from ending the stream (END_STREAM) before the reset. */
export function resetAfter(body: Buffer | undefined, rstCode: number): (stream: ServerHttp2Stream) => void {
  return (stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    if (body === undefined) setImmediate(() => stream.close(rstCode));
    else stream.write(body, () => stream.close(rstCode));
  };
}

/** A trailers-only response: one HEADERS frame with END_STREAM. */
export function trailersOnly(headers: Record<string, string>): (stream: ServerHttp2Stream) => void {
  return (stream) => stream.respond({ ":status": 200, ...headers }, { endStream: true });
}

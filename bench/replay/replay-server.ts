import { createServer, type Server, type Socket } from "node:net";
import { ECHOED_HEADER } from "../../src/demo/call-metadata.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { encodeReply, type EncodedReply } from "./encoded-reply.js";
import { H2ServerConnection, type Respond, type ServerRequest } from "./h2-server-connection.js";
import { MAX_CACHED_KEYS, ReplyCache, type ReplySource } from "./reply-cache.js";

export interface ReplayServerOptions {
  readonly host: string;
  /** 0: a free port. */
  readonly port: number;
  readonly source: ReplySource;
  /** Paths of streaming methods: answered UNIMPLEMENTED (out of the replay backend's scope). */
  readonly streamingPaths: ReadonlySet<string>;
  readonly maxKeys?: number;
}

export interface ReplayServer {
  /** `host:port`. */
  readonly address: string;
  readonly cache: ReplyCache;
  /** Open connections, and their open streams (for leak checks). */
  connections(): number;
  openStreams(): number;
  /** GOAWAY to every connection, then stops listening. */
  close(): Promise<void>;
}

const STREAMING_UNIMPLEMENTED: EncodedReply = encodeReply({ kind: "status", code: GrpcCode.UNIMPLEMENTED, message: "streaming methods are not served by the bench's replay backend", trailers: [] });
const COMPRESSED_UNIMPLEMENTED: EncodedReply = encodeReply({ kind: "status", code: GrpcCode.UNIMPLEMENTED, message: "the bench's replay backend takes no compressed requests", trailers: [] });
const MALFORMED_REQUEST: EncodedReply = encodeReply({ kind: "status", code: GrpcCode.INTERNAL, message: "the request body is not one length-prefixed gRPC message", trailers: [] });

/**
 * The bench's replay backend: gRPC unary calls over h2c, answered with what the source (the real
 * demo backend) answered the first time for the same path and message (`ReplyCache`), at a small
 * fraction of a grpc-js server's CPU per call. Header metadata is the demo's: `x-request-id`
 * echoed when the request has one.
 */
export async function startReplayServer(options: ReplayServerOptions): Promise<ReplayServer> {
  const cache = new ReplyCache(options.source, options.maxKeys ?? MAX_CACHED_KEYS);
  const live = new Set<H2ServerConnection>();
  const handle = (request: ServerRequest, respond: Respond): void => {
    const requestId = request.headers[ECHOED_HEADER];
    const echo = typeof requestId === "string" ? [ECHOED_HEADER, requestId] : undefined;
    if (options.streamingPaths.has(request.path)) return respond(STREAMING_UNIMPLEMENTED, echo);
    const body = request.body;
    if (body.length < 5 || body[0] > 1 || body.readUInt32BE(1) !== body.length - 5) return respond(MALFORMED_REQUEST, echo);
    if (body[0] === 1) return respond(COMPRESSED_UNIMPLEMENTED, echo);
    const reply = cache.reply(request.path, body.subarray(5));
    if (reply instanceof Promise) void reply.then((encoded) => respond(encoded, echo));
    else respond(reply, echo);
  };
  const server: Server = createServer((socket: Socket) => {
    live.add(new H2ServerConnection(socket, handle, (connection) => live.delete(connection)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const bound = server.address();
  if (bound === null || typeof bound === "string") throw new Error("the replay server has no TCP address");
  const host = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
  return {
    address: `${host}:${bound.port}`,
    cache,
    connections: () => live.size,
    openStreams: () => [...live].reduce((sum, connection) => sum + connection.openStreams, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of live) connection.close();
        server.close(() => resolve());
      }),
  };
}

/** The paths of the streaming methods among ts-proto service definitions. */
export function streamingPaths(definitions: ReadonlyArray<Record<string, { path: string; requestStream: boolean; responseStream: boolean }>>): Set<string> {
  return new Set(definitions.flatMap((definition) => Object.values(definition).filter((method) => method.requestStream || method.responseStream).map((method) => method.path)));
}

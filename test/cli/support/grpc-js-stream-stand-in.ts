import { Client, credentials, Metadata, status as grpcStatus, type ClientDuplexStream, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import type { GrpcCode } from "../../../src/errors/grpc-code.js";
import { UpstreamError } from "../../../src/upstream/upstream-error.js";
import type { MetadataEntries, StreamCall, Upstream, UpstreamStream } from "../../../src/upstream/upstream.js";

/**
 * A bare-bones streaming `Upstream` over a grpc-js generic client, for tests that need the real
 * HTTP server and pipeline in front of a real streaming backend before the project's own
 * transports implement `Upstream.stream()` (being built on another branch). Every kind of
 * streaming call is a bidi call on the wire. It is NOT the gateway's transport: no size limits,
 * no connection-error classification, and unary calls are not supported.
 */
export function createGrpcJsStreamStandIn(address: string): Upstream {
  const client = new Client(address, credentials.createInsecure());
  return {
    call: () => Promise.reject(new Error("the streaming stand-in serves streaming calls only")),
    stream: (call) => openStream(client, call),
    close: () => client.close(),
  };
}

function openStream(client: Client, call: StreamCall): UpstreamStream {
  const metadata = new Metadata();
  for (const [key, value] of call.metadata) metadata.add(key, value);
  const duplex: ClientDuplexStream<Uint8Array, Buffer> = client.makeBidiStreamRequest(
    call.rpcPath,
    (message: Uint8Array) => Buffer.from(message),
    (bytes: Buffer) => bytes,
    metadata,
    { deadline: call.deadline ?? Infinity },
  );
  let cancelled = false;
  let trailers: MetadataEntries = [];
  const failure = (code: number, message: string, received: Metadata): UpstreamError =>
    new UpstreamError({ rpcPath: call.rpcPath, timeoutMs: call.timeoutMs ?? 0 }, { origin: cancelled ? "cancelled" : "upstream", code: code as GrpcCode, message, metadata: entries(received) });
  const headers = new Promise<MetadataEntries>((resolve, reject) => {
    duplex.once("metadata", (received: Metadata) => resolve(entries(received)));
    duplex.once("status", (status: StatusObject) => {
      trailers = entries(status.metadata);
      if (status.code !== grpcStatus.OK) reject(failure(status.code, status.details, status.metadata));
      resolve([]);
    });
  });
  headers.catch(() => undefined);
  // Pull-based reading: the iterator reads from the call only as `read()` is called.
  const replies = duplex[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const cancel = (): void => {
    if (cancelled) return;
    cancelled = true;
    duplex.cancel();
  };
  call.signal?.addEventListener("abort", cancel, { once: true });
  return {
    headers,
    async read() {
      try {
        const next = await replies.next();
        return next.done ? undefined : new Uint8Array(next.value);
      } catch (error) {
        const { code, details, metadata: received } = error as ServiceError;
        throw failure(code, details, received);
      }
    },
    trailers: () => trailers,
    write: (message) => new Promise<void>((resolve) => duplex.write(message, () => resolve())),
    end: () => void duplex.end(),
    cancel,
  };
}

function entries(metadata: Metadata): MetadataEntries {
  const list: Array<readonly [string, string | Buffer]> = [];
  for (const [key, values] of Object.entries(metadata.toJSON())) for (const value of values) list.push([key, value]);
  return list;
}

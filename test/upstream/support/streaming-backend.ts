import { Metadata, Server, ServerCredentials, status as GrpcStatus, type ServerDuplexStream, type ServerReadableStream, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation, type sendUnaryData } from "@grpc/grpc-js";

/** A real grpc-js server with streaming methods of every kind, and what it saw of each call. */
export interface StreamingBackend {
  readonly address: string;
  /** What the backend saw of the call whose `x-test-id` metadata is `id` (created on first use). */
  record(id: string): CallRecord;
  close(): void;
}

/** One call as the backend saw it. */
export interface CallRecord {
  /** Resolves when the handler started. */
  readonly arrived: Promise<void>;
  /** Request messages in arrival order. */
  readonly received: Buffer[];
  /** Response messages the handler's `write` accepted. */
  sent: number;
  /** Response messages whose `write` completed (grpc-js handed them on to HTTP/2, as flow control let it). */
  flushed: number;
  /** The handler's `write` returned false and it waits for 'drain' (the transport pushed back). */
  blocked: boolean;
  /** How often it had to wait for 'drain'. */
  drainWaits: number;
  cancelled: boolean;
  /** Resolves when the backend saw the call cancelled. */
  readonly cancellation: Promise<void>;
  /** The call's deadline as the backend saw it (from grpc-timeout), Infinity for none. */
  deadline: number;
  /** For `Sink`: starts reading the request stream. */
  startReading(): void;
}

export const SERVICE = "test.v1.Streams";
export const path = (method: string) => `/${SERVICE}/${method}`;

/** A request for `Count` and `Flood`: how many messages of how many bytes (at least 4). */
export function countRequest(count: number, size: number): Buffer {
  const request = Buffer.alloc(8);
  request.writeUInt32BE(count, 0);
  request.writeUInt32BE(size, 4);
  return request;
}

/** Message `index` of a `Count` or `Flood` reply: its index in the first 4 bytes, then filler. */
export function indexedMessage(index: number, size: number): Buffer {
  const message = Buffer.alloc(Math.max(4, size), index & 0xff);
  message.writeUInt32BE(index, 0);
  return message;
}

export const indexOf = (message: Uint8Array): number => Buffer.from(message.buffer, message.byteOffset, message.byteLength).readUInt32BE(0);

/** The status `FailFirst` and `FailAfter` end with. */
export const FAILURE = { code: GrpcStatus.ABORTED, details: "the feed moved" };
/** How many messages `FailAfter` sends before its status. */
export const MESSAGES_BEFORE_FAILURE = 20;

type Kind = "server" | "client" | "bidi";
const KINDS: Record<string, Kind> = { Count: "server", Flood: "server", FailFirst: "server", FailAfter: "server", Collect: "client", Sink: "client", Echo: "bidi", Hang: "bidi", Refuse: "bidi" };
const identity = (value: Buffer) => value;

/** Starts the backend on an ephemeral loopback port. `statusDetails` go into `grpc-status-details-bin` of the failures. */
export async function startStreamingBackend(statusDetails?: Buffer): Promise<StreamingBackend> {
  type Entry = CallRecord & { arrive(): void; cancel(): void; reading: () => void };
  const records = new Map<string, Entry>();
  const record = (id: string) => {
    let entry = records.get(id);
    if (entry === undefined) {
      let arrive: () => void = () => undefined;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      let cancel: () => void = () => undefined;
      const cancellation = new Promise<void>((resolve) => (cancel = resolve));
      const created: Entry = {
        arrived,
        arrive,
        cancellation,
        cancel,
        received: [],
        sent: 0,
        flushed: 0,
        blocked: false,
        drainWaits: 0,
        cancelled: false,
        deadline: Infinity,
        reading: () => undefined,
        startReading: () => created.reading(),
      };
      entry = created;
      records.set(id, entry);
    }
    return entry;
  };
  const begin = (call: { metadata: Metadata; getDeadline(): Date | number; on(event: "cancelled", listener: () => void): unknown }) => {
    const entry = record(String(call.metadata.get("x-test-id")[0] ?? ""));
    const deadline = call.getDeadline();
    entry.deadline = deadline instanceof Date ? deadline.getTime() : deadline;
    call.on("cancelled", () => {
      entry.cancelled = true;
      entry.cancel();
    });
    entry.arrive();
    return entry;
  };
  const failureTrailers = () => {
    const trailers = new Metadata();
    trailers.set("x-why", "moved");
    if (statusDetails !== undefined) trailers.set("grpc-status-details-bin", statusDetails);
    return trailers;
  };

  /** Writes `count` messages, waiting for 'drain' whenever `write` returns false, then ends. */
  const pump = (call: ServerWritableStream<Buffer, Buffer>, entry: CallRecord, count: number, size: number) => {
    let index = 0;
    const next = (): void => {
      entry.blocked = false;
      while (index < count && !call.cancelled) {
        const accepted = call.write(indexedMessage(index++, size), () => void entry.flushed++);
        entry.sent++;
        if (!accepted) {
          entry.blocked = true;
          entry.drainWaits++;
          call.once("drain", next);
          return;
        }
      }
      if (!call.cancelled) call.end();
    };
    next();
  };

  const handlers: UntypedServiceImplementation = {
    Count(call: ServerWritableStream<Buffer, Buffer>) {
      const entry = begin(call);
      pump(call, entry, call.request.readUInt32BE(0), call.request.readUInt32BE(4));
    },
    Flood(call: ServerWritableStream<Buffer, Buffer>) {
      const entry = begin(call);
      pump(call, entry, call.request.readUInt32BE(0), call.request.readUInt32BE(4));
    },
    FailFirst(call: ServerWritableStream<Buffer, Buffer>) {
      begin(call);
      call.emit("error", { ...FAILURE, metadata: failureTrailers() });
    },
    FailAfter(call: ServerWritableStream<Buffer, Buffer>) {
      begin(call);
      const headers = new Metadata();
      headers.set("x-feed", "live");
      call.sendMetadata(headers);
      for (let i = 0; i < MESSAGES_BEFORE_FAILURE; i++) call.write(indexedMessage(i, 8));
      call.emit("error", { ...FAILURE, metadata: failureTrailers() });
    },
    Collect(call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) {
      const entry = begin(call);
      call.on("data", (message: Buffer) => entry.received.push(message));
      call.on("end", () => callback(null, countRequest(entry.received.length, 0)));
    },
    Sink(call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) {
      // Reads nothing until the test says so: the client's writes must wait for flow control.
      const entry = begin(call);
      call.pause();
      (entry as CallRecord & { reading: () => void }).reading = () => {
        call.on("data", (message: Buffer) => entry.received.push(message));
        call.resume();
      };
      call.on("end", () => callback(null, countRequest(entry.received.length, 0)));
    },
    Echo(call: ServerDuplexStream<Buffer, Buffer>) {
      const entry = begin(call);
      call.on("data", (message: Buffer) => {
        entry.received.push(message);
        call.write(message);
        entry.sent++;
      });
      call.on("end", () => call.end());
    },
    /** Fails at once, while the client's side is still open. */
    Refuse(call: ServerDuplexStream<Buffer, Buffer>) {
      begin(call);
      call.emit("error", { ...FAILURE, metadata: failureTrailers() });
    },
    Hang(call: ServerDuplexStream<Buffer, Buffer>) {
      const entry = begin(call);
      call.on("data", (message: Buffer) => entry.received.push(message));
    },
  };

  const definition: ServiceDefinition = Object.fromEntries(
    Object.entries(KINDS).map(([name, kind]) => [
      name,
      {
        path: path(name),
        requestStream: kind !== "server",
        responseStream: kind !== "client",
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    ]),
  );
  const server = new Server();
  server.addService(definition, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { address: `127.0.0.1:${port}`, record, close: () => server.forceShutdown() };
}

import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { CLIENT_PREFACE, Flag, FrameReader, FrameType, SETTINGS_ACK, settingsFrame } from "../../../src/upstream/h2-frames.js";

/** A frame the hand-written server received. */
export interface SeenFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** One connection as a test drives it: raw bytes out, the client's frames in. */
export interface HandConnection {
  readonly socket: Socket;
  readonly frames: SeenFrame[];
  /** Resolves with the first frame of `type` the client sends (from now on or already seen). */
  next(type: number): Promise<SeenFrame>;
}

export interface HandH2Server {
  readonly address: string;
  readonly connections: HandConnection[];
  close(): Promise<void>;
}

/**
 * An HTTP/2 server written frame by frame, for replies no real server sends (malformed frames,
 * broken HPACK, flow-control violations): it reads the client's preface, answers its SETTINGS,
 * and calls `onRequest` with each new stream's id, leaving the reply's bytes to the test.
 */
export async function startHandH2Server(
  onRequest: (connection: HandConnection, streamId: number) => void,
  settings: ReadonlyArray<readonly [number, number]> = [],
  /** `ackSettings: false`: the client's SETTINGS are never acknowledged (a broken handshake). */
  options: { readonly ackSettings?: boolean } = {},
): Promise<HandH2Server> {
  const connections: HandConnection[] = [];
  const server: Server = createServer((socket) => {
    const frames: SeenFrame[] = [];
    const waiters: Array<{ type: number; resolve(frame: SeenFrame): void }> = [];
    const connection: HandConnection = {
      socket,
      frames,
      next: (type) => {
        const seen = frames.find((frame) => frame.type === type);
        return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ type, resolve }));
      },
    };
    connections.push(connection);
    socket.on("error", () => undefined);
    /** The client preface while it is still arriving; undefined once read. */
    let preface: Buffer | undefined = Buffer.alloc(0);
    const reader = new FrameReader(1 << 24, {
      onFrame(type, flags, streamId, payload) {
        const frame = { type, flags, streamId, payload: Buffer.from(payload) };
        frames.push(frame);
        for (const waiter of waiters.filter((w) => w.type === type)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
        if (type === FrameType.SETTINGS && !(flags & Flag.ACK) && options.ackSettings !== false) socket.write(SETTINGS_ACK);
        if (type === FrameType.HEADERS) onRequest(connection, streamId);
      },
    });
    socket.on("data", (chunk: Buffer) => {
      if (preface === undefined) return void reader.push(chunk);
      preface = Buffer.concat([preface, chunk]);
      if (preface.length < CLIENT_PREFACE.length) return;
      const rest = preface.subarray(CLIENT_PREFACE.length);
      preface = undefined;
      reader.push(rest);
    });
    socket.write(settingsFrame(settings));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HPACK block of literal fields without indexing (new names, raw strings). */
export function literalBlock(fields: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (name === ":status" && value === "200") {
      parts.push(Buffer.from([0x88]));
      continue;
    }
    parts.push(Buffer.from([0x00]), rawString(name), rawString(value));
  }
  return Buffer.concat(parts);
}

function rawString(text: string): Buffer {
  const bytes = Buffer.from(text, "latin1");
  if (bytes.length >= 127) {
    // A 7-bit prefix integer: 127, then the rest in 7-bit groups.
    const rest: number[] = [];
    let value = bytes.length - 127;
    while (value >= 128) {
      rest.push((value % 128) | 0x80);
      value = Math.floor(value / 128);
    }
    rest.push(value);
    return Buffer.concat([Buffer.from([0x7f, ...rest]), bytes]);
  }
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

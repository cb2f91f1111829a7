import { withoutRequestInfo } from "../../e2e/support/request-info.js";
import { connect, type Socket } from "node:net";
import { expect } from "vitest";

/** One HTTP/1.1 response as read off a raw socket. */
export interface RawResponse {
  readonly status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The body parsed as JSON, or undefined (an error body's RequestInfo, checked, taken out: request-info.ts). */
  readonly json: unknown;
}

/**
 * A raw TCP connection to the gateway, for requests `fetch` and node:http refuse to send
 * (two Host headers, CL+TE, trickled bodies, garbage). Collects everything the server sends.
 */
export class RawConnection {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  /** Resolves when the server closes (or resets) the connection. */
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number, localAddress = "127.0.0.1"): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", localAddress });
      socket.once("connect", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Everything received so far, as latin1 text. */
  text(): string {
    return this.received.toString("latin1");
  }

  /** Reads the next complete response (interim 1xx responses are returned too); fails if the connection closes first. */
  async response(): Promise<RawResponse> {
    for (;;) {
      const parsed = takeResponse(this.received);
      if (parsed) {
        this.received = this.received.subarray(parsed.length);
        return parsed.response;
      }
      if (this.isClosed) throw new Error(`connection closed before a complete response; received ${JSON.stringify(this.text().slice(0, 200))}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Sends one raw request on a new connection and reads the response. */
export async function rawRequest(port: number, request: string | Buffer): Promise<RawResponse & { connection: RawConnection }> {
  const connection = await RawConnection.open(port);
  connection.write(request);
  const response = await connection.response();
  return { ...response, connection };
}

function takeResponse(buffer: Buffer): { response: RawResponse; length: number } | undefined {
  const headEnd = buffer.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const lines = buffer.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const bodyLength = status < 200 ? 0 : Number(headers["content-length"] ?? 0);
  const total = headEnd + 4 + bodyLength;
  if (buffer.length < total) return undefined;
  const body = buffer.subarray(headEnd + 4, total).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { response: { status, headers, body, json: withoutRequestInfo(json, status, headers["x-request-id"] ?? null) }, length: total };
}

/** A google.rpc.Status body with the gateway's ErrorInfo reason. */
export function statusBody(code: number, reason: string): unknown {
  return {
    code,
    message: expect.any(String),
    details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "protogate" }],
  };
}

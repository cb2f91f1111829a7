import { GrpcCode } from "../../../src/errors/grpc-code.js";
import { UpstreamError, type UpstreamErrorInit } from "../../../src/upstream/upstream-error.js";
import type { MetadataEntries, StreamCall, UnaryCall, UnaryResult, Upstream, UpstreamStream } from "../../../src/upstream/upstream.js";

const CALL = { rpcPath: "/demo.v1.UserService/GetUser", timeoutMs: 1_000 };

/** An UpstreamError of this kind, as a transport raises it. */
export function upstreamError(init: Partial<UpstreamErrorInit> & Pick<UpstreamErrorInit, "origin" | "code">): UpstreamError {
  return new UpstreamError(CALL, { message: "test", ...init });
}

/** Failures by what happened, as the transports classify them. */
export const FAILURES = {
  /** The connection was refused: nothing left the gateway. */
  refused: () => upstreamError({ origin: "connection", code: GrpcCode.UNAVAILABLE, unprocessed: true }),
  /** The connection closed with the call in flight: it may have run. */
  reset: () => upstreamError({ origin: "connection", code: GrpcCode.UNAVAILABLE }),
  /** A trailers-only UNAVAILABLE status. */
  unavailable: () => upstreamError({ origin: "upstream", code: GrpcCode.UNAVAILABLE }),
  /** UNAVAILABLE after the response headers. */
  unavailableAfterHeaders: () => upstreamError({ origin: "upstream", code: GrpcCode.UNAVAILABLE, responseStarted: true }),
  notFound: () => upstreamError({ origin: "upstream", code: GrpcCode.NOT_FOUND }),
  deadline: () => upstreamError({ origin: "deadline", code: GrpcCode.DEADLINE_EXCEEDED }),
  cancelled: () => upstreamError({ origin: "cancelled", code: GrpcCode.CANCELLED }),
  protocol: () => upstreamError({ origin: "protocol", code: GrpcCode.INTERNAL }),
} as const;

export type FailureKind = keyof typeof FAILURES;

export const OK_RESULT: UnaryResult = Object.freeze({ response: new Uint8Array([1]), headers: [], trailers: [] });

/** A call for `upstream.call`: 10 s to run. */
export function unaryCall(overrides: Partial<UnaryCall> = {}): UnaryCall {
  return { rpcPath: CALL.rpcPath, request: new Uint8Array(), metadata: [], deadline: Date.now() + 10_000, timeoutMs: 10_000, ...overrides };
}

/** What an address does with each call: answer OK, fail some way, or hold the call until the test settles it. */
export type Behaviour = "ok" | FailureKind | "hold";

/** A call a `hold` upstream keeps until the test settles it. */
export interface HeldCall {
  readonly call: UnaryCall;
  resolve(result: UnaryResult): void;
  reject(error: unknown): void;
}

/** A fake upstream whose calls follow `behaviour` (changeable), recording each call and each stream. */
export class FakeUpstream implements Upstream {
  readonly calls: UnaryCall[] = [];
  readonly held: HeldCall[] = [];
  readonly streams: FakeStream[] = [];
  closed = 0;

  constructor(
    readonly address: string,
    public behaviour: Behaviour = "ok",
  ) {}

  call(call: UnaryCall): Promise<UnaryResult> {
    this.calls.push(call);
    const behaviour = this.behaviour;
    if (behaviour === "ok") return Promise.resolve(OK_RESULT);
    if (behaviour === "hold") return new Promise((resolve, reject) => this.held.push({ call, resolve, reject }));
    return Promise.reject(FAILURES[behaviour]());
  }

  stream(call: StreamCall): UpstreamStream {
    const stream = new FakeStream(call, this.behaviour);
    this.streams.push(stream);
    return stream;
  }

  close(): void {
    this.closed++;
  }

  connectionState() {
    return "ready" as const;
  }
}

/** A stream that answers headers per its behaviour and then the messages the test pushes. */
export class FakeStream implements UpstreamStream {
  readonly headers: Promise<MetadataEntries>;
  cancelled = false;
  private readonly messages: Array<Uint8Array | undefined> = [];
  private waiting: ((message: Uint8Array | undefined) => void) | undefined;
  private failure: UpstreamError | undefined;

  constructor(
    readonly call: StreamCall,
    behaviour: Behaviour,
  ) {
    if (behaviour === "ok" || behaviour === "hold") this.headers = Promise.resolve([]);
    else {
      this.failure = FAILURES[behaviour]();
      this.headers = Promise.reject(this.failure);
    }
  }

  /** The upstream sends a message, or ends the stream (undefined). */
  push(message: Uint8Array | undefined): void {
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting(message);
    } else this.messages.push(message);
  }

  read(): Promise<Uint8Array | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.messages.length > 0) return Promise.resolve(this.messages.shift());
    return new Promise((resolve) => (this.waiting = resolve));
  }

  trailers(): MetadataEntries {
    return [];
  }

  write(): Promise<void> {
    return Promise.resolve();
  }

  end(): void {}

  cancel(): void {
    this.cancelled = true;
  }
}

/** Resolves after pending promise callbacks have run (a call's attempts chain through several). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

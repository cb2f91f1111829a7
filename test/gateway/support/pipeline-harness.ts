import { createEdgeAuth, type EdgeAuth } from "../../../src/auth/edge-auth.js";
import { configFromObject } from "../../../src/config/load-config.js";
import { GrpcCode } from "../../../src/errors/grpc-code.js";
import { createGatewayPipeline, type GatewayPipeline, type GatewayRequest, type GatewayResponse } from "../../../src/gateway/pipeline.js";
import { rateLimiterFromConfig } from "../../../src/ratelimit/create-rate-limiter.js";
import type { RateLimiter } from "../../../src/ratelimit/rate-limiter.js";
import type { Timers } from "../../../src/timers.js";
import { createCodecRegistry } from "../../../src/transcode/json/codec-registry.js";
import { UpstreamError } from "../../../src/upstream/upstream-error.js";
import type { MetadataEntries, StreamCall, UnaryCall, UnaryResult, Upstream, UpstreamStream } from "../../../src/upstream/upstream.js";
import { demoGenerated } from "../../e2e/support/gateway-harness.js";
import type { RawAny } from "../../../src/errors/any-detail.js";
import { Exchange } from "../../../src/observe/exchange.js";

type Item = { kind: "message"; bytes: Uint8Array } | { kind: "end" } | { kind: "error"; error: UpstreamError };

/**
 * An upstream stream a test scripts by hand: it records what the gateway writes, and replies,
 * ends or fails when the test says so. `read()` waits for the next scripted item.
 */
export class ScriptedStream implements UpstreamStream {
  readonly written: Uint8Array[] = [];
  ended = false;
  cancelled = false;
  readonly headers: Promise<MetadataEntries>;
  private resolveHeaders!: (metadata: MetadataEntries) => void;
  private rejectHeaders!: (error: UpstreamError) => void;
  private readonly items: Item[] = [];
  private waiter: (() => void) | undefined;
  private done: Item | undefined;
  private trailerEntries: MetadataEntries = [];

  constructor(readonly call: StreamCall) {
    this.headers = new Promise((resolve, reject) => {
      this.resolveHeaders = resolve;
      this.rejectHeaders = reject;
    });
    this.headers.catch(() => undefined);
  }

  sendHeaders(metadata: MetadataEntries = []): this {
    this.resolveHeaders(metadata);
    return this;
  }

  reply(bytes: Uint8Array): this {
    this.sendHeaders();
    return this.push({ kind: "message", bytes });
  }

  finish(trailers: MetadataEntries = []): this {
    this.sendHeaders();
    this.trailerEntries = trailers;
    return this.push({ kind: "end" });
  }

  fail(code: GrpcCode, message: string, metadata: MetadataEntries = [], details: readonly RawAny[] = []): this {
    const error = new UpstreamError({ rpcPath: this.call.rpcPath, timeoutMs: 0 }, { origin: "upstream", code, message, metadata, details });
    this.rejectHeaders(error);
    return this.push({ kind: "error", error });
  }

  async read(): Promise<Uint8Array | undefined> {
    for (;;) {
      const item = this.done ?? this.items.shift();
      if (item !== undefined) {
        if (item.kind === "message") return item.bytes;
        this.done = item;
        if (item.kind === "end") return undefined;
        throw item.error;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  trailers(): MetadataEntries {
    return this.trailerEntries;
  }

  async write(message: Uint8Array): Promise<void> {
    if (this.done?.kind === "error") throw this.done.error;
    this.written.push(message);
  }

  end(): void {
    this.ended = true;
  }

  cancel(): void {
    if (this.cancelled || this.done !== undefined) return;
    this.cancelled = true;
    const error = new UpstreamError({ rpcPath: this.call.rpcPath, timeoutMs: 0 }, { origin: "cancelled", code: GrpcCode.CANCELLED, message: "cancelled" });
    this.rejectHeaders(error);
    this.push({ kind: "error", error });
  }

  private push(item: Item): this {
    this.items.push(item);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
    return this;
  }
}

/** A scripted upstream: unary calls answer `unary`, streams are handed to the test as they open. */
export class ScriptedUpstream implements Upstream {
  readonly streams: ScriptedStream[] = [];
  unary: (call: UnaryCall) => Promise<UnaryResult> = async () => ({ response: new Uint8Array(0), headers: [], trailers: [] });
  private streamWaiter: ((stream: ScriptedStream) => void) | undefined;

  call(call: UnaryCall): Promise<UnaryResult> {
    return this.unary(call);
  }

  stream(call: StreamCall): UpstreamStream {
    const stream = new ScriptedStream(call);
    this.streams.push(stream);
    call.signal?.addEventListener("abort", () => stream.cancel());
    this.streamWaiter?.(stream);
    return stream;
  }

  /** The next stream the gateway opens (or the last one, if it already has). */
  nextStream(): Promise<ScriptedStream> {
    return new Promise((resolve) => (this.streamWaiter = resolve));
  }

  close(): void {}
}

export interface PipelineHarness {
  readonly pipeline: GatewayPipeline;
  readonly upstream: ScriptedUpstream;
  readonly errors: Array<{ details: object; message: string }>;
  /** Warnings logged (upstream failures, throttled). */
  readonly warnings: Array<{ details: object; message: string }>;
  close(): Promise<void>;
}

/** The pipeline over the demo's route table, every service served by one scripted upstream. */
export async function createPipelineHarness(configObject: Record<string, unknown> = {}, timers?: Timers): Promise<PipelineHarness> {
  const generated = await demoGenerated();
  const config = configFromObject({ auth: { mode: "off" }, logging: { level: "silent" }, ...configObject }, {});
  const auth: EdgeAuth = await createEdgeAuth(config.auth);
  const rateLimiter: RateLimiter = await rateLimiterFromConfig(config.rateLimits, { error: () => undefined, warn: () => undefined, info: () => undefined });
  const upstream = new ScriptedUpstream();
  const errors: Array<{ details: object; message: string }> = [];
  const warnings: Array<{ details: object; message: string }> = [];
  const pipeline = createGatewayPipeline({
    config,
    bindings: generated.bindings,
    codecs: createCodecRegistry(generated.descriptorSet, { ignoreUnknownFields: false }),
    upstreams: { get: () => upstream, close: () => undefined },
    auth,
    rateLimiter,
    log: { error: (details, message) => errors.push({ details, message }), warn: (details, message) => warnings.push({ details, message }) },
    ...(timers && { timers }),
  });
  return {
    pipeline,
    upstream,
    errors,
    warnings,
    close: async () => {
      auth.close();
      await rateLimiter.close();
    },
  };
}

/** A request for the pipeline: `body` whole, or `chunks` for a streamed body. */
export function gatewayRequest(method: string, url: string, init: { headers?: Record<string, string>; body?: string; chunks?: AsyncIterable<Buffer>; signal?: AbortSignal } = {}): GatewayRequest {
  const headers = init.headers ?? {};
  return {
    exchange: new Exchange("test-request", { method, url, headers, rawHeaders: Object.entries(headers).flat(), client: { ip: "127.0.0.1", host: "localhost", protocol: "http" } }, 0),
    body: {
      read: async () => (init.body === undefined ? undefined : Buffer.from(init.body)),
      stream: () => init.chunks ?? (async function* () {})(),
    },
    signal: init.signal ?? new AbortController().signal,
  };
}

/** The whole body of a response, streamed or not. */
export async function bodyText(response: GatewayResponse): Promise<string> {
  const { body } = response;
  if (typeof body === "string" || Buffer.isBuffer(body)) return body.toString();
  let text = "";
  for await (const chunk of body) text += chunk.toString();
  return text;
}

/** A body the test feeds chunk by chunk: `push` a chunk, `end` it. */
export function feed(): { chunks: AsyncIterable<Buffer>; push(text: string): void; end(): void } {
  const queue: Array<Buffer | null> = [];
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  return {
    chunks: (async function* () {
      for (;;) {
        const next = queue.shift();
        if (next === null) return;
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (waiter = resolve));
      }
    })(),
    push: (text) => {
      queue.push(Buffer.from(text));
      wake();
    },
    end: () => {
      queue.push(null);
      wake();
    },
  };
}

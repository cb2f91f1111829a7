import type { IncomingHttpHeaders } from "node:http2";
import { GrpcCode } from "../errors/grpc-code.js";
import { frameMessage } from "./grpc-frames.js";
import { metadataFromHeaders } from "./grpc-wire-metadata.js";
import { GrpcExchange, type ExchangeContext, type ExchangeStream, type Failure } from "./grpc-exchange.js";
import { PROTOCOL_VIOLATION } from "./protocol-violation.js";
import type { UnaryCall, UnaryResult } from "./upstream.js";

/**
 * One unary call in flight: one framed request message, exactly one response message. The wire
 * (headers, status, resets, deadline, cancel) is read by `GrpcExchange`.
 */
export class GrpcCall extends GrpcExchange {
  private response: Buffer | undefined;
  private messageCount = 0;
  /** The framed request, kept for a transparent retry. */
  private frame: Buffer | undefined;

  constructor(
    upstream: ExchangeContext,
    private readonly unary: UnaryCall,
    private readonly resolve: (result: UnaryResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    super(upstream, unary);
    this.begin(this.refusal());
  }

  /** Why the call must not start for its request, if it must not. */
  private refusal(): Failure | undefined {
    const size = this.unary.request.byteLength;
    const maxBytes = this.upstream.maxSendMessageBytes;
    if (size > maxBytes) return ["limit", GrpcCode.RESOURCE_EXHAUSTED, `Sent message larger than max (${size} vs. ${maxBytes})`, { limit: { direction: "request", bytes: size, maxBytes } }];
    return undefined;
  }

  protected send(stream: ExchangeStream): void {
    stream.end((this.frame ??= frameMessage(this.unary.request)));
  }

  protected canResend(): boolean {
    return true;
  }

  onMessage(message: Buffer): void {
    if (this.done) return;
    if (++this.messageCount === 1) this.response = message;
    else this.failAndCancel("protocol", GrpcCode.UNIMPLEMENTED, PROTOCOL_VIOLATION.tooManyMessages);
  }

  protected succeed(trailers: IncomingHttpHeaders): void {
    if (this.response === undefined) return this.fail("protocol", GrpcCode.UNIMPLEMENTED, PROTOCOL_VIOLATION.noMessage);
    this.settle();
    this.resolve({ response: this.response, headers: this.responseHeaders, trailers: metadataFromHeaders(trailers, true) });
  }

  protected failed(error: unknown): void {
    this.reject(error);
  }
}

/** Starts a unary call on `context`'s transport. */
export function callUnary(context: ExchangeContext, unary: UnaryCall): Promise<UnaryResult> {
  return new Promise<UnaryResult>((resolve, reject) => new GrpcCall(context, unary, resolve, reject));
}

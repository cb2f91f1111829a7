import type { GatewayConfig } from "../config/schema.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { settlesWithin, type Timers } from "../timers.js";
import { JsonSequenceSplitter } from "../transcode/json-sequence.js";
import type { RequestInput } from "../transcode/request-builder.js";
import { isJsonSequenceContentType, streamFormatFor, type StreamFormat } from "../transcode/stream-format.js";
import type { MetadataEntries } from "../upstream/upstream.js";
import { OpenStream, type StreamOpening } from "./open-stream.js";
import type { GatewayRequest, GatewayResponse } from "./request.js";
import type { Exchange } from "../observe/exchange.js";
import type { ExchangeRecorder } from "../observe/exchange-recorder.js";
import { toGatewayError } from "../errors/to-gateway-error.js";
import { shuttingDownError } from "../errors/shutting-down.js";

/** An admitted call of a streaming method over HTTP, ready to open. */
export interface StreamCallInput extends Omit<StreamOpening, "signal" | "recorder"> {
  readonly request: GatewayRequest;
  readonly variables: RequestInput["variables"];
  readonly query: RequestInput["query"];
  /** Response headers the call adds whatever happens (rate-limit fields). */
  readonly extraHeaders: Readonly<Record<string, string>>;
}

export interface StreamCallDependencies {
  readonly streaming: GatewayConfig["streaming"];
  readonly timers: Timers;
  /** Upstream metadata as response headers (`Grpc-Metadata-*`). */
  readonly metadataToHttp: (headers: MetadataEntries, trailers: MetadataEntries) => Record<string, string>;
  /** The google.rpc.Status JSON of a mid-stream failure (logged when internal, recorded as the exchange's outcome). */
  readonly statusJson: (thrown: unknown, exchange: Exchange) => string;
  readonly recorder: ExchangeRecorder;
  /**
   * Aborted at the shutdown's drain deadline: a stream still open then ends with UNAVAILABLE
   * (`PG_ERR_SHUTTING_DOWN`) as its last NDJSON line or SSE event, instead of being cut off.
   */
  readonly shutdown?: AbortSignal;
}

/**
 * Serves streaming methods over plain HTTP (WebSocket is `socket-call.ts`):
 * - **server streaming**: the request message comes from the body (or none), as for a unary
 *   call; the replies are written as they come, as NDJSON or Server-Sent Events (stream-format.ts);
 * - **client streaming**: the body is a sequence of JSON values, each decoded and sent as it
 *   arrives (path variables and query parameters set their fields in every message); the one
 *   reply is answered like a unary call's;
 * - **bidirectional**: both at once, the request messages sent while the replies are written.
 * A failure before the first reply is an ordinary error response (its HTTP status and a Status
 * body); after it, a last NDJSON line or SSE event. Both directions are flow-controlled end to
 * end: replies are read from the upstream only as fast as the HTTP client takes them, and body
 * bytes only as fast as the upstream takes messages. The stream's idle timeout and deadline
 * apply; a client that goes away cancels the upstream call.
 */
export function createStreamCalls(deps: StreamCallDependencies): (input: StreamCallInput) => Promise<GatewayResponse> {
  const { streaming, timers } = deps;

  return async (input) => {
    const { route, request } = input;
    const { binding } = route;
    const stream = new OpenStream({ route, upstream: input.upstream, metadata: input.metadata, timeoutMs: input.timeoutMs, signal: request.signal, exchange: input.exchange, recorder: deps.recorder }, timers);
    if (deps.shutdown !== undefined) stream.endOn(deps.shutdown, () => shuttingDownError());
    const { call } = stream;
    const { exchange } = input;
    const cause = (thrown: unknown): unknown => stream.cause(thrown);
    const read = (): Promise<Uint8Array | undefined> => stream.read();
    let handedOver = false;
    try {
      const sending = sendRequests(input, stream).catch((thrown: unknown) => stream.giveUp(thrown));
      if (binding.kind === "client") {
        // The reply is read while the body is still being sent: an upstream that fails early ends
        // the call at once instead of when the next message would be sent.
        const replied = read();
        const settled = replied.then(
          () => undefined,
          () => undefined,
        );
        await Promise.race([sending, settled]);
        if (stream.failure !== undefined) throw stream.failure;
        const reply = await replied;
        if (reply === undefined) throw protocolError(binding.rpcPath, "no reply message");
        if ((await read()) !== undefined) throw protocolError(binding.rpcPath, "more than one reply message");
        const shaped = route.shape(reply);
        const headers = { ...deps.metadataToHttp(await call.headers, call.trailers()), ...input.extraHeaders, "content-type": shaped.contentType };
        exchange.settle(GrpcCode.OK);
        return { status: 200, headers, body: shaped.body };
      }

      const raw = route.rawReplies;
      const format = streamFormatFor(request.exchange.head.headers.accept);
      // SSE keep-alives need the response started: a stream quiet for a keep-alive interval is
      // answered 200 then (a later failure is an error event); otherwise the first reply decides.
      const keepAliveMs = !raw && format.keepAlive !== undefined ? streaming.sseKeepAliveMs : 0;
      const firstRead = read();
      const quiet = keepAliveMs > 0 && !(await settlesWithin(firstRead, keepAliveMs, timers)).done;
      const first = quiet ? undefined : await firstRead;
      const shapedFirst = first === undefined ? undefined : route.shape(first);
      // A quiet stream's upstream may not have sent its headers yet (grpc-js servers send them with
      // the first message): it starts without them.
      const upstreamHeaders = quiet ? (stream.headers ?? []) : await call.headers;
      const headers = {
        ...deps.metadataToHttp(upstreamHeaders, []),
        ...input.extraHeaders,
        ...(raw ? {} : format.headers),
        "content-type": raw ? (shapedFirst?.contentType ?? "application/octet-stream") : format.contentType,
      };
      handedOver = true;
      return { status: 200, headers, body: replies(shapedFirst, quiet ? firstRead : undefined, raw, format, keepAliveMs) };
    } catch (thrown) {
      throw cause(thrown);
    } finally {
      if (!handedOver) stream.close();
    }

    /**
     * The response body: every reply as it comes (keep-alive comments while SSE waits), a last
     * error line or event on failure. It starts with the first reply, or with a keep-alive and the
     * first read still pending. A raw `google.api.HttpBody` stream has no way to say "failed": it
     * is cut off instead.
     */
    async function* replies(first: { body: string | Buffer } | undefined, firstRead: Promise<Uint8Array | undefined> | undefined, raw: boolean, format: StreamFormat, keepAliveMs: number): AsyncGenerator<string | Buffer> {
      try {
        let shaped = first;
        let pending = firstRead;
        if (pending !== undefined && format.keepAlive !== undefined) yield format.keepAlive;
        for (;;) {
          if (shaped !== undefined) {
            yield raw ? shaped.body : format.message(shaped.body as string);
            pending = read();
          }
          if (pending === undefined) return;
          while (keepAliveMs > 0 && format.keepAlive !== undefined && !(await settlesWithin(pending, keepAliveMs, timers)).done) yield format.keepAlive;
          const message = await pending;
          if (message === undefined) {
            exchange.settle(GrpcCode.OK);
            return;
          }
          shaped = route.shape(message);
        }
      } catch (thrown) {
        if (raw) {
          deps.recorder.failed(exchange, toGatewayError(cause(thrown)));
          throw thrown;
        }
        yield format.error(deps.statusJson(cause(thrown), exchange));
      } finally {
        stream.close();
      }
    }
  };

  /**
   * Sends the request messages: the one message of a server-streaming call, or every JSON value
   * of the body of a client-streaming or bidirectional one, then half-closes.
   */
  async function sendRequests(input: StreamCallInput, stream: OpenStream): Promise<void> {
    const { route, request } = input;
    const { call } = stream;
    const build = (body: Buffer | undefined, contentType: string | undefined): Uint8Array =>
      route.encodeRequest({ variables: input.variables, query: input.query, body, contentType });
    if (route.binding.kind === "server") {
      const body = route.binding.body.kind === "none" ? undefined : await request.body.read();
      await stream.write(build(body, request.exchange.head.headers["content-type"]));
      call.end();
      return;
    }
    const contentType = request.exchange.head.headers["content-type"];
    const splitter = new JsonSequenceSplitter({ maxMessageBytes: streaming.maxMessageBytes });
    let sent = 0;
    const send = async (text: Buffer): Promise<void> => {
      const index = sent++;
      let message: Uint8Array;
      try {
        message = build(text, "application/json");
      } catch (error) {
        throw inMessage(error, index);
      }
      await stream.write(message);
    };
    let checked = false;
    for await (const chunk of request.body.stream()) {
      if (!checked) {
        checked = true;
        if (!isJsonSequenceContentType(contentType)) throw unsupportedMediaType(contentType);
      }
      for (const text of splitter.push(chunk)) await send(text);
    }
    for (const text of splitter.end()) await send(text);
    call.end();
  }
}

/** A GatewayError about one message of a client stream, naming its index. */
function inMessage(error: unknown, index: number): unknown {
  if (!(error instanceof GatewayError)) return error;
  return new GatewayError(error.code, error.reason, `request message ${index}: ${error.message}`, {
    httpStatus: error.httpStatus,
    headers: error.headers,
    details: error.details,
    cause: error.cause,
  });
}

function unsupportedMediaType(contentType: string | undefined): GatewayError {
  const what = contentType === undefined ? "no Content-Type" : `Content-Type ${JSON.stringify(contentType.slice(0, 100))}`;
  return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_UNSUPPORTED_MEDIA_TYPE", `a streamed request body needs JSON values (application/x-ndjson or application/json), not ${what}`, { httpStatus: 415 });
}

function protocolError(rpcPath: string, what: string): GatewayError {
  return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_UPSTREAM_PROTOCOL", `${rpcPath} broke the gRPC protocol: ${what} for a client-streaming call`, { httpStatus: 502 });
}

import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { REAL_TIMERS, type Timers } from "../timers.js";

/** What bounds the reading of one request body (`server.*` in gateway.yaml). */
export interface BodyLimits {
  /** Larger bodies get 413, from Content-Length before anything is read, else as soon as they pass it. */
  readonly maxBytes: number;
  /** The whole body must arrive within this long after reading starts. */
  readonly timeoutMs: number;
  /** No body data for this long fails the read. */
  readonly idleTimeoutMs: number;
  /** After the grace period, a body arriving slower than this on average fails the read (0: off). */
  readonly minBytesPerSecond: number;
  readonly minRateGraceMs: number;
}

/** A Node request stream (HTTP/1 IncomingMessage or HTTP/2 compat request) and its headers. */
export type BodySource = Readable & { readonly headers: IncomingHttpHeaders };

/** How often, at most, a waiting read re-checks its timeouts and the minimum rate. */
const CHECK_INTERVAL_MS = 1000;

/**
 * Reads a whole request body into one Buffer, bounded in size, total time, idle time and minimum
 * rate, so a client trickling bytes cannot hold a connection and its memory (the slow-body attack
 * that Node's own timeouts, switched off for long-lived streams, would not stop). Rejects with a
 * GatewayError: 413 `PG_ERR_BODY_TOO_LARGE`, 408 `PG_ERR_REQUEST_TIMEOUT`, or CANCELLED when the
 * client goes away. On rejection it stops reading; the adapter then closes the connection rather
 * than drain what is left.
 */
export function readBody(source: BodySource, limits: BodyLimits, timers: Timers = REAL_TIMERS): Promise<Buffer> {
  const declared = source.headers["content-length"];
  if (declared !== undefined && Number(declared) > limits.maxBytes) return Promise.reject(tooLarge(limits.maxBytes));
  if (isReceivedWhole(source)) return takeBuffered(source, limits.maxBytes);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const start = timers.now();
    let lastData = start;
    let timer: unknown;

    const finish = (error: GatewayError | undefined): void => {
      timers.clearTimeout(timer);
      source.removeListener("data", onData);
      source.removeListener("end", onEnd);
      source.removeListener("error", onGone);
      source.removeListener("aborted", onGone);
      source.removeListener("close", onClose);
      if (error === undefined) {
        resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
        return;
      }
      source.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limits.maxBytes) return finish(tooLarge(limits.maxBytes));
      chunks.push(chunk);
      lastData = timers.now();
    };
    const onEnd = (): void => finish(undefined);
    const onGone = (): void => finish(clientGone());
    // After a normal "end" the listener is gone already: a "close" heard here came first.
    const onClose = (): void => finish(clientGone());
    const check = (): void => {
      const now = timers.now();
      const elapsed = now - start;
      if (elapsed >= limits.timeoutMs) return finish(timedOut(`the request body did not arrive within ${limits.timeoutMs} ms`));
      if (now - lastData >= limits.idleTimeoutMs) return finish(timedOut(`no request body data arrived for ${limits.idleTimeoutMs} ms`));
      if (limits.minBytesPerSecond > 0 && elapsed >= limits.minRateGraceMs && (received * 1000) / elapsed < limits.minBytesPerSecond) {
        return finish(timedOut(`the request body arrives slower than ${limits.minBytesPerSecond} bytes per second`));
      }
      schedule(now);
    };
    const schedule = (now: number): void => {
      let next = Math.min(start + limits.timeoutMs, lastData + limits.idleTimeoutMs, now + CHECK_INTERVAL_MS);
      if (limits.minBytesPerSecond > 0 && now < start + limits.minRateGraceMs) next = Math.min(next, start + limits.minRateGraceMs);
      timer = timers.setTimeout(check, Math.max(1, next - now));
    };

    source.on("data", onData);
    source.on("end", onEnd);
    source.on("error", onGone);
    source.on("aborted", onGone);
    source.on("close", onClose);
    schedule(start);
  });
}

/**
 * Whether an HTTP/1.1 request's body has arrived whole already, so all of it sits in the stream's
 * buffer: Node sets `complete` once the parser has seen the end of the message. This is the common
 * case for small bodies, which come in the packet of the headers and are parsed by the time the
 * edge checks have passed. (HTTP/2's `complete` means something else, so only HTTP/1.x.)
 */
function isReceivedWhole(source: BodySource): boolean {
  const message = source as Partial<Pick<IncomingMessage, "complete" | "httpVersionMajor">>;
  return message.complete === true && message.httpVersionMajor === 1;
}

/** The whole body from the stream's buffer at once: no listeners, no timer, no waiting. */
function takeBuffered(source: BodySource, maxBytes: number): Promise<Buffer> {
  // Without an argument, read() returns everything buffered as one Buffer (null when empty).
  const body = (source.read() as Buffer | null) ?? Buffer.alloc(0);
  if (body.length > maxBytes) {
    source.pause();
    return Promise.reject(tooLarge(maxBytes));
  }
  return Promise.resolve(body);
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_BODY_TOO_LARGE", `request body is larger than the limit of ${maxBytes} bytes`, { httpStatus: 413 });
}

function timedOut(message: string): GatewayError {
  return new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_REQUEST_TIMEOUT", message, { httpStatus: 408 });
}

function clientGone(): GatewayError {
  return new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", "the client closed the request before its body was complete");
}

/**
 * The body as it arrives, for client-streaming calls: chunks in order, at most `maxBytes` in all
 * (0: no limit; 413 above it). No overall time limit (a stream may rightly last long: the
 * stream's idle timeout applies instead). A client that goes away ends it with CANCELLED.
 * Stopping early leaves the request undestroyed: the response can still be written.
 */
export async function* streamBody(source: BodySource, maxBytes: number, onFailure: () => void): AsyncGenerator<Buffer> {
  let received = 0;
  try {
    for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (maxBytes > 0 && received > maxBytes) throw tooLarge(maxBytes);
      yield chunk;
    }
  } catch (error) {
    onFailure();
    source.pause();
    throw error instanceof GatewayError ? error : clientGone();
  }
}

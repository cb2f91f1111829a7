import { pathOf } from "../../gateway/request-path.js";
import type { Exchange } from "../exchange.js";

/**
 * One access-log line's fields (pino adds `time` and `log: "access"`). Every field is always
 * present (null when unknown), so log pipelines see one schema.
 *
 * Redaction by construction: no header is copied as a whole. The only request headers read are
 * `user-agent` and `content-length`; Authorization, API keys, cookies and WebSocket token
 * subprotocols are never read here, whatever they are called in the config. The query string is
 * dropped (it can carry credentials such as `?api_key=`), and an error's message is left out
 * (an upstream's message is the upstream's text); its stable reason is kept.
 */
export interface AccessLine {
  readonly requestId: string;
  /** The trace this request belongs to, when tracing is on. */
  readonly traceId: string | null;
  readonly method: string;
  /** The matched rule's template (`/v1/users/{user_id}`); null when no route matched. */
  readonly route: string | null;
  /** The gRPC method called (`/demo.v1.UserService/GetUser`); null when no route matched. */
  readonly rpc: string | null;
  /** The request path without its query string (at most MAX_PATH_LENGTH characters). */
  readonly path: string;
  /** HTTP status written (101: an accepted WebSocket; 499: the client went away first). */
  readonly status: number;
  /** The outcome's gRPC code (0: OK); null when none was reached. */
  readonly grpcCode: number | null;
  /** From arrival to the end of the response. */
  readonly durationMs: number;
  /** The upstream call's (or stream's) duration; null when none was made. */
  readonly upstreamMs: number | null;
  /** Response body bytes written. */
  readonly bytesOut: number;
  /** Request body bytes, when the request declared them (Content-Length); null otherwise. */
  readonly bytesIn: number | null;
  /** The authenticated caller: an API key's consumer or a token's subject; null when anonymous. */
  readonly consumer: string | null;
  readonly clientIp: string;
  readonly userAgent: string | null;
  /** The failure's stable reason (PG_ERR_...); null on success. */
  readonly error: string | null;
}

/** Longest path logged; a longer one is cut (a 414's path can be as long as the header limit). */
export const MAX_PATH_LENGTH = 2048;
/** Longest User-Agent logged. */
export const MAX_USER_AGENT_LENGTH = 256;

/** The access-log line of an ended exchange. */
export function accessLine(exchange: Exchange): AccessLine {
  const { head, binding, caller } = exchange;
  const userAgent = head.headers["user-agent"];
  return {
    requestId: exchange.requestId,
    traceId: exchange.trace?.traceId ?? null,
    method: head.method,
    route: binding?.pattern ?? null,
    rpc: binding?.rpcPath ?? null,
    path: cut(pathOf(head.url), MAX_PATH_LENGTH),
    status: exchange.status,
    grpcCode: exchange.grpcCode ?? null,
    durationMs: milliseconds(exchange.durationMs ?? 0),
    upstreamMs: exchange.upstreamMs === undefined ? null : milliseconds(exchange.upstreamMs),
    bytesOut: exchange.bytesOut,
    bytesIn: declaredLength(head.headers["content-length"]),
    consumer: caller === undefined ? null : (caller.consumer ?? caller.subject),
    clientIp: head.client.ip,
    userAgent: userAgent === undefined ? null : cut(userAgent, MAX_USER_AGENT_LENGTH),
    error: exchange.error?.reason ?? null,
  };
}

/**
 * The line as JSON text, newline-terminated, keys in a fixed order after `log` and `time`. Written
 * by hand for this one fixed schema: pino's generic serialiser (a loop over the keys, a check per
 * value) measured about three times the CPU per line, on the path of every request. Strings go
 * through JSON.stringify, so quotes, control characters and lone surrogates are escaped.
 */
export function formatAccessLine(line: AccessLine, time: string): string {
  return (
    `{"log":"access","time":"${time}","requestId":${text(line.requestId)},"traceId":${text(line.traceId)},"method":${text(line.method)}` +
    `,"route":${text(line.route)},"rpc":${text(line.rpc)},"path":${text(line.path)},"status":${line.status},"grpcCode":${line.grpcCode}` +
    `,"durationMs":${line.durationMs},"upstreamMs":${line.upstreamMs},"bytesOut":${line.bytesOut},"bytesIn":${line.bytesIn}` +
    `,"consumer":${text(line.consumer)},"clientIp":${text(line.clientIp)},"userAgent":${text(line.userAgent)},"error":${text(line.error)}}\n`
  );
}

function text(value: string | null): string {
  return value === null ? "null" : JSON.stringify(value);
}

/** Whether an exchange failed: an HTTP error (499 included) or a gRPC outcome other than OK (a stream that broke after its 200). */
export function isFailure(exchange: Exchange): boolean {
  return exchange.status >= 400 || (exchange.grpcCode !== undefined && exchange.grpcCode !== 0);
}

/** `value`, cut to `max` characters (marked with ...) when longer. */
export function cut(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}...` : value;
}

/** Microsecond precision is plenty (and keeps the line short). */
function milliseconds(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function declaredLength(header: string | undefined): number | null {
  if (header === undefined || !/^\d{1,15}$/.test(header)) return null;
  return Number(header);
}

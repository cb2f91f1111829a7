/**
 * How a server stream's messages are framed on an HTTP response:
 * - `ndjson` (default): one line per message, `{"result": <message>}`, and a failure after the
 *   first message as a last line `{"error": <google.rpc.Status>}`; grpc-gateway's format, so its
 *   clients work unchanged;
 * - `sse` (`Accept: text/event-stream`): one `data:` event per message, a failure as an
 *   `event: error` whose data is the google.rpc.Status, and comment lines as keep-alives.
 * Message and status texts are single-line JSON (JSON.stringify never emits a raw newline), so
 * one `data:` line holds each.
 */
export interface StreamFormat {
  readonly contentType: string;
  /** Extra response headers (SSE: no caching, no proxy buffering). */
  readonly headers: Readonly<Record<string, string>>;
  message(json: string): string;
  error(statusJson: string): string;
  /** Keeps an idle connection open through proxies; undefined when the format has none. */
  readonly keepAlive: string | undefined;
}

export const NDJSON: StreamFormat = {
  contentType: "application/x-ndjson",
  headers: {},
  message: (json) => `{"result":${json}}\n`,
  error: (statusJson) => `{"error":${statusJson}}\n`,
  keepAlive: undefined,
};

export const SSE: StreamFormat = {
  contentType: "text/event-stream",
  // X-Accel-Buffering: nginx (and proxies that copy it) must not hold events back.
  headers: { "cache-control": "no-cache", "x-accel-buffering": "no" },
  message: (json) => `data: ${json}\n\n`,
  error: (statusJson) => `event: error\ndata: ${statusJson}\n\n`,
  keepAlive: ": keep-alive\n\n",
};

/** SSE when the client accepts `text/event-stream`, NDJSON otherwise. */
export function streamFormatFor(accept: string | undefined): StreamFormat {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept) ? SSE : NDJSON;
}

/** Content types a client-streaming request body may have: JSON values, one after another. */
export function isJsonSequenceContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(";")[0].trim().toLowerCase();
  return type === "application/json" || type === "application/x-ndjson" || type === "application/jsonl" || type === "application/json-seq" || /^[a-z0-9.+-]+\/[a-z0-9.+-]*\+json$/.test(type);
}

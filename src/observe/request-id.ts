import { randomUUID } from "node:crypto";

/** The request-ID header, taken from the client when sane, returned in every response, sent upstream. */
export const REQUEST_ID_HEADER = "x-request-id";

/** Longest client-supplied request ID kept (longer ones are replaced by a generated one). */
export const MAX_REQUEST_ID_LENGTH = 128;

/**
 * The request ID of a request: the client's `x-request-id` when it is a sane token (1 to 128
 * visible ASCII characters, so it is safe in a log line, a header and a metadata value), a fresh
 * one from `generate` otherwise (a duplicated header, as Node joins it with ", ", is not sane).
 */
export function requestIdOf(header: string | string[] | undefined, generate: () => string): string {
  return typeof header === "string" && isSaneRequestId(header) ? header : generate();
}

export function isSaneRequestId(value: string): boolean {
  const length = value.length;
  if (length === 0 || length > MAX_REQUEST_ID_LENGTH) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    // Visible ASCII only: no space, no control character, no comma (a joined duplicate header).
    if (code <= 0x20 || code >= 0x7f || code === 0x2c) return false;
  }
  return true;
}

/** Production's generator: a random UUID (tests inject a deterministic one). */
export const randomRequestId = (): string => randomUUID();

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import type { MetadataEntries } from "./upstream.js";

/** gRPC metadata keys: lower-case letters, digits, `_`, `-`, `.`. */
const METADATA_KEY = /^[0-9a-z_.-]+$/;
/** gRPC ASCII metadata values: printable ASCII only. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Request headers the transport sets itself; metadata never replaces them (the metadata mapper rejects them anyway). */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set(["content-type", "te", "user-agent", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding"]);

/**
 * The header field value a metadata entry is sent as, or undefined when it is not sent (a
 * pseudo-header or a header the transport sets itself): `-bin` values go as unpadded base64
 * (what the spec asks senders to emit). A repeated key becomes repeated header fields, in order.
 */
export function metadataFieldValue(key: string, value: string | Buffer): string | undefined {
  if (key.charCodeAt(0) === 0x3a /* ":" */ || TRANSPORT_HEADERS.has(key)) return undefined;
  return typeof value === "string" ? value : unpaddedBase64(value);
}

/** Adds request metadata to `headers` (see `metadataFieldValue`). */
export function addMetadataHeaders(headers: OutgoingHttpHeaders, metadata: MetadataEntries): void {
  for (const [key, value] of metadata) {
    const text = metadataFieldValue(key, value);
    if (text === undefined) continue;
    // Own properties only: `constructor` and `__proto__` are valid metadata keys, and reading
    // or assigning them plainly would hit Object.prototype instead.
    const existing = Object.hasOwn(headers, key) ? headers[key] : undefined;
    if (existing === undefined) setOwn(headers, key, text);
    else if (Array.isArray(existing)) existing.push(text);
    else setOwn(headers, key, [String(existing), text]);
  }
}

function setOwn(headers: OutgoingHttpHeaders, key: string, value: string | string[]): void {
  if (key === "__proto__") Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
  else headers[key] = value;
}

function unpaddedBase64(bytes: Buffer): string {
  const text = bytes.toString("base64");
  if (text.endsWith("==")) return text.slice(0, -2);
  return text.endsWith("=") ? text.slice(0, -1) : text;
}

/**
 * The metadata in received headers or trailers: pseudo-headers, invalid keys and non-ASCII text
 * values are dropped (as grpc-js does); `-bin` values are split at "," (HTTP/2 may join repeated
 * fields so) and base64-decoded; `grpc-status` and `grpc-message` are left out when `withoutStatus`.
 */
export function metadataFromHeaders(headers: IncomingHttpHeaders, withoutStatus: boolean): Array<[string, string | Buffer]> {
  const entries: Array<[string, string | Buffer]> = [];
  for (const key in headers) {
    if (key.charCodeAt(0) === 0x3a /* ":" */) continue;
    if (withoutStatus && (key === "grpc-status" || key === "grpc-message")) continue;
    if (!METADATA_KEY.test(key)) continue;
    const value = headers[key];
    if (value === undefined) continue;
    if (typeof value === "string") addValue(entries, key, value);
    else for (const item of value) addValue(entries, key, item);
  }
  return entries;
}

function addValue(entries: Array<[string, string | Buffer]>, key: string, value: string): void {
  if (key.endsWith("-bin")) {
    for (const part of value.split(",")) entries.push([key, Buffer.from(part.trim(), "base64")]);
  } else if (PRINTABLE_ASCII.test(value)) {
    entries.push([key, value]);
  }
}

import { constants } from "node:http2";
import { GrpcCode } from "../errors/grpc-code.js";
import type { MetadataEntries } from "./upstream.js";

/**
 * The gRPC status of a call that did not succeed, shaped like grpc-js's `ServiceError` (numeric
 * `code`, `details`, `metadata.get`), which is what `toGatewayError` and the gateway read.
 */
export class UpstreamStatusError extends Error {
  constructor(
    readonly code: GrpcCode,
    readonly details: string,
    readonly metadata: ReceivedMetadata = new ReceivedMetadata([]),
  ) {
    super(`${code} ${GrpcCode[code] ?? "UNKNOWN"}: ${details}`);
  }
}

/** Metadata received with a status, read like grpc-js's `Metadata` (`get`, `getMap`, `toJSON`). */
export class ReceivedMetadata {
  constructor(readonly entries: MetadataEntries) {}

  /** Every value of `key`, in order. */
  get(key: string): Array<string | Buffer> {
    const values: Array<string | Buffer> = [];
    for (const [name, value] of this.entries) if (name === key) values.push(value);
    return values;
  }

  /** The first value of each key (a null-prototype object: keys such as `__proto__` are valid metadata). */
  getMap(): Record<string, string | Buffer> {
    const map: Record<string, string | Buffer> = Object.create(null);
    for (const [name, value] of this.entries) if (!(name in map)) map[name] = value;
    return map;
  }

  /** All values by key, as grpc-js logs metadata. */
  toJSON(): Record<string, Array<string | Buffer>> {
    const json: Record<string, Array<string | Buffer>> = Object.create(null);
    for (const [name, value] of this.entries) (json[name] ??= []).push(value);
    return json;
  }
}

/**
 * The gRPC code for a response without `grpc-status` (gRPC's http-grpc-status-mapping.md; used
 * only then: a `grpc-status` always wins).
 */
export function grpcCodeForHttpStatus(httpStatus: number): GrpcCode {
  switch (httpStatus) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

/** The gRPC code for a stream the server reset before sending a status (PROTOCOL-HTTP2.md, "Errors"). */
export function grpcCodeForRstCode(rstCode: number): GrpcCode {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return GrpcCode.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL:
      return GrpcCode.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return GrpcCode.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return GrpcCode.PERMISSION_DENIED;
    default:
      return GrpcCode.INTERNAL;
  }
}

/** The details for a reset stream, naming the code. */
export function rstCodeDetails(rstCode: number): string {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return "stream refused by the upstream (RST_STREAM REFUSED_STREAM)";
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return "bandwidth exhausted (RST_STREAM ENHANCE_YOUR_CALM)";
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return "the connection is not secure enough (RST_STREAM INADEQUATE_SECURITY)";
    default:
      return `the upstream reset the stream without a gRPC status (RST_STREAM code ${rstCode})`;
  }
}

/** `grpc-status` as a number; a value that is not a decimal integer is UNKNOWN. */
export function parseGrpcStatus(value: string): GrpcCode {
  return /^\d{1,9}$/.test(value) ? Number(value) : GrpcCode.UNKNOWN;
}

/**
 * Percent-decodes `grpc-message` (the spec percent-encodes bytes outside printable ASCII, and
 * `%`, of the UTF-8 message). A malformed escape is kept as is rather than failing the call.
 */
export function decodeGrpcMessage(raw: string): string {
  if (!raw.includes("%")) return raw;
  const bytes = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    const char = raw.charCodeAt(i);
    const high = char === 0x25 ? hexValue(raw.charCodeAt(i + 1)) : -1;
    const low = high >= 0 ? hexValue(raw.charCodeAt(i + 2)) : -1;
    if (low >= 0) {
      bytes[length++] = high * 16 + low;
      i += 2;
    } else {
      bytes[length++] = char & 0xff;
    }
  }
  return bytes.toString("utf8", 0, length);
}

function hexValue(char: number): number {
  if (char >= 0x30 && char <= 0x39) return char - 0x30;
  if (char >= 0x41 && char <= 0x46) return char - 0x37;
  if (char >= 0x61 && char <= 0x66) return char - 0x57;
  return -1;
}

/** `grpc-timeout` for `ms` (at most 8 digits, rounded up so the upstream never gets less time than asked). */
export function formatGrpcTimeout(ms: number): string {
  const millis = Math.max(1, Math.ceil(ms));
  if (millis < 1e8) return `${millis}m`;
  const seconds = Math.ceil(millis / 1000);
  if (seconds < 1e8) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`;
}

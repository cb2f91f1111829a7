import { constants } from "node:http2";
import { GrpcCode } from "../errors/grpc-code.js";

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

const RST_CODE_NAMES: readonly string[] = [
  "NO_ERROR",
  "PROTOCOL_ERROR",
  "INTERNAL_ERROR",
  "FLOW_CONTROL_ERROR",
  "SETTINGS_TIMEOUT",
  "STREAM_CLOSED",
  "FRAME_SIZE_ERROR",
  "REFUSED_STREAM",
  "CANCEL",
  "COMPRESSION_ERROR",
  "CONNECT_ERROR",
  "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
];

/** The name of an HTTP/2 error code (RFC 9113, 7), or its number when unknown. */
export function rstCodeName(rstCode: number): string {
  return RST_CODE_NAMES[rstCode] ?? `code ${rstCode}`;
}

/**
 * `grpc-status` as a number, or undefined when it is not a decimal integer (a malformed status,
 * which the transports treat as a protocol violation). Codes outside google.rpc.Code come back
 * as they are; `knownGrpcCode` turns them into UNKNOWN.
 */
export function parseGrpcStatus(value: string): number | undefined {
  return /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

/** Whether a `content-type` is gRPC's: `application/grpc`, optionally `+format` or `;parameters`. */
export function isGrpcContentType(value: string | undefined): boolean {
  if (value === "application/grpc") return true;
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  return lower.startsWith("application/grpc") && (lower.length === 16 || lower[16] === "+" || lower[16] === ";");
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

/** Bytes `grpc-message` carries as themselves: printable ASCII except `%`. */
const PLAIN_MESSAGE = /^[\x20-\x24\x26-\x7e]*$/;

/**
 * `grpc-message` for a status message, as a gRPC server sends it: its UTF-8 bytes, those outside
 * printable ASCII and `%` percent-encoded (the inverse of `decodeGrpcMessage`).
 */
export function encodeGrpcMessage(message: string): string {
  if (PLAIN_MESSAGE.test(message)) return message;
  let encoded = "";
  for (const byte of Buffer.from(message, "utf8")) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
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

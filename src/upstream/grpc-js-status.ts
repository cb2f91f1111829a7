import type { Metadata } from "@grpc/grpc-js";
import { GrpcCode } from "../errors/grpc-code.js";
import { isGrpcContentType } from "./grpc-wire-status.js";
import { PROTOCOL_VIOLATION, resetViolation } from "./protocol-violation.js";
import { knownGrpcCode, type MessageLimit, type UpstreamErrorOrigin } from "./upstream-error.js";

/** A status as grpc-js reports it: `code` and `details` are not always what its types say (below). */
export interface GrpcJsStatus {
  readonly code: unknown;
  readonly details: unknown;
  readonly metadata: Metadata;
}

/** What the grpc-js transport saw of the call itself, besides the status. */
export interface GrpcJsCallFacts {
  /** Response headers arrived (grpc-js emits them only for a response that is not trailers-only). */
  readonly gotHeaders: boolean;
  /** The gateway's deadline for the call has passed. */
  readonly deadlineReached: boolean;
  readonly maxReceiveMessageBytes: number;
}

/** Where a call failed, by the grpc-js transport's reading of its status. */
export interface ClassifiedStatus {
  readonly origin: UpstreamErrorOrigin;
  readonly code: GrpcCode;
  readonly message: string;
  readonly limit?: MessageLimit;
}

// grpc-js's own statuses (1.14), for replies it could not use. An upstream cannot be told apart
// from grpc-js by code alone (both say INTERNAL, RESOURCE_EXHAUSTED, ...), so these exact texts,
// together with the facts above, are how the boundary recognises them. The transport tests run
// every case against both transports, so a grpc-js release that rewords them fails a test.
const RST_STREAM = /^Received RST_STREAM with code (\d+)(?: \((?:Internal server error|Call ended without gRPC status)\))?$/;
const RST_STREAM_LOCAL = /^Received RST_STREAM with code \d+ triggered by internal client error: /;
const TOO_LARGE = /^Received message larger than max \((\d+) vs\.? (\d+)\)$/;
const BAD_COMPRESSED_DATA = /^Failed to decompress (?:deflate|gzip)-encoded message$/;
const HTTP_STATUS = /^Received HTTP status code (\d+)$/;
/** UNAVAILABLE that grpc-js reports for its own connection (dropped, refused stream, failed write, socket errors). */
const LOCAL_UNAVAILABLE = /^(?:Connection dropped$|Stream refused by server$|Write error: |Write failed with error )|\b(?:ECONNRESET|ETIMEDOUT|EPIPE)\b/;
/** RST_STREAM codes grpc-js reports with texts of their own (subchannel-call.ts). */
const RST_CANCEL = 8;
const RST_ENHANCE_YOUR_CALM = 11;
const RST_INADEQUATE_SECURITY = 12;

/**
 * Classifies a grpc-js status that did not yield a response: the upstream's own status passes
 * through as `upstream`; grpc-js's statuses about a broken reply become `protocol` or `limit`
 * (so they answer 502, not the 501 / 429 / 500 their codes would map to); its connection
 * failures become `connection` (their texts name internal addresses and stay in the log).
 */
export function classifyGrpcJsStatus(status: GrpcJsStatus, facts: GrpcJsCallFacts): ClassifiedStatus {
  const { code } = status;
  const details = typeof status.details === "string" ? status.details : "";
  // grpc-js rejects a compressed message it cannot decode (no grpc-encoding, an unknown one)
  // with an Error instead of a status, which leaves the status without a code.
  if (typeof code !== "number") return protocol(GrpcCode.INTERNAL, PROTOCOL_VIOLATION.compressed);
  // Number("abc"): a grpc-status that is not a number.
  if (!Number.isInteger(code)) return protocol(GrpcCode.UNKNOWN, PROTOCOL_VIOLATION.badStatus);
  switch (code) {
    case GrpcCode.OK:
      // The transport resolves OK with exactly one message (and catches a second itself), so an
      // OK here came without a message: the unary cardinality is broken.
      return protocol(GrpcCode.UNIMPLEMENTED, PROTOCOL_VIOLATION.noMessage);
    case GrpcCode.DEADLINE_EXCEEDED:
      if (facts.deadlineReached) return { origin: "deadline", code, message: details };
      break;
    case GrpcCode.UNKNOWN:
      // A 200 response whose trailers (or trailers-only headers) had no grpc-status.
      if (details === "Received HTTP status code 200" || details === "No status information received") return protocol(code, PROTOCOL_VIOLATION.noStatus);
      break;
  }
  // A status in a trailers-only response is the upstream's own, whatever its text: such a
  // response carries the content-type the gRPC spec requires of every response, and grpc-js's
  // own statuses carry no metadata at all.
  if (hasGrpcContentType(status.metadata)) return { origin: "upstream", code: knownGrpcCode(code), message: details };
  switch (code) {
    case GrpcCode.INTERNAL: {
      const reset = RST_STREAM.exec(details);
      if (reset !== null) return Number(reset[1]) === 0 ? protocol(code, PROTOCOL_VIOLATION.noStatus) : protocol(code, resetViolation(Number(reset[1])));
      if (RST_STREAM_LOCAL.test(details)) return { origin: "connection", code: GrpcCode.UNAVAILABLE, message: details };
      if (BAD_COMPRESSED_DATA.test(details)) return protocol(code, PROTOCOL_VIOLATION.badCompressedData);
      break;
    }
    case GrpcCode.CANCELLED:
      if (details === "Call cancelled") return protocol(code, resetViolation(RST_CANCEL));
      break;
    case GrpcCode.PERMISSION_DENIED:
      if (details === "Protocol not secure enough") return protocol(code, resetViolation(RST_INADEQUATE_SECURITY));
      break;
    case GrpcCode.RESOURCE_EXHAUSTED: {
      if (details === "Bandwidth exhausted or memory limit exceeded") return protocol(code, resetViolation(RST_ENHANCE_YOUR_CALM));
      const maxBytes = facts.maxReceiveMessageBytes;
      // The reply's own size: grpc-js read it from a prefix after the response headers, against
      // the gateway's limit (an upstream refusing a large request answers without headers).
      const tooLarge = TOO_LARGE.exec(details);
      if (tooLarge !== null && facts.gotHeaders && Number(tooLarge[2]) === maxBytes) return limit(code, details, Number(tooLarge[1]), maxBytes);
      if (details === `Received message that decompresses to a size larger than ${maxBytes}`) return limit(code, details, undefined, maxBytes);
      break;
    }
    case GrpcCode.UNAVAILABLE:
      return { origin: answeredUnavailable(details, facts) ? "upstream" : "connection", code, message: details };
  }
  return { origin: "upstream", code: knownGrpcCode(code), message: details };
}

/**
 * Whether an UNAVAILABLE that did not come trailers-only is the upstream's answer rather than
 * grpc-js's own (a refused or dropped connection): it came after the response headers and is
 * none of grpc-js's connection texts. An intermediary's non-gRPC HTTP 502/503/504 is an answer
 * too, mapped as the http2 transport maps it.
 */
function answeredUnavailable(details: string, facts: GrpcJsCallFacts): boolean {
  if (HTTP_STATUS.test(details)) return true;
  return facts.gotHeaders && !LOCAL_UNAVAILABLE.test(details);
}

function hasGrpcContentType(metadata: Metadata): boolean {
  const contentType = metadata.get("content-type")[0];
  return typeof contentType === "string" && isGrpcContentType(contentType);
}

function protocol(code: GrpcCode, message: string): ClassifiedStatus {
  return { origin: "protocol", code, message };
}

function limit(code: GrpcCode, message: string, bytes: number | undefined, maxBytes: number): ClassifiedStatus {
  return { origin: "limit", code, message, limit: { direction: "response", bytes, maxBytes } };
}

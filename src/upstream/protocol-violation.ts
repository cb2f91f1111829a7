import { rstCodeName } from "./grpc-wire-status.js";

/**
 * What an upstream did wrong, in words both transports share, so the same broken reply gives
 * the same error message whichever transport read it. These texts reach REST clients (after
 * "upstream protocol error calling /pkg.Service/Method: "), so they name what happened on the
 * wire and never echo the upstream's bytes or addresses.
 */
export const PROTOCOL_VIOLATION = Object.freeze({
  tooManyMessages: "the upstream sent more than one response message for a unary call",
  noMessage: "the upstream sent no response message for a unary call",
  truncated: "the reply ended inside a message",
  compressed: "the upstream sent a compressed message without an encoding the gateway accepts",
  badFlag: "the upstream sent a message with an invalid flag byte",
  notGrpc: "the reply's content-type is not application/grpc",
  noStatus: "the upstream ended the call without a grpc-status",
  badStatus: "the upstream sent a malformed grpc-status",
  badCompressedData: "the upstream sent a compressed message that does not decompress",
});

/** The upstream reset the stream before its status (PROTOCOL-HTTP2.md: a call ends with a status). */
export function resetViolation(rstCode: number): string {
  return `the upstream reset the stream (RST_STREAM ${rstCodeName(rstCode)})`;
}

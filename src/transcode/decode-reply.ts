import type { AnyBinding } from "../binding.js";
import { badUpstreamResponse } from "../errors/gateway-error.js";
import { MAX_DEPTH } from "./json/json-policy.js";

/**
 * Decodes the upstream's reply with the binding's ts-proto codec. Bytes that do not decode, or
 * that nest deeper than the decoder's recursion limit (MAX_DEPTH message levels), are the
 * upstream's fault: a 502 `PG_ERR_UPSTREAM_BAD_RESPONSE`, not a 500 and not an internal-error log.
 */
export function decodeReply(binding: AnyBinding, bytes: Uint8Array): unknown {
  try {
    return binding.responseCodec.decode(bytes);
  } catch (error) {
    const detail = error instanceof Error && /recursion/i.test(error.message) ? `it is nested more than ${MAX_DEPTH} message levels deep` : "malformed protobuf bytes";
    throw badUpstreamResponse(`the reply of ${binding.rpcPath} does not decode as ${binding.responseType}: ${detail}`, error);
  }
}

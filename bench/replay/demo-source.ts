import { GrpcCode } from "../../src/errors/grpc-code.js";
import { UpstreamError } from "../../src/upstream/upstream-error.js";
import type { MetadataEntries, Upstream } from "../../src/upstream/upstream.js";
import type { ReplySource } from "./reply-cache.js";

const CALL_TIMEOUT_MS = 10_000;

/** HTTP's own headers node:http2 adds to a trailers-only answer, which the wire client reads as metadata: not the demo's, and `date` would go stale. */
const NOT_METADATA: ReadonlySet<string> = new Set(["date"]);
const demoMetadata = (entries: MetadataEntries): MetadataEntries => entries.filter(([key]) => !NOT_METADATA.has(key));

/**
 * Asks `upstream` (Protogate's wire upstream to the real demo backend): its message and trailers,
 * or the status it answered (code, message, trailer metadata with `grpc-status-details-bin`).
 * The call carries no metadata: the answer is taken as independent of it (see `ReplyCache`), and
 * the demo's only header metadata, the `x-request-id` echo, is then left out of the error's
 * metadata (the replay server echoes it per call). A call that got no answer from the demo (a
 * connection failure, a deadline) is UNAVAILABLE and not cached.
 */
export function upstreamReplySource(upstream: Upstream, timeoutMs = CALL_TIMEOUT_MS): ReplySource {
  return async (path, message) => {
    try {
      const result = await upstream.call({ rpcPath: path, request: message, metadata: [], deadline: Date.now() + timeoutMs, timeoutMs });
      return { reply: { kind: "message", message: Buffer.from(result.response), trailers: result.trailers }, cacheable: true };
    } catch (error) {
      if (error instanceof UpstreamError && error.origin === "upstream") {
        return { reply: { kind: "status", code: error.code, message: error.message, trailers: demoMetadata(error.metadata) }, cacheable: true };
      }
      const why = error instanceof Error ? error.message : String(error);
      return { reply: { kind: "status", code: GrpcCode.UNAVAILABLE, message: `the replay backend got no answer from the demo backend: ${why}`, trailers: [] }, cacheable: false };
    }
  };
}

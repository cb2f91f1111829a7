import type { OpenApiInfo, OpenApiServer } from "./openapi-types.js";
import type { OpenApiSettings } from "./settings.js";
import type { ProtoDocumentOptions } from "./swagger-option.js";

/** The title and version of a document nothing else names. */
export const DEFAULT_INFO: OpenApiInfo = { title: "Protogate API", version: "1.0.0" };

/** The document's `info`, `servers` and API-key header, from every source. */
export interface DocumentInfo {
  readonly info: OpenApiInfo;
  readonly servers: readonly OpenApiServer[];
  readonly apiKeyHeader?: string;
}

/**
 * Merges the sources field by field: `generate`'s flags win over the protos' `openapiv2_swagger`
 * option, which wins over the defaults (title "Protogate API", version "1.0.0", no servers).
 * Servers are taken whole from one source (flags, else the option).
 */
export function documentInfo(fromProtos: ProtoDocumentOptions | undefined, flags: OpenApiSettings): DocumentInfo {
  const protoInfo = fromProtos?.info ?? {};
  const description = flags.description ?? protoInfo.description;
  const info: OpenApiInfo = {
    ...protoInfo,
    title: flags.title ?? protoInfo.title ?? DEFAULT_INFO.title,
    version: flags.version ?? protoInfo.version ?? DEFAULT_INFO.version,
    ...(description === undefined ? {} : { description }),
  };
  const urls = flags.servers ?? fromProtos?.servers ?? [];
  return { info, servers: urls.map((url) => ({ url })), ...(flags.apiKeyHeader === undefined ? {} : { apiKeyHeader: flags.apiKeyHeader }) };
}

import { REQUEST_ID_HEADER } from "../observe/request-id.js";
import type { IncomingHttpHeaders } from "node:http";
import { badRequest } from "../errors/gateway-error.js";

/** gRPC metadata as ordered key/value pairs; `-bin` keys carry Buffers. */
export type MetadataPairs = Array<[string, string | Buffer]>;

/**
 * Request headers forwarded as gRPC metadata by default (besides every `Grpc-Metadata-<key>`):
 * credentials, request correlation, W3C trace context and the client's language. `user-agent`
 * is forwarded as `x-forwarded-user-agent`, because the gRPC `user-agent` header belongs to the
 * gateway's own gRPC client (grpc-js sets it) and identifies the gateway to the upstream.
 */
export const DEFAULT_FORWARD_HEADERS: readonly string[] = Object.freeze([
  "authorization",
  "traceparent",
  "tracestate",
  "accept-language",
  "user-agent",
]);

/** Prefix of request headers forwarded as metadata `<key>`, and of response headers carrying metadata. */
export const METADATA_HEADER_PREFIX = "grpc-metadata-";
const RESPONSE_HEADER_PREFIX = "Grpc-Metadata-";
const PREFIXED_REQUEST_ID = METADATA_HEADER_PREFIX + REQUEST_ID_HEADER;

/** Connection-specific headers (RFC 9110 §7.6.1); also forbidden in HTTP/2, so never metadata. */
const HOP_BY_HOP: ReadonlySet<string> = new Set(["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host"]);
/** Keys the HTTP/2 framing, grpc-js or the gateway itself own. */
const RESERVED_KEYS: ReadonlySet<string> = new Set([
  "content-type",
  "content-length",
  "user-agent",
  "expect",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-user-agent",
]);
/** Response metadata that describes the upstream's transport, not the API: never sent to clients. */
const TRANSPORT_RESPONSE_KEYS: ReadonlySet<string> = new Set(["content-type", "content-length", "date"]);

/** gRPC metadata keys: lower-case letters, digits, `_`, `-`, `.`. */
const METADATA_KEY = /^[0-9a-z_.-]+$/;
/** gRPC ASCII metadata values: printable ASCII only. */
const METADATA_TEXT_VALUE = /^[\x20-\x7e]*$/;
/** What Node accepts in a response header value. */
const HTTP_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface MetadataMapperOptions {
  /** Request headers forwarded as metadata (lower-case); defaults to `DEFAULT_FORWARD_HEADERS`. */
  forwardHeaders?: readonly string[];
  /**
   * Headers (lower-case) a later step removes from the metadata anyway (the edge auth's credential
   * and identity headers: `EdgeAuth.droppedHeaders`), skipped here at once: checking the value
   * of an `Authorization` header with a 700-byte token only to drop it cost about 0.4 µs a request.
   */
  droppedHeaders?: ReadonlySet<string>;
}

/**
 * Who called the gateway, for the `x-forwarded-*` metadata: only what the gateway itself knows
 * or believes (the adapter applies `server.trustProxy`), never the client's own claims.
 */
export interface ClientInfo {
  /** The client IP: the peer address, or under `trustProxy` the first untrusted hop. */
  readonly ip: string;
  /** The `Host` the client asked for (under `trustProxy`, a trusted peer's `X-Forwarded-Host`). */
  readonly host: string;
  /** `http` or `https` (under `trustProxy`, a trusted peer's `X-Forwarded-Proto`). */
  readonly protocol: string;
  /**
   * The addresses the gateway vouches for, nearest first: the peer, then each address a trusted
   * proxy reported, up to and including the first untrusted hop (proxy-addr's `all`, Fastify's
   * `request.ips`). Absent: the peer alone, i.e. `[ip]`.
   */
  readonly forwardedFor?: readonly string[];
}

/** Maps HTTP request headers to gRPC metadata and upstream metadata back to HTTP response headers. */
export interface MetadataMapper {
  /**
   * The metadata of the upstream call: the allow-listed headers (an invalid value is dropped),
   * every `Grpc-Metadata-<key>` header as `<key>` (`-bin` values base64-decoded; an invalid or
   * reserved one is a 400 `PG_ERR_BAD_METADATA`), then `x-forwarded-for`, `x-forwarded-host`,
   * `x-forwarded-proto` from `client` (what the gateway knows, never the client's own
   * `X-Forwarded-*` headers) and `x-forwarded-user-agent`. Hop-by-hop headers, including those
   * the `Connection` header names, are never forwarded.
   */
  toGrpc(headers: IncomingHttpHeaders, client: ClientInfo): MetadataPairs;
  /**
   * Response headers `Grpc-Metadata-<key>` for the upstream's header and trailer metadata
   * (binary values base64, repeated values joined with ", "), without gRPC-internal keys.
   */
  toHttp(headers: ReadonlyArray<readonly [string, string | Buffer]>, trailers: ReadonlyArray<readonly [string, string | Buffer]>): Record<string, string>;
}

/** Whether `key` may never be sent as request metadata. */
function isReservedKey(key: string): boolean {
  return key.startsWith("grpc-") || key.startsWith(":") || key.startsWith("proxy-") || HOP_BY_HOP.has(key) || RESERVED_KEYS.has(key);
}

/**
 * Creates the mapper. Throws when `forwardHeaders` names a header that can never be forwarded
 * (hop-by-hop, `grpc-*`, framing, gateway-owned `x-forwarded-*`), so a config mistake fails at start.
 */
export function createMetadataMapper(options: MetadataMapperOptions = {}): MetadataMapper {
  const dropped = options.droppedHeaders ?? new Set<string>();
  const forward = new Set<string>();
  for (const raw of options.forwardHeaders ?? DEFAULT_FORWARD_HEADERS) {
    const name = raw.toLowerCase();
    if (name === "user-agent") {
      forward.add(name);
      continue;
    }
    if (!METADATA_KEY.test(name) || isReservedKey(name) || name.startsWith(METADATA_HEADER_PREFIX)) {
      throw new Error(`metadata.forwardHeaders: header ${JSON.stringify(raw)} cannot be forwarded as gRPC metadata (hop-by-hop, reserved or not a valid metadata key)`);
    }
    forward.add(name);
  }

  return {
    toGrpc(headers, client) {
      const connectionScoped = connectionHeaderNames(headers.connection);
      const pairs: MetadataPairs = [];
      // for...in, not Object.entries: no array per header on the hot path.
      for (const rawName in headers) {
        const value = headers[rawName];
        const name = rawName.toLowerCase();
        // The request ID is the gateway's (checked, or generated): the recorder sends it, once.
        if (value === undefined || connectionScoped.has(name) || name === REQUEST_ID_HEADER || name === PREFIXED_REQUEST_ID) continue;
        if (name.startsWith(METADATA_HEADER_PREFIX)) {
          addPrefixedHeader(pairs, name, value);
        } else if (forward.has(name) && name !== "user-agent" && !dropped.has(name)) {
          for (const item of valuesOf(value)) addLenient(pairs, name, item);
        }
      }
      const forwardedFor = forwardedForValue(client);
      if (forwardedFor !== "") pairs.push(["x-forwarded-for", forwardedFor]);
      if (client.host !== "" && METADATA_TEXT_VALUE.test(client.host)) pairs.push(["x-forwarded-host", client.host]);
      if (client.protocol !== "" && METADATA_TEXT_VALUE.test(client.protocol)) pairs.push(["x-forwarded-proto", client.protocol]);
      const userAgent = headers["user-agent"];
      if (forward.has("user-agent") && typeof userAgent === "string" && !connectionScoped.has("user-agent") && METADATA_TEXT_VALUE.test(userAgent)) {
        pairs.push(["x-forwarded-user-agent", userAgent]);
      }
      return pairs;
    },

    toHttp(headers, trailers) {
      const out: Record<string, string> = {};
      addResponseHeaders(out, headers);
      addResponseHeaders(out, trailers);
      return out;
    },
  };
}

/**
 * Adds `Grpc-Metadata-<key>` headers for the metadata that may be shown to a client, in order;
 * a repeated key's values are joined with ", " (header metadata first, then trailer metadata).
 */
function addResponseHeaders(out: Record<string, string>, entries: ReadonlyArray<readonly [string, string | Buffer]>): void {
  for (const [key, value] of entries) {
    // The cheap tests first: most keys of a plain reply are transport or grpc- keys.
    if (TRANSPORT_RESPONSE_KEYS.has(key) || key.startsWith("grpc-") || HOP_BY_HOP.has(key) || !METADATA_KEY.test(key)) continue;
    const text = typeof value === "string" ? value : value.toString("base64");
    if (!HTTP_HEADER_VALUE.test(text)) continue;
    const name = RESPONSE_HEADER_PREFIX + key;
    const existing = out[name];
    out[name] = existing === undefined ? text : `${existing}, ${text}`;
  }
}

/** `Grpc-Metadata-<key>`: the client explicitly sends metadata, so a bad one is its error. */
function addPrefixedHeader(pairs: MetadataPairs, headerName: string, value: string | string[]): void {
  const key = headerName.slice(METADATA_HEADER_PREFIX.length);
  if (key === "" || !METADATA_KEY.test(key) || isReservedKey(key)) {
    throw badRequest("PG_ERR_BAD_METADATA", `header ${headerName}: metadata key ${JSON.stringify(key)} is reserved or invalid`);
  }
  for (const item of valuesOf(value)) {
    if (key.endsWith("-bin")) {
      for (const part of item.split(",")) {
        const bytes = decodeBase64(part.trim());
        if (bytes === undefined) throw badRequest("PG_ERR_BAD_METADATA", `header ${headerName}: value is not valid base64`);
        pairs.push([key, bytes]);
      }
    } else {
      if (!METADATA_TEXT_VALUE.test(item)) throw badRequest("PG_ERR_BAD_METADATA", `header ${headerName}: value must be printable ASCII`);
      pairs.push([key, item]);
    }
  }
}

/** An allow-listed header: a value gRPC cannot carry is dropped, not an error. */
function addLenient(pairs: MetadataPairs, key: string, value: string): void {
  if (key.endsWith("-bin")) {
    const bytes = decodeBase64(value.trim());
    if (bytes !== undefined) pairs.push([key, bytes]);
  } else if (METADATA_TEXT_VALUE.test(value)) {
    pairs.push([key, value]);
  }
}

function valuesOf(value: string | string[]): string[] {
  return typeof value === "string" ? [value] : value;
}

/** Header names listed in `Connection` (lower-case), which are scoped to the client's connection. */
/** What `connectionHeaderNames` gives a request without a Connection header (shared, never written). */
const NO_NAMES: ReadonlySet<string> = new Set();

function connectionHeaderNames(connection: string | string[] | undefined): ReadonlySet<string> {
  if (connection === undefined) return NO_NAMES;
  const names = new Set<string>();
  for (const item of valuesOf(connection)) {
    for (const token of item.split(",")) {
      const name = token.trim().toLowerCase();
      if (name !== "") names.add(name);
    }
  }
  return names;
}

/**
 * `x-forwarded-for` for the upstream: the chain the gateway vouches for, farthest first (the
 * usual order of the header), ending with the peer. The client's own `X-Forwarded-For` is never
 * copied: from an untrusted peer it is whatever the client wrote, and passing it on let clients
 * forge the addresses a backend logs or trusts. Addresses that are not metadata text are left out.
 */
function forwardedForValue(client: ClientInfo): string {
  const chain = client.forwardedFor ?? [client.ip];
  let value = "";
  for (let i = chain.length - 1; i >= 0; i--) {
    const address = chain[i];
    if (address === "" || !METADATA_TEXT_VALUE.test(address)) continue;
    value = value === "" ? address : `${value}, ${address}`;
  }
  return value;
}

/** Standard base64, padded or not (gRPC accepts both); undefined when malformed. */
function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, "");
  if (unpadded.length % 4 === 1) return undefined;
  if (text.length !== unpadded.length && text.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, "base64");
}

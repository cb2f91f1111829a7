import type { IncomingHttpHeaders } from "node:http2";
import { decodeHuffman } from "./hpack-huffman.js";

/**
 * HPACK (RFC 7541) for Protogate's own HTTP/2 client: a complete decoder for the upstream's
 * response headers and trailers (static and dynamic table, size updates, Huffman strings) and a
 * request encoder that needs no dynamic table (see `RequestHeaderEncoder`). `encodeHeaderBlock`
 * encodes any field list the same way, for a server's responses (the bench's replay backend);
 * the decoder serves both sides, as HPACK is the same in both directions.
 */

/** RFC 7541, Appendix A. Index 1 is STATIC_TABLE[0]. */
export const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];

/** Per-entry overhead of the dynamic table's size accounting (RFC 7541, 4.1). */
const ENTRY_OVERHEAD = 32;
/** Integers beyond this are refused (no legitimate index, length or size comes near). */
const MAX_INTEGER = 2 ** 31 - 1;

/**
 * Headers whose repeats Node's `node:http2` drops (the first wins), so that both transports
 * give the gRPC layer the same header object; `set-cookie` collects an array, `cookie` joins
 * with "; ", every other repeat joins with ", ".
 */
const SINGLE_VALUE: ReadonlySet<string> = new Set([
  ":status", ":method", ":authority", ":scheme", ":path", ":protocol",
  "access-control-allow-credentials", "access-control-max-age", "access-control-request-method", "age", "authorization",
  "content-encoding", "content-language", "content-length", "content-location", "content-md5", "content-range",
  "content-type", "date", "dnt", "etag", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
  "if-range", "if-unmodified-since", "last-modified", "location", "max-forwards", "proxy-authorization", "range",
  "referer", "retry-after", "tk", "upgrade-insecure-requests", "user-agent", "x-content-type-options",
]);

/**
 * A decoded header block: the fields as Node gives them, whether the list passed the size bound
 * (then `headers` is partial), and what makes it malformed under RFC 9113 section 8.2, if anything.
 * Whether the pseudo-headers fit a request or a response is the caller's check.
 */
export interface DecodedBlock {
  readonly headers: IncomingHttpHeaders;
  readonly tooLarge: boolean;
  readonly malformed: string | undefined;
}

/**
 * Decodes header blocks of one connection, in order (the dynamic table is the connection's).
 * `decode` returns undefined on a block that breaks RFC 7541 (a COMPRESSION_ERROR for the
 * connection; `failure` says what), never throws. A header list over `maxHeaderListSize`
 * (counted as RFC 9113 does: name + value + 32 per field) is still decoded to its end, to keep
 * the table in step, but its fields are no longer collected.
 */
export class HpackDecoder {
  /** Dynamic table, oldest first. */
  private readonly entries: Array<readonly [string, string]> = [];
  private size = 0;
  /** The table's current maximum, as the encoder last set it (at most `maxTableSize`). */
  private capacity: number;
  failure = "";
  /** Read position within the block being decoded. */
  private at = 0;

  constructor(
    /** SETTINGS_HEADER_TABLE_SIZE we advertised. */
    private readonly maxTableSize: number,
    private readonly maxHeaderListSize: number,
  ) {
    this.capacity = maxTableSize;
  }

  decode(block: Buffer): DecodedBlock | undefined {
    const headers: IncomingHttpHeaders = Object.create(null) as IncomingHttpHeaders;
    let listSize = 0;
    let tooLarge = false;
    let fieldSeen = false;
    let regularSeen = false;
    let malformed: string | undefined;
    this.at = 0;
    while (this.at < block.length) {
      const first = block[this.at];
      let name: string | undefined;
      let value: string | undefined;
      if (first & 0x80) {
        // Indexed field (6.1).
        const index = this.integer(block, 7);
        if (index === undefined) return undefined;
        const entry = this.entry(index);
        if (entry === undefined) return undefined;
        [name, value] = entry;
      } else if ((first & 0xe0) === 0x20) {
        // Dynamic table size update (6.3): only before the first field.
        const size = this.integer(block, 5);
        if (size === undefined) return undefined;
        if (fieldSeen) return this.fail("a dynamic table size update after a header field");
        if (size > this.maxTableSize) return this.fail(`a dynamic table size update to ${size}, above the ${this.maxTableSize} allowed`);
        this.capacity = size;
        this.evict(0);
        continue;
      } else {
        // Literal (6.2): with incremental indexing (01), without (0000) or never indexed (0001).
        const indexing = (first & 0xc0) === 0x40;
        const index = this.integer(block, indexing ? 6 : 4);
        if (index === undefined) return undefined;
        if (index === 0) name = this.string(block);
        else name = this.entry(index)?.[0];
        if (name === undefined) return undefined;
        value = this.string(block);
        if (value === undefined) return undefined;
        if (indexing) this.insert(name, value);
      }
      fieldSeen = true;
      const pseudo = name.charCodeAt(0) === 0x3a; /* ":" */
      malformed ??= malformedField(name, value, pseudo, regularSeen, headers);
      if (!pseudo) regularSeen = true;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxHeaderListSize) tooLarge = true;
      if (!tooLarge) addField(headers, name, value);
    }
    return { headers, tooLarge, malformed };
  }

  private fail(failure: string): undefined {
    this.failure = failure;
    return undefined;
  }

  private entry(index: number): readonly [string, string] | undefined {
    if (index >= 1 && index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1];
    const dynamic = index - STATIC_TABLE.length;
    if (index === 0 || dynamic > this.entries.length) return this.fail(`a header index ${index} outside the tables`);
    return this.entries[this.entries.length - dynamic];
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // An entry larger than the table empties it and is not added (4.4).
    this.evict(size);
    if (size > this.capacity) return;
    this.entries.push([name, value]);
    this.size += size;
  }

  /** Evicts oldest entries until `room` more bytes fit. */
  private evict(room: number): void {
    while (this.entries.length > 0 && this.size + room > this.capacity) {
      const [name, value] = this.entries.shift() as readonly [string, string];
      this.size -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }

  /** An integer with an N-bit prefix (5.1) at the read position. */
  private integer(block: Buffer, prefixBits: number): number | undefined {
    const max = (1 << prefixBits) - 1;
    let value = block[this.at++] & max;
    if (value < max) return value;
    let shift = 0;
    for (;;) {
      if (this.at >= block.length) return this.fail("a header block that ends inside an integer");
      const byte = block[this.at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (value > MAX_INTEGER) return this.fail("an integer too large in a header block");
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** A string literal (5.2) at the read position, as latin1 (one char per byte, as Node reads header bytes). */
  private string(block: Buffer): string | undefined {
    if (this.at >= block.length) return this.fail("a header block that ends before a string");
    const huffman = (block[this.at] & 0x80) !== 0;
    const length = this.integer(block, 7);
    if (length === undefined) return undefined;
    const start = this.at;
    if (start + length > block.length) return this.fail("a header string longer than its block");
    this.at += length;
    if (!huffman) return block.toString("latin1", start, start + length);
    // Nothing decoded may pass the list bound, whose excess is refused anyway.
    const text = decodeHuffman(block, start, length, this.maxHeaderListSize);
    return text ?? this.fail("an invalid Huffman-coded header string");
  }
}

function addField(headers: IncomingHttpHeaders, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) {
    headers[name] = name === "set-cookie" ? [value] : value;
  } else if (SINGLE_VALUE.has(name)) {
    // The first wins.
  } else if (Array.isArray(existing)) {
    existing.push(value);
  } else {
    headers[name] = `${existing}${name === "cookie" ? "; " : ", "}${value}`;
  }
}

/** Fields specific to an HTTP/1 connection, which an HTTP/2 message must not carry (RFC 9113, 8.2.2). */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);
/** A field name as HTTP/2 allows it, pseudo-headers included: lower-case token characters. */
const VALID_FIELD_NAME = /^:?[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/**
 * What a field value must not hold: NUL, CR, LF (RFC 9113, 8.2.1). Leading or trailing white
 * space, which 8.2.1 also forbids, is let through: a gRPC server may end a grpc-message with a
 * space, and failing the call would hide the upstream's real status.
 */
const MALFORMED_VALUE = /[\0\r\n]/;

/**
 * Why one decoded field makes its block malformed (RFC 9113, 8.2 and 8.3), or undefined. nghttp2
 * (under node:http2) refuses such blocks with a stream error; so does the wire client, so that
 * both transports fail the same calls.
 */
function malformedField(name: string, value: string, pseudo: boolean, regularSeen: boolean, headers: IncomingHttpHeaders): string | undefined {
  if (!VALID_FIELD_NAME.test(name)) return `the field name ${JSON.stringify(name.slice(0, 64))} is not a lower-case token`;
  if (MALFORMED_VALUE.test(value)) return `the value of ${name} holds NUL, CR or LF`;
  if (pseudo && regularSeen) return `the pseudo-header ${name} comes after a regular field`;
  if (pseudo && headers[name] !== undefined) return `the pseudo-header ${name} comes twice`;
  if (CONNECTION_SPECIFIC.has(name)) return `the connection-specific field ${name}`;
  if (name === "te" && value !== "trailers") return `te other than "trailers"`;
  return undefined;
}

/** Control characters HTTP/2 forbids in a field value (RFC 9113, 8.2.1), and anything beyond one byte. */
const INVALID_VALUE = /[\0\r\n]|[^\0-\xff]/;
/** A field name as HTTP/2 allows it: lower-case token characters. */
const VALID_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/**
 * Encodes request header blocks as literals without indexing: no dynamic table, so nothing to
 * keep in step with the peer, no SETTINGS_HEADER_TABLE_SIZE to follow, and the fixed part of a
 * gRPC request (method, scheme, authority, content-type, te, user-agent) is encoded once per
 * connection and copied. Incremental indexing would shrink repeated headers on the wire, but the
 * bytes saved cost more CPU to find than the copy they save on a local network.
 */
export class RequestHeaderEncoder {
  private readonly fixedPrefix: Buffer;
  private readonly fixedSuffix: Buffer;

  constructor(scheme: "http" | "https", authority: string, userAgent: string) {
    const fields: Buffer[] = [
      Buffer.from([0x83]), // :method POST (static 3)
      Buffer.from([scheme === "http" ? 0x86 : 0x87]), // :scheme (static 6, 7)
      literal(1, authority), // :authority
    ];
    this.fixedPrefix = Buffer.concat(fields);
    this.fixedSuffix = Buffer.concat([literal(31, "application/grpc"), literalNewName("te", "trailers"), literal(58, userAgent)]);
  }

  /**
   * The header block of a gRPC request: the fixed fields, `:path`, then `fields` (name, value
   * pairs, flattened), after `headroom` bytes left for the caller (a frame header). Throws a TypeError for a value HTTP/2 cannot carry (a gateway bug: the
   * metadata mapper only passes valid ones).
   */
  encode(path: string, fields: readonly string[], headroom: number): Buffer {
    let size = headroom + this.fixedPrefix.length + this.fixedSuffix.length + stringSize(path) + 1;
    for (let i = 0; i < fields.length; i += 2) {
      checkField(fields[i], fields[i + 1]);
      size += 1 + stringSize(fields[i]) + stringSize(fields[i + 1]);
    }
    const block = Buffer.allocUnsafe(size);
    let at = headroom + this.fixedPrefix.copy(block, headroom);
    block[at] = 0x04; // literal without indexing, :path (static 4)
    at = writeString(block, at + 1, path);
    at += this.fixedSuffix.copy(block, at);
    for (let i = 0; i < fields.length; i += 2) at = writeNewNameLiteral(block, at, fields[i], fields[i + 1]);
    return block.subarray(0, at);
  }
}

/** Static table index of each name (its first entry), and of each whole field with a value. */
const STATIC_NAME_INDEX = new Map<string, number>();
const STATIC_FIELD_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
  if (value !== "") STATIC_FIELD_INDEX.set(`${name}\0${value}`, i + 1);
});

/**
 * A header block of `fields` (name, value pairs, flattened; pseudo-headers first, as the caller
 * orders them) after `headroom` bytes left for the caller, without a dynamic table (see
 * `RequestHeaderEncoder` for why): a field the static table holds whole is indexed (`:status
 * 200` is one byte), any other a literal without indexing, its name indexed when the static
 * table has it. Throws a TypeError for a name or value HTTP/2 cannot carry.
 */
export function encodeHeaderBlock(fields: readonly string[], headroom: number): Buffer {
  let size = headroom;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (!STATIC_NAME_INDEX.has(name)) checkField(name, value);
    else if (INVALID_VALUE.test(value)) throw new TypeError(`Invalid value for HTTP/2 header ${JSON.stringify(name)}`);
    size += 6 + stringSize(name) + stringSize(value);
  }
  const block = Buffer.allocUnsafe(size);
  let at = headroom;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    const whole = STATIC_FIELD_INDEX.get(`${name}\0${value}`);
    const nameIndex = STATIC_NAME_INDEX.get(name);
    if (whole !== undefined) at = writeInteger(block, at, whole, 7, 0x80);
    else if (nameIndex !== undefined) at = writeString(block, writeInteger(block, at, nameIndex, 4, 0x00), value);
    else at = writeNewNameLiteral(block, at, name, value);
  }
  return block.subarray(0, at);
}

/** Throws a TypeError for a field HTTP/2 cannot carry (a caller's bug). */
function checkField(name: string, value: string): void {
  if (!VALID_NAME.test(name)) throw new TypeError(`Invalid HTTP/2 header name ${JSON.stringify(name)}`);
  if (INVALID_VALUE.test(value)) throw new TypeError(`Invalid value for HTTP/2 header ${JSON.stringify(name)}`);
}

/** Writes a literal field without indexing with a new (not indexed) name at `at`; returns the end. */
function writeNewNameLiteral(target: Buffer, at: number, name: string, value: string): number {
  target[at] = 0x00;
  return writeString(target, writeString(target, at + 1, name), value);
}

/** A literal field without indexing whose name is static entry `index` (< 15). */
function literal(index: number, value: string): Buffer {
  const block = Buffer.allocUnsafe(6 + stringSize(value));
  const end = writeInteger(block, 0, index, 4, 0x00);
  return block.subarray(0, writeString(block, end, value));
}

function literalNewName(name: string, value: string): Buffer {
  const block = Buffer.allocUnsafe(1 + stringSize(name) + stringSize(value));
  return block.subarray(0, writeNewNameLiteral(block, 0, name, value));
}

/** Bytes a raw string literal of `text` takes, at most (length prefix included). */
function stringSize(text: string): number {
  return text.length + 5;
}

/** Writes `text` as a raw (not Huffman-coded) string literal at `at`; returns the end. */
function writeString(target: Buffer, at: number, text: string): number {
  const end = writeInteger(target, at, text.length, 7, 0x00);
  return end + target.write(text, end, "latin1");
}

/** Writes an integer with an N-bit prefix (RFC 7541, 5.1), the prefix byte's other bits `high`; returns the end. */
export function writeInteger(target: Buffer, at: number, value: number, prefixBits: number, high: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    target[at] = high | value;
    return at + 1;
  }
  target[at++] = high | max;
  let rest = value - max;
  while (rest >= 0x80) {
    target[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  target[at] = rest;
  return at + 1;
}

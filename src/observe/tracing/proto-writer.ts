/**
 * A minimal protobuf writer for the OTLP span encoder: appends to one growable buffer that is
 * reused batch after batch. Nested messages are written in place: `begin` reserves one length
 * byte, `end` fills it in, moving the message right in the rare case its length needs more
 * (spans are a few hundred bytes, attributes mostly under 128), so no message is encoded twice.
 * Only what OTLP spans use: varints below 2^53, fixed32/fixed64, UTF-8 strings, hex as bytes.
 */
export class ProtoWriter {
  private buffer: Buffer;
  /** Bytes written so far. */
  length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Makes room for `bytes` more. */
  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /** A field's tag (field number and wire type), as a varint. */
  tag(field: number, wireType: WireType): void {
    this.varint(field * 8 + wireType);
  }

  /** A non-negative integer below 2^53 as a varint. */
  varint(value: number): void {
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  fixed32(value: number): void {
    this.reserve(4);
    this.buffer.writeUInt32LE(value >>> 0, this.length);
    this.length += 4;
  }

  /** A non-negative integer (below 2^64; exact below 2^53) as fixed64. */
  fixed64(value: number): void {
    this.reserve(8);
    const high = Math.floor(value / 0x1_0000_0000);
    this.buffer.writeUInt32LE((value - high * 0x1_0000_0000) >>> 0, this.length);
    this.buffer.writeUInt32LE(high >>> 0, this.length + 4);
    this.length += 8;
  }

  /** A length-delimited UTF-8 string field. */
  string(field: number, value: string): void {
    this.tag(field, WireType.LengthDelimited);
    this.reserve(value.length * 3 + 8);
    const start = this.open();
    this.length = value.length <= SHORT_STRING ? this.writeShort(value) : this.length + this.buffer.write(value, this.length, "utf8");
    this.close(start);
  }

  /**
   * A short string copied by hand while it is ASCII (most span text: methods, paths, IDs), which
   * measured cheaper than a call into Buffer.write per string; the rest goes to Buffer.write.
   */
  private writeShort(value: string): number {
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) return at + buffer.write(value.slice(i), at, "utf8");
      buffer[at++] = code;
    }
    return at;
  }

  /** A length-delimited bytes field from lower-case hex (trace and span IDs, always valid hex). */
  hexBytes(field: number, hex: string): void {
    this.tag(field, WireType.LengthDelimited);
    const bytes = hex.length >>> 1;
    this.varint(bytes);
    this.reserve(bytes);
    const buffer = this.buffer;
    for (let i = 0, at = this.length; i < bytes; i++) buffer[at + i] = (HEX_VALUE[hex.charCodeAt(2 * i)] << 4) | HEX_VALUE[hex.charCodeAt(2 * i + 1)];
    this.length += bytes;
  }

  /** Bytes written as they are (a pre-encoded field or message). */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Starts a nested message (or string) field; returns what `end` needs. */
  begin(field: number): number {
    this.tag(field, WireType.LengthDelimited);
    return this.open();
  }

  /** Ends the nested field `begin` started, writing its length. */
  end(start: number): void {
    this.close(start);
  }

  /** The bytes written so far (a view, valid until the next write or reset). */
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }

  /** Reserves one length byte; the content starts right after it. */
  private open(): number {
    this.reserve(1);
    this.length++;
    return this.length;
  }

  private close(start: number): void {
    const size = this.length - start;
    if (size < 0x80) {
      this.buffer[start - 1] = size;
      return;
    }
    const extra = varintSize(size) - 1;
    this.reserve(extra);
    this.buffer.copyWithin(start + extra, start, this.length);
    this.length += extra;
    let at = start - 1;
    let rest = size;
    while (rest >= 0x80) {
      this.buffer[at++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[at] = rest;
  }
}

/** Strings up to this long are copied by hand (see writeShort). */
const SHORT_STRING = 64;

/** The value of each hex digit's character code (lower and upper case). */
const HEX_VALUE = new Uint8Array(128);
for (let digit = 0; digit < 16; digit++) {
  HEX_VALUE["0123456789abcdef".charCodeAt(digit)] = digit;
  HEX_VALUE["0123456789ABCDEF".charCodeAt(digit)] = digit;
}

/** Protobuf wire types. */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** Bytes a varint of `value` takes. */
export function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

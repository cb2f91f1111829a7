/**
 * A read position in protobuf wire-format bytes, for the direct binary -> JSON writer
 * (wire-json.ts). Every read takes the end of the enclosing message and never goes past it.
 *
 * It accepts a subset of what @bufbuild/protobuf's BinaryReader (the object path's reader)
 * accepts, and reads what it accepts the same way (varints, 64-bit values, UTF-8): anything
 * else throws BAIL, and the caller renders the reply through the object path instead, which then
 * gives its own result or error. Hand-written rather than the library's reader because that one
 * allocates an array per tag, and the point of the direct writer is to allocate next to nothing.
 */

/**
 * Thrown when a direct path (the reply writer, wire-json.ts; the request encoder, json-binary.ts)
 * cannot vouch for its result; never leaves the shaper or the request encoder.
 */
export const BAIL: Error = new Error("the direct path leaves this message to the object path");

export function bail(): never {
  throw BAIL;
}

export const WIRE_VARINT = 0;
export const WIRE_BIT64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
export const WIRE_BIT32 = 5;

/** The BinaryReader's limit on nested groups when it skips an unknown group. */
const GROUP_NESTING_LIMIT = 100;
const TWO_POW_32 = 4294967296;
/** A 64-bit high word within ±2^21: the whole value is a safe integer. */
const SAFE_HIGH = 0x200000;

export class WireCursor {
  pos = 0;
  /** The high word of the last `varint64` (the low word is its result). */
  private hi = 0;
  private readonly buf: Buffer;
  /** The whole buffer as Latin-1 text, made on the first string read: ASCII strings are slices of it. */
  private latin1: string | undefined;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.buf.length;
  }

  /** A tag (field number * 8 + wire type) as an unsigned number; a tag the BinaryReader rejects bails. */
  tag(end: number): number {
    const start = this.pos;
    const tag = this.uint32(end);
    if (this.pos - start > 5 || (this.pos - start === 5 && this.buf[this.pos - 1] > 0x0f)) bail();
    if (tag < 8 || (tag & 7) > 5) bail();
    return tag;
  }

  /** A varint's low 32 bits, unsigned (10 bytes at most, like the BinaryReader's uint32). */
  uint32(end: number): number {
    const buf = this.buf;
    let result = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= end) bail();
      const b = buf[this.pos++];
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
    if (this.pos >= end) bail();
    let b = buf[this.pos++];
    result |= (b & 0x0f) << 28;
    for (let read = 5; b >= 0x80; read++) {
      if (read === 10 || this.pos >= end) bail();
      b = buf[this.pos++];
    }
    return result >>> 0;
  }

  int32(end: number): number {
    return this.uint32(end) | 0;
  }

  sint32(end: number): number {
    const n = this.uint32(end);
    return (n >>> 1) ^ -(n & 1);
  }

  /** A varint of up to 10 bytes: returns the low word, leaves the high word in `hi`. */
  private varint64(end: number): number {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= end) bail();
      const b = buf[this.pos++];
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.hi = 0;
        return lo;
      }
    }
    if (this.pos >= end) bail();
    const middle = buf[this.pos++];
    lo |= (middle & 0x0f) << 28;
    hi = (middle & 0x70) >> 4;
    if (middle < 0x80) {
      this.hi = hi;
      return lo;
    }
    for (let shift = 3; shift <= 31; shift += 7) {
      if (this.pos >= end) bail();
      const b = buf[this.pos++];
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.hi = hi;
        return lo;
      }
    }
    return bail();
  }

  /** int64 as its decimal text (what ts-proto holds with forceLong=string). */
  int64(end: number): string {
    const lo = this.varint64(end);
    return decimal(lo, this.hi, true);
  }

  uint64(end: number): string {
    const lo = this.varint64(end);
    return decimal(lo, this.hi, false);
  }

  sint64(end: number): string {
    const lo = this.varint64(end);
    const hi = this.hi;
    const sign = -(lo & 1);
    return decimal(((lo >>> 1) | ((hi & 1) << 31)) ^ sign, (hi >>> 1) ^ sign, true);
  }

  fixed64(end: number): string {
    const lo = this.sfixed32(end);
    return decimal(lo, this.sfixed32(end), false);
  }

  sfixed64(end: number): string {
    const lo = this.sfixed32(end);
    return decimal(lo, this.sfixed32(end), true);
  }

  bool(end: number): boolean {
    const lo = this.varint64(end);
    return lo !== 0 || this.hi !== 0;
  }

  fixed32(end: number): number {
    this.need(4, end);
    this.pos += 4;
    return this.buf.readUInt32LE(this.pos - 4);
  }

  sfixed32(end: number): number {
    this.need(4, end);
    this.pos += 4;
    return this.buf.readInt32LE(this.pos - 4);
  }

  float(end: number): number {
    this.need(4, end);
    this.pos += 4;
    return this.buf.readFloatLE(this.pos - 4);
  }

  double(end: number): number {
    this.need(8, end);
    this.pos += 8;
    return this.buf.readDoubleLE(this.pos - 8);
  }

  /** Reads a length and returns where the length-delimited value ends (within `end`). */
  lengthEnd(end: number): number {
    const length = this.uint32(end);
    if (length > end - this.pos) bail();
    return this.pos + length;
  }

  string(end: number): string {
    const stop = this.lengthEnd(end);
    const start = this.pos;
    this.pos = stop;
    const buf = this.buf;
    for (let i = start; i < stop; i++) {
      // Node's UTF-8 decoding gives what the BinaryReader's TextDecoder (ignoreBOM) gives, U+FFFD
      // for each bad sequence included (the property tests compare both on random bytes).
      if (buf[i] >= 0x80) return buf.toString("utf8", start, stop);
    }
    // ASCII: a slice of one Latin-1 string of the whole reply, much cheaper than a decode per string.
    return (this.latin1 ??= buf.toString("latin1")).slice(start, stop);
  }

  /** A bytes value as standard base64 with padding. */
  base64(end: number): string {
    const stop = this.lengthEnd(end);
    const start = this.pos;
    this.pos = stop;
    return this.buf.toString("base64", start, stop);
  }

  /** Skips one value of a field the writer does not print, as the BinaryReader would (groups included). */
  skip(tag: number, end: number, groupLimit = GROUP_NESTING_LIMIT): void {
    switch (tag & 7) {
      case WIRE_VARINT:
        while (true) {
          if (this.pos >= end) bail();
          if (this.buf[this.pos++] < 0x80) return;
        }
      case WIRE_BIT64:
        return this.advance(8, end);
      case WIRE_LENGTH_DELIMITED:
        this.pos = this.lengthEnd(end);
        return;
      case WIRE_START_GROUP:
        if (groupLimit <= 0) bail();
        for (;;) {
          const inner = this.tag(end);
          if ((inner & 7) === WIRE_END_GROUP) {
            if (inner >>> 3 !== tag >>> 3) bail();
            return;
          }
          this.skip(inner, end, groupLimit - 1);
        }
      case WIRE_BIT32:
        return this.advance(4, end);
      default:
        return bail();
    }
  }

  private need(bytes: number, end: number): void {
    if (end - this.pos < bytes) bail();
  }

  private advance(bytes: number, end: number): void {
    this.need(bytes, end);
    this.pos += bytes;
  }
}

/** The decimal text of a 64-bit value given as two 32-bit words (signed: two's complement). */
function decimal(lo: number, hi: number, signed: boolean): string {
  const high = signed ? hi | 0 : hi >>> 0;
  if (high < SAFE_HIGH && high >= -SAFE_HIGH) return String(high * TWO_POW_32 + (lo >>> 0));
  const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return String(signed ? BigInt.asIntN(64, value) : value);
}

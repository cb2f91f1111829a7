/**
 * Protobuf wire-format output for the direct JSON -> binary encoder (json-binary.ts). It writes
 * what @bufbuild/protobuf's BinaryWriter (the object path's writer) writes for the same values,
 * byte for byte (the property tests compare the two), but into one growing scratch buffer:
 * a nested message reserves one byte for its length and moves its bytes only in the rare case
 * the length needs more, where BinaryWriter keeps a stack of chunk lists per fork. Hand-written
 * for that reason: the point of the direct encoder is to allocate next to nothing but the result.
 */

const TWO_POW_32 = 4294967296;
/** A scratch buffer grown past this (by a large message) is let go at the next reset. */
const KEPT_CAPACITY = 65536;
/** Decimal strings this short (sign included) are safe integers: 15 digits < 2^53. */
const SAFE_DIGITS = 15;

/**
 * The writing methods the binary plans (binary-plan.ts) use: @bufbuild/protobuf's BinaryWriter
 * (the object path's `encode`) and WireWriter both have them, so the direct encoder hands its
 * writer to a plan for the values it does not write itself (the well-known types).
 */
export interface ProtoWriter {
  tag(fieldNumber: number, wireType: number): this;
  int32(value: number): this;
  uint32(value: number): this;
  sint32(value: number): this;
  fixed32(value: number): this;
  sfixed32(value: number): this;
  int64(value: string): this;
  uint64(value: string): this;
  sint64(value: string): this;
  fixed64(value: string): this;
  sfixed64(value: string): this;
  float(value: number): this;
  double(value: number): this;
  bool(value: boolean): this;
  string(value: string): this;
  bytes(value: Uint8Array): this;
  fork(): this;
  join(): this;
}

export class WireWriter implements ProtoWriter {
  pos = 0;
  private buf: Buffer;
  /** Where each open fork's length byte is. */
  private readonly forks: number[] = [];

  constructor(private readonly capacity = 4096) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Starts a new message (the writer is reused across messages: calls are synchronous, never overlapping). */
  reset(): void {
    this.pos = 0;
    this.forks.length = 0;
    if (this.buf.length > KEPT_CAPACITY) this.buf = Buffer.allocUnsafe(this.capacity);
  }

  /** A copy of what was written, in its own exactly-sized buffer. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  private ensure(more: number): void {
    if (this.pos + more <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + more));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** A varint of a uint32 (or any value in [0, 2^32)). */
  varint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let v = value >>> 0;
    while (v > 127) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** A varint of the 64-bit value `hi * 2^32 + lo` (both words unsigned). */
  private varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (hi > 0 || lo > 127) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  tag(fieldNumber: number, wireType: number): this {
    this.varint32(((fieldNumber << 3) | wireType) >>> 0);
    return this;
  }

  int32(value: number): this {
    // Negative int32s are sign-extended to 64 bits (10 bytes), as every protobuf writer does.
    if (value >= 0) this.varint32(value);
    else this.varint64(value >>> 0, 0xffffffff);
    return this;
  }

  uint32(value: number): this {
    this.varint32(value);
    return this;
  }

  sint32(value: number): this {
    this.varint32(((value << 1) ^ (value >> 31)) >>> 0);
    return this;
  }

  fixed32(value: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  sfixed32(value: number): this {
    this.ensure(4);
    this.buf.writeInt32LE(value | 0, this.pos);
    this.pos += 4;
    return this;
  }

  float(value: number): this {
    this.ensure(4);
    this.buf.writeFloatLE(value, this.pos);
    this.pos += 4;
    return this;
  }

  double(value: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
    return this;
  }

  bool(value: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
    return this;
  }

  /** From the decimal string (ts-proto's forceLong=string values), as are the other 64-bit types. */
  int64(decimal: string): this {
    splitWords(decimal);
    this.varint64(lo64, hi64);
    return this;
  }

  uint64(decimal: string): this {
    return this.int64(decimal);
  }

  sint64(decimal: string): this {
    splitWords(decimal);
    const sign = hi64 >> 31; // all ones when negative
    this.varint64(((lo64 << 1) ^ sign) >>> 0, (((hi64 << 1) | (lo64 >>> 31)) ^ sign) >>> 0);
    return this;
  }

  fixed64(decimal: string): this {
    splitWords(decimal);
    this.ensure(8);
    this.buf.writeUInt32LE(lo64, this.pos);
    this.buf.writeUInt32LE(hi64, this.pos + 4);
    this.pos += 8;
    return this;
  }

  sfixed64(decimal: string): this {
    return this.fixed64(decimal);
  }

  /** A length-delimited UTF-8 string (the caller has checked it is valid Unicode). */
  string(text: string): this {
    const n = text.length;
    if (n <= 42) {
      // At most 3 bytes per UTF-16 unit: a one-byte length; ASCII copied by hand (no native call).
      this.ensure(1 + n * 3);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const unit = text.charCodeAt(i);
        if (unit >= 0x80) break;
        buf[p++] = unit;
      }
      if (i < n) p += buf.write(text.slice(i), p, "utf8");
      buf[start] = p - start - 1;
      this.pos = p;
      return this;
    }
    if (n * 3 < 16384) {
      // A length of at most two bytes: reserved, then the bytes written (one scan, not two).
      this.ensure(2 + n * 3);
      const buf = this.buf;
      const start = this.pos;
      const length = buf.write(text, start + 2, "utf8");
      if (length < 128) {
        buf.copyWithin(start + 1, start + 2, start + 2 + length);
        buf[start] = length;
        this.pos = start + 1 + length;
      } else {
        buf[start] = (length & 0x7f) | 0x80;
        buf[start + 1] = length >>> 7;
        this.pos = start + 2 + length;
      }
      return this;
    }
    const length = Buffer.byteLength(text, "utf8");
    this.varint32(length);
    this.ensure(length);
    this.pos += this.buf.write(text, this.pos, "utf8");
    return this;
  }

  bytes(value: Uint8Array): this {
    this.varint32(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** Starts a length-delimited part (a nested message, a packed run), ended by `join`. */
  fork(): this {
    this.ensure(1);
    this.forks.push(this.pos++);
    return this;
  }

  /** Ends the last part begun: writes its length, moving its bytes if the length needs more than one. */
  join(): this {
    const start = this.forks.pop()!;
    const length = this.pos - start - 1;
    if (length < 128) {
      this.buf[start] = length;
      return this;
    }
    let size = 1;
    for (let v = length >>> 7; v > 0; v >>>= 7) size++;
    this.ensure(size - 1);
    const buf = this.buf;
    buf.copyWithin(start + size, start + 1, this.pos);
    let p = start;
    let v = length;
    while (v > 127) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
    this.pos += size - 1;
    return this;
  }

  /** Drops what was written from `pos` on (an empty packed run): the caller has joined nothing since. */
  rewind(pos: number): void {
    this.pos = pos;
  }
}

/** The words of the last splitWords (module state rather than a fresh array per value). */
let lo64 = 0;
let hi64 = 0;

/** Sets lo64/hi64 to the two's-complement words of a 64-bit integer given as a canonical decimal string. */
function splitWords(decimal: string): void {
  if (decimal.length <= SAFE_DIGITS) {
    const n = Number(decimal);
    const m = n < 0 ? -n : n;
    let lo = m >>> 0;
    let hi = Math.floor(m / TWO_POW_32) >>> 0;
    if (n < 0) {
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    lo64 = lo;
    hi64 = hi;
    return;
  }
  const v = BigInt.asUintN(64, BigInt(decimal));
  lo64 = Number(v & 0xffffffffn);
  hi64 = Number(v >> 32n);
}

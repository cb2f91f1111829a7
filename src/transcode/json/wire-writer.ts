/**
 * Protobuf wire-format output for the direct JSON -> binary encoder (json-binary.ts). It writes
 * what @bufbuild/protobuf's BinaryWriter (the object path's writer) writes for the same values,
 * byte for byte (the property tests compare the two), but into one growing scratch buffer:
 * a nested message reserves one byte for its length and moves its bytes only in the rare case
 * the length needs more, where BinaryWriter keeps a stack of chunk lists per fork. Hand-written
 * for that reason: the point of the direct encoder is to allocate next to nothing but the result.
 */

const TWO_POW_32 = 4294967296;
/** Decimal strings this short (sign included) are safe integers: 15 digits < 2^53. */
const SAFE_DIGITS = 15;

export class WireWriter {
  pos = 0;
  private buf: Buffer;

  constructor(capacity = 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Starts a new message (the writer is reused: one per encoder, calls never overlap). */
  reset(): void {
    this.pos = 0;
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

  tag(fieldNumber: number, wireType: number): void {
    this.varint32(((fieldNumber << 3) | wireType) >>> 0);
  }

  int32(value: number): void {
    // Negative int32s are sign-extended to 64 bits (10 bytes), as every protobuf writer does.
    if (value >= 0) this.varint32(value);
    else this.varint64(value >>> 0, 0xffffffff);
  }

  uint32(value: number): void {
    this.varint32(value);
  }

  sint32(value: number): void {
    this.varint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  sfixed32(value: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(value | 0, this.pos);
    this.pos += 4;
  }

  float(value: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(value, this.pos);
    this.pos += 4;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** int64 and uint64 from their decimal string (ts-proto's forceLong=string values). */
  int64(decimal: string): void {
    splitWords(decimal);
    this.varint64(lo64, hi64);
  }

  sint64(decimal: string): void {
    splitWords(decimal);
    const lo = lo64;
    const hi = hi64;
    const sign = hi >> 31; // all ones when negative
    this.varint64(((lo << 1) ^ sign) >>> 0, (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0);
  }

  fixed64(decimal: string): void {
    splitWords(decimal);
    this.ensure(8);
    this.buf.writeUInt32LE(lo64, this.pos);
    this.buf.writeUInt32LE(hi64, this.pos + 4);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string (the caller has checked it is valid Unicode). */
  string(text: string): void {
    const n = text.length;
    // At most 3 bytes per UTF-16 unit: a string of up to 42 units has a one-byte length.
    if (n <= 42) {
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
      return;
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
      return;
    }
    const length = Buffer.byteLength(text, "utf8");
    this.varint32(length);
    this.ensure(length);
    this.pos += this.buf.write(text, this.pos, "utf8");
  }

  bytes(value: Uint8Array): void {
    this.varint32(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Bytes as they are (a message another writer encoded). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Starts a length-delimited part (a nested message, a packed run); returns what `join` takes. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the part begun at `start`: writes its length there, moving the bytes if it needs more than one. */
  join(start: number): void {
    const length = this.pos - start - 1;
    if (length < 128) {
      this.buf[start] = length;
      return;
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

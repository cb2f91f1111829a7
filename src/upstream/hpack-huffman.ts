/**
 * HPACK's static Huffman code (RFC 7541, 5.2 and Appendix B). The code is canonical, so the
 * appendix is fully described by its code lengths: the codes are assigned in order of (length,
 * symbol), which gives exactly the appendix's bit patterns (symbol 256 is EOS). From them a
 * decoder reading 4 bits at a time is built once at load: one state per inner node of the code
 * tree, so a string decodes with one table lookup per nibble instead of a walk per bit.
 */

/** Code length in bits of symbols 0..256 (RFC 7541, Appendix B). */
const CODE_LENGTHS: readonly number[] = "13 23 28 28 28 28 28 28 28 24 30 28 28 30 28 28 28 28 28 28 28 28 30 28 28 28 28 28 28 28 28 28 6 10 10 12 13 6 8 11 10 10 8 11 8 6 6 6 5 5 5 6 6 6 6 6 6 6 7 8 15 6 12 10 13 6 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 8 7 8 13 19 13 14 6 15 5 6 5 6 5 6 6 6 5 7 7 6 6 6 5 6 7 6 5 5 6 7 7 7 7 7 15 11 14 13 28 20 22 20 20 22 22 22 23 22 23 23 23 23 23 24 23 24 24 22 23 24 23 23 23 23 21 22 23 22 23 23 24 22 21 20 22 22 23 23 21 23 22 22 24 21 22 23 23 21 21 22 21 23 22 23 23 20 22 22 22 23 22 22 23 26 26 20 19 22 23 22 25 26 26 26 27 27 26 24 25 19 21 26 27 27 26 27 24 21 21 26 26 28 27 27 27 20 24 20 21 22 21 21 23 22 22 25 25 24 24 26 23 26 27 26 26 27 27 27 27 27 28 27 27 27 27 27 26 30"
  .split(" ")
  .map(Number);

const EOS = 256;

/** The canonical codes: codes[symbol], right-aligned in lengths[symbol] bits. */
function canonicalCodes(lengths: readonly number[]): number[] {
  const order = lengths.map((_, symbol) => symbol).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const codes = new Array<number>(lengths.length).fill(0);
  let code = 0;
  let previous = lengths[order[0]];
  order.forEach((symbol, i) => {
    if (i > 0) code = (code + 1) * 2 ** (lengths[symbol] - previous);
    previous = lengths[symbol];
    codes[symbol] = code;
  });
  return codes;
}

const CANONICAL = canonicalCodes(CODE_LENGTHS);

/** Transition of (state, nibble): the next state, and the symbol completed on the way (-1: none, -2: EOS or error). */
const NEXT = new Uint16Array(256 * 16);
const EMIT = new Int16Array(256 * 16);
/** Whether input may end in a state: at a symbol boundary, or inside at most 7 bits that are all ones (padding, RFC 7541 5.2). */
const ACCEPTS = new Uint8Array(256);

function build(): void {
  const codes = CANONICAL;
  // The code tree: inner nodes 0..255 (0 the root) with children; a leaf is stored as -(symbol + 1).
  const children: Array<[number, number]> = [[0, 0]];
  const depth = [0];
  const allOnes = [true];
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const length = CODE_LENGTHS[symbol];
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const b = Math.floor(codes[symbol] / 2 ** bit) % 2;
      if (bit === 0) {
        children[node][b] = -(symbol + 1);
        break;
      }
      let next = children[node][b];
      if (next === 0) {
        next = children.length;
        children.push([0, 0]);
        depth.push(depth[node] + 1);
        allOnes.push(allOnes[node] && b === 1);
        children[node][b] = next;
      }
      node = next;
    }
  }
  for (let state = 0; state < children.length; state++) {
    ACCEPTS[state] = state === 0 || (allOnes[state] && depth[state] <= 7) ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let emit = -1;
      for (let bit = 3; bit >= 0; bit--) {
        const next = children[node][(nibble >> bit) & 1];
        if (next < 0) {
          const symbol = -next - 1;
          // EOS inside a string is an error (RFC 7541, 5.2); a code is at least 5 bits, so one symbol per nibble at most.
          emit = symbol === EOS ? -2 : symbol;
          node = 0;
          if (emit === -2) break;
        } else {
          node = next;
        }
      }
      NEXT[state * 16 + nibble] = node;
      EMIT[state * 16 + nibble] = emit;
    }
  }
}
build();

/**
 * Decodes `length` Huffman-coded bytes of `source` from `start` into a latin1 string; undefined
 * when they are not a valid code (EOS, bad padding) or would decode to more than `maxChars`.
 */
export function decodeHuffman(source: Buffer, start: number, length: number, maxChars: number): string | undefined {
  // A symbol takes at least 5 bits: the output is at most 8/5 of the input.
  const out = Buffer.allocUnsafe(Math.min(maxChars + 1, Math.ceil((length * 8) / 5)));
  let size = 0;
  let state = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const byte = source[i];
    for (let shift = 4; shift >= 0; shift -= 4) {
      const index = state * 16 + ((byte >> shift) & 0xf);
      const emit = EMIT[index];
      if (emit === -2) return undefined;
      if (emit >= 0) {
        if (size >= maxChars) return undefined;
        out[size++] = emit;
      }
      state = NEXT[index];
    }
  }
  if (ACCEPTS[state] === 0) return undefined;
  return out.toString("latin1", 0, size);
}

/** Huffman-encodes a latin1 string (for tests and for a future encoder that prefers it). */
export function encodeHuffman(text: string): Buffer {
  const codes = CANONICAL;
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const symbol = text.charCodeAt(i) & 0xff;
    const length = CODE_LENGTHS[symbol];
    for (let bit = length - 1; bit >= 0; bit--) {
      acc = (acc << 1) | (Math.floor(codes[symbol] / 2 ** bit) % 2);
      if (++bits === 8) {
        bytes.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  // Padding: the most significant bits of EOS, all ones.
  if (bits > 0) bytes.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Buffer.from(bytes);
}


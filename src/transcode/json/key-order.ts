import { ScalarType, type JsonObject } from "@bufbuild/protobuf";

/*
 * The order in which map entries and google.protobuf.Struct keys are written, so that identical
 * replies give identical bytes whatever order the backend sent the entries in. It is protobuf-go's
 * (protojson's `order.GenericKeyOrder`, which grpc-gateway writes with): false before true,
 * integers in numeric order, strings in Unicode code point order (Go compares the UTF-8 bytes,
 * which orders like the code points; JavaScript's `<` compares UTF-16 code units, which differs
 * for characters above U+FFFF against U+E000..U+FFFF). Empty and one-entry maps are not sorted.
 */

/** How the keys of one map key type are put in order. */
export interface KeyOrder {
  /** Sorts keys (as ts-proto holds them) in place. */
  sort(keys: unknown[]): void;
  /**
   * Whether JavaScript could move some of these keys (sorted, not yet written) when they become
   * the properties of an object: keys that are array indices go first, in numeric order.
   */
  mayBeMoved(sorted: readonly unknown[]): boolean;
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MINUS = 0x2d;

const compareNumbers = (a: number, b: number): number => a - b;

/** Code point order of two strings. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x >= 0xd800 && y >= 0xd800 ? codePointRank(x) - codePointRank(y) : x - y;
  }
  return a.length - b.length;
}

/** Among code units from U+D800: surrogates (halves of code points above U+FFFF) rank after U+E000..U+FFFF. */
function codePointRank(unit: number): number {
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}

/** Numeric order of two canonical decimal integers (int64 keys: ts-proto holds them as strings). */
export function compareDecimal(a: string, b: string): number {
  const aNegative = a.charCodeAt(0) === MINUS;
  if (aNegative !== (b.charCodeAt(0) === MINUS)) return aNegative ? -1 : 1;
  const magnitude = a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  return aNegative ? -magnitude : magnitude;
}

const startsWithDigit = (key: string): boolean => {
  const c = key.charCodeAt(0);
  return c >= DIGIT_0 && c <= DIGIT_9;
};

/*
 * Hand-written insertion sort for small arrays (most maps and Structs): at ten keys, the call
 * into Array.prototype.sort costs more than the sorting itself (this is about twice as fast), and
 * keys a backend already sent in order cost one comparison each. Larger arrays go to
 * Array.prototype.sort, unless they are in order already (a backend that sorts: about half the
 * time of letting the sort find out).
 */
const INSERTION_LIMIT = 16;

/** Sorts strings by UTF-16 code units, or numbers numerically: the `>` operator's order. */
function sortByOperator(keys: string[] | number[]): void {
  if (keys.length > INSERTION_LIMIT) {
    let i = 1;
    while (i < keys.length && !(keys[i - 1] > keys[i])) i++;
    if (i === keys.length) return;
    if (typeof keys[0] === "number") (keys as number[]).sort(compareNumbers);
    else keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    for (; j >= 0 && keys[j] > key; j--) keys[j + 1] = keys[j];
    keys[j + 1] = key;
  }
}

function sortByComparison<T>(keys: T[], compare: (a: T, b: T) => number): void {
  if (keys.length > INSERTION_LIMIT) {
    let i = 1;
    while (i < keys.length && compare(keys[i - 1], keys[i]) <= 0) i++;
    if (i < keys.length) keys.sort(compare);
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    for (; j >= 0 && compare(keys[j], key) > 0; j--) keys[j + 1] = keys[j];
    keys[j + 1] = key;
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Sorts strings in code point order. UTF-16 code unit order (what `>` and a comparator-less
 * Array.prototype.sort give) is the same unless a string holds a character above U+FFFF (a
 * surrogate pair), and much faster than comparing in JavaScript, so it is used whenever no key
 * holds a surrogate.
 */
export function sortCodePoints(keys: string[]): void {
  for (let i = 0; i < keys.length; i++) {
    if (SURROGATE.test(keys[i])) {
      sortByComparison(keys, compareCodePoints);
      return;
    }
  }
  sortByOperator(keys);
}

/** String keys (map<string, ...>, Struct): "10" sorts before "9", which JavaScript would reverse. */
export const STRING_KEY_ORDER: KeyOrder = {
  sort: (keys) => sortCodePoints(keys as string[]),
  mayBeMoved: (sorted) => (sorted as readonly string[]).some(startsWithDigit),
};

// Unsigned and non-negative keys: the array-index keys JavaScript puts first are the smallest
// ones, already first in numeric order. Only a negative key before them can be moved.
const NEVER_MOVED = (): boolean => false;
const NEGATIVE_FIRST = (sorted: readonly unknown[]): boolean => String(sorted[0]).charCodeAt(0) === MINUS;

const compareLongs = (a: unknown, b: unknown): number => compareDecimal(String(a), String(b));

const SMALL_INT_ORDER: KeyOrder = { sort: (keys) => sortByOperator(keys as number[]), mayBeMoved: (sorted) => (sorted[0] as number) < 0 };
const SMALL_UINT_ORDER: KeyOrder = { sort: (keys) => sortByOperator(keys as number[]), mayBeMoved: NEVER_MOVED };
const LONG_ORDER: KeyOrder = { sort: (keys) => sortByComparison(keys, compareLongs), mayBeMoved: NEGATIVE_FIRST };
const ULONG_ORDER: KeyOrder = { sort: (keys) => sortByComparison(keys, compareLongs), mayBeMoved: NEVER_MOVED };
// A bool map has at most two keys: false goes first.
const BOOL_ORDER: KeyOrder = {
  sort: (keys) => {
    if (keys.length === 2 && keys[0] === true) keys.reverse();
  },
  mayBeMoved: NEVER_MOVED,
};

/** The key order of a map key type (the scalar types protobuf allows as map keys). */
export function keyOrder(type: ScalarType): KeyOrder {
  switch (type) {
    case ScalarType.STRING:
      return STRING_KEY_ORDER;
    case ScalarType.BOOL:
      return BOOL_ORDER;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return SMALL_INT_ORDER;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return SMALL_UINT_ORDER;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return LONG_ORDER;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return ULONG_ORDER;
    default:
      throw new Error(`${ScalarType[type]} is not a map key type`);
  }
}

/**
 * `out` (whose properties were added in the order of `keys`) as an object that JSON.stringify and
 * Object.keys walk in that order. Any JavaScript object lists array-index keys ("0" to
 * "4294967294") first, in numeric order, whatever order they were added in; only when that moved
 * a key is `out` wrapped in a Proxy whose `ownKeys` gives the intended order (JSON.stringify
 * follows it; JSON.rawJSON, which could write the text itself, needs Node 21 or later).
 */
export function keepKeyOrder(out: JsonObject, keys: readonly string[]): JsonObject {
  const actual = Object.keys(out);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== keys[i]) return new Proxy(out, { ownKeys: () => keys });
  }
  return out;
}

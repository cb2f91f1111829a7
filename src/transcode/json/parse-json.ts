import { badRequest } from "../../errors/gateway-error.js";
import { fieldSegment, formatPath } from "./json-field-error.js";
import { keySegment, setOwn } from "./json-object.js";
import { LosslessInteger } from "./lossless-integer.js";

// A 16+ digit number token may exceed 2^53. Strings can match too: that only costs the slow path.
const MAYBE_BIG_INTEGER = /(?:^|[[,:])[\t\n\r ]*-?[0-9]{16}/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * Parses a JSON text like JSON.parse, except that:
 * - integer literals a double cannot hold exactly become `LosslessInteger`s (so int64 fields get
 *   their exact value);
 * - an object with the same key twice is rejected (JSON.parse keeps the last one, so
 *   `{"role":"ROLE_MEMBER","role":"ROLE_ADMIN"}` would pass as ADMIN while a proxy or logger that
 *   keeps the first saw MEMBER; Google's reference parser rejects it too), naming the key and its
 *   path (`pathPrefix`: JSON names of where the body sits in the request message);
 * - a syntax error becomes a 400 `PG_ERR_BAD_JSON` naming the line and column (never echoing the
 *   text).
 * Deep nesting is fine here: nothing recurses, and the codec bounds the depth it accepts.
 *
 * The common body takes JSON.parse, then a cheap exact check that no key can be duplicated
 * (`mayHaveDuplicateKeys`); only bodies failing that check or holding a long integer take the
 * careful parser.
 */
export function parseJsonText(text: string, pathPrefix: readonly string[] = []): unknown {
  if (!MAYBE_BIG_INTEGER.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      // The careful parser finds the position of the error.
      return parseCarefully(text, pathPrefix);
    }
    if (!mayHaveDuplicateKeys(text, value)) return value;
  }
  return parseCarefully(text, pathPrefix);
}

/**
 * For a `text` that JSON.parse turned into `value`: false only if no object in it has a key twice.
 * Every object member is a key string followed by ":", so the colons whose previous non-space
 * character is a quote bound the number of members from above (a colon inside a string only adds
 * to the bound, never hides a member). JSON.parse keeps one property per distinct key, so the own
 * keys of the parsed objects count the distinct keys. members >= distinct keys, with equality
 * exactly when nothing repeats: when the bound equals the distinct keys, so do the members.
 */
export function mayHaveDuplicateKeys(text: string, value: unknown): boolean {
  let bound = 0;
  for (let colon = text.indexOf(":"); colon !== -1; colon = text.indexOf(":", colon + 1)) {
    let i = colon - 1;
    let c = text.charCodeAt(i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(--i);
    if (c === 0x22) bound++;
  }
  return bound !== 0 && bound !== countKeys(value);
}

/**
 * The keys of every object in a parsed JSON value (iterative: any depth). `for...in` is about
 * twice as fast as Object.keys here; it would also count enumerable properties someone added to
 * Object.prototype, which can only make the counts differ and send the body to the careful parser.
 */
function countKeys(root: unknown): number {
  if (typeof root !== "object" || root === null) return 0;
  let count = 0;
  const pending: object[] = [root];
  while (pending.length > 0) {
    const value = pending.pop() as Record<string, unknown> | unknown[];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === "object" && item !== null) pending.push(item);
      }
    } else {
      for (const key in value) {
        count++;
        const item = value[key];
        if (typeof item === "object" && item !== null) pending.push(item);
      }
    }
  }
  return count;
}

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

type Frame = { array: unknown[]; object?: undefined; key?: undefined } | { array?: undefined; object: Record<string, unknown>; key: string };

function parseCarefully(text: string, pathPrefix: readonly string[]): unknown {
  try {
    return parse(text, pathPrefix);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split("\n").length;
    const column = error.offset - before.lastIndexOf("\n");
    throw badRequest("PG_ERR_BAD_JSON", `the request body is not valid JSON: ${error.reason} at line ${line}, column ${column} (offset ${error.offset})`, error);
  }
}

/** `duplicate key "k"`, with the key's path when it is not at the top. */
function duplicateKey(key: string, stack: readonly Frame[], pathPrefix: readonly string[]): string {
  const segments = pathPrefix.map(fieldSegment);
  for (let f = 0; f < stack.length - 1; f++) {
    const frame = stack[f];
    segments.push(frame.array !== undefined ? `[${frame.array.length}]` : keySegment(frame.key));
  }
  segments.push(keySegment(key));
  const shownKey = JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
  return segments.length === 1 ? `duplicate key ${shownKey}` : `duplicate key ${shownKey} (at "${formatPath(segments)}")`;
}

function parse(text: string, pathPrefix: readonly string[]): unknown {
  const n = text.length;
  let i = 0;
  const stack: Frame[] = [];

  const skipSpace = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
  };
  const fail = (reason: string, at: number = i): never => {
    throw new JsonSyntaxError(at, at >= n ? "unexpected end of input" : reason);
  };
  const unexpected = (): never => fail(`unexpected character ${JSON.stringify(text[i])}`);
  const readString = (): string => {
    const start = i;
    let escaped = false;
    i++;
    for (;;) {
      if (i >= n) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in string");
      if (c === 0x5c) {
        escaped = true;
        i++;
      }
      i++;
    }
    i++;
    if (!escaped) return text.slice(start + 1, i - 1);
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail("invalid escape in string", start);
    }
  };
  const readKey = (): string => {
    skipSpace();
    if (text.charCodeAt(i) !== 0x22) unexpected();
    const key = readString();
    skipSpace();
    if (text.charCodeAt(i) !== 0x3a) fail(`expected ":" but found ${JSON.stringify(text[i])}`);
    i++;
    return key;
  };

  for (;;) {
    skipSpace();
    let value: unknown;
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      i++;
      skipSpace();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        value = {};
      } else {
        stack.push({ object: {}, key: readKey() });
        continue;
      }
    } else if (c === 0x5b) {
      i++;
      skipSpace();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        value = [];
      } else {
        stack.push({ array: [] });
        continue;
      }
    } else if (c === 0x22) {
      value = readString();
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) return unexpected();
      i = NUMBER.lastIndex;
      const literal = m[0];
      const number = Number(literal);
      value = m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(number) && BigInt(number) !== BigInt(literal) ? new LosslessInteger(literal) : number;
    } else if (text.startsWith("true", i)) {
      i += 4;
      value = true;
    } else if (text.startsWith("false", i)) {
      i += 5;
      value = false;
    } else if (text.startsWith("null", i)) {
      i += 4;
      value = null;
    } else {
      unexpected();
    }

    // A complete value: hand it to the enclosing containers, closing those that end here.
    for (;;) {
      const top = stack[stack.length - 1];
      skipSpace();
      if (top === undefined) {
        if (i < n) fail(`unexpected ${JSON.stringify(text[i])} after the JSON value`);
        return value;
      }
      const next = text.charCodeAt(i);
      if (top.array !== undefined) {
        top.array.push(value);
        if (next === 0x2c) {
          i++;
          break;
        }
        if (next !== 0x5d) fail(`expected "," or "]" but found ${JSON.stringify(text[i])}`);
        i++;
        value = top.array;
      } else {
        setOwn(top.object, top.key, value);
        if (next === 0x2c) {
          i++;
          skipSpace();
          const keyStart = i;
          top.key = readKey();
          // Every earlier key of this object is already set: the object itself is the set of seen keys.
          if (Object.hasOwn(top.object, top.key)) fail(duplicateKey(top.key, stack, pathPrefix), keyStart);
          break;
        }
        if (next !== 0x7d) fail(`expected "," or "}" but found ${JSON.stringify(text[i])}`);
        i++;
        value = top.object;
      }
      stack.pop();
    }
  }
}

import { badRequest } from "../../errors/gateway-error.js";
import { setOwn } from "./json-object.js";
import { LosslessInteger } from "./lossless-integer.js";

// A 16+ digit number token may exceed 2^53. Strings can match too: that only costs the slow path.
const MAYBE_BIG_INTEGER = /(?:^|[[,:])[\t\n\r ]*-?[0-9]{16}/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * Parses a JSON text like JSON.parse, except that integer literals a double cannot hold exactly
 * become `LosslessInteger`s (so int64 fields get their exact value), and a syntax error becomes a
 * 400 `PG_ERR_BAD_JSON` naming the line and column (never echoing the text). Deep nesting is
 * fine here: the parser is iterative and the codec bounds the depth it accepts.
 */
export function parseJsonText(text: string): unknown {
  if (!MAYBE_BIG_INTEGER.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Fall through: the careful parser finds the position of the error.
    }
  }
  return parseCarefully(text);
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

function parseCarefully(text: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split("\n").length;
    const column = error.offset - before.lastIndexOf("\n");
    throw badRequest("PG_ERR_BAD_JSON", `the request body is not valid JSON: ${error.reason} at line ${line}, column ${column} (offset ${error.offset})`, error);
  }
}

function parse(text: string): unknown {
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
          top.key = readKey();
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

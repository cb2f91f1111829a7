import { GatewayError, badRequest } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";

/** Limits of a streamed request body of JSON messages. */
export interface JsonSequenceLimits {
  /** One message's JSON text at most (413 above it). */
  readonly maxMessageBytes: number;
}

const enum State {
  /** Between values: whitespace is skipped. */
  Between,
  /** Inside an object or array (depth > 0), outside strings. */
  Nested,
  /** Inside a string; `escaped` tells whether the last byte was a backslash. */
  InString,
  /** A top-level scalar (number, true, false, null): ends at whitespace or the next value. */
  Scalar,
}

const WHITESPACE = new Set([0x20, 0x0a, 0x0d, 0x09]);
/** Bytes that end a top-level scalar because they start the next value. */
const VALUE_START = new Set([0x7b, 0x5b, 0x22]);

/**
 * Splits a byte stream of concatenated JSON values (newline-delimited JSON, or any whitespace
 * between values) into the text of each value, as the bytes arrive, without parsing them: only
 * strings, escapes and bracket depth are tracked, so the cost is one pass over the bytes. Each
 * value is then parsed by the transcoder on its own. Structural characters are ASCII, so a UTF-8
 * character split across two chunks is never misread.
 *
 * Malformed structure that the splitter can see (a closing bracket too many, a value cut off at
 * the end of the body) is a 400 naming the message's index; anything else is left to the parser.
 */
export class JsonSequenceSplitter {
  private state = State.Between;
  private depth = 0;
  private escaped = false;
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Index of the message being read (0-based), for error messages. */
  index = 0;

  constructor(private readonly limits: JsonSequenceLimits) {}

  /** Feeds a chunk; returns the values it completed, in order. */
  push(chunk: Buffer): Buffer[] {
    const values: Buffer[] = [];
    let start = -1; // where the current value starts in this chunk, or -1 when it started before
    if (this.state !== State.Between) start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      switch (this.state) {
        case State.Between:
          if (WHITESPACE.has(byte)) continue;
          start = i;
          if (byte === 0x7b || byte === 0x5b) {
            this.state = State.Nested;
            this.depth = 1;
          } else if (byte === 0x22) {
            this.state = State.InString;
            this.depth = 0;
          } else if (byte === 0x7d || byte === 0x5d) {
            throw this.malformed(`unexpected ${String.fromCharCode(byte)}`);
          } else this.state = State.Scalar;
          continue;
        case State.InString:
          if (this.escaped) this.escaped = false;
          else if (byte === 0x5c) this.escaped = true;
          else if (byte === 0x22) {
            this.state = this.depth === 0 ? State.Between : State.Nested;
            if (this.depth === 0) values.push(this.complete(chunk, start, i + 1));
          }
          continue;
        case State.Nested:
          if (byte === 0x22) this.state = State.InString;
          else if (byte === 0x7b || byte === 0x5b) this.depth++;
          else if (byte === 0x7d || byte === 0x5d) {
            if (--this.depth === 0) {
              this.state = State.Between;
              values.push(this.complete(chunk, start, i + 1));
            }
          }
          continue;
        case State.Scalar:
          if (WHITESPACE.has(byte) || VALUE_START.has(byte)) {
            values.push(this.complete(chunk, start, i));
            this.state = State.Between;
            i--; // the byte starts (or precedes) the next value
          } else if (byte === 0x7d || byte === 0x5d) throw this.malformed(`unexpected ${String.fromCharCode(byte)}`);
          continue;
      }
    }
    if (this.state !== State.Between && start >= 0) this.keep(chunk.subarray(start));
    return values;
  }

  /** The end of the body: a last scalar completes; a value cut off is an error. */
  end(): Buffer[] {
    if (this.state === State.Scalar) {
      this.state = State.Between;
      return [this.take()];
    }
    if (this.state !== State.Between) throw this.malformed("the body ends inside it");
    return [];
  }

  private keep(part: Buffer): void {
    this.partBytes += part.length;
    if (this.partBytes > this.limits.maxMessageBytes) throw this.tooLarge();
    this.parts.push(part);
  }

  private complete(chunk: Buffer, start: number, end: number): Buffer {
    this.keep(chunk.subarray(start, end));
    return this.take();
  }

  private take(): Buffer {
    const value = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    this.index++;
    return value;
  }

  private malformed(problem: string): GatewayError {
    return badRequest("PG_ERR_BAD_JSON", `request message ${this.index} is not valid JSON: ${problem}`);
  }

  private tooLarge(): GatewayError {
    return new GatewayError(GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_BODY_TOO_LARGE", `request message ${this.index} is larger than the limit of ${this.limits.maxMessageBytes} bytes`, { httpStatus: 413 });
  }
}

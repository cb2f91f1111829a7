import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { JsonSequenceSplitter } from "../../src/transcode/json-sequence.js";
import { fuzzRuns } from "../support/fuzz.js";

/** Feeds `text` to a splitter in the given chunk sizes and returns every value's text. */
function split(text: string, chunkSizes: readonly number[] = [], maxMessageBytes = 1 << 20): string[] {
  const bytes = Buffer.from(text);
  const splitter = new JsonSequenceSplitter({ maxMessageBytes });
  const values: Buffer[] = [];
  let offset = 0;
  for (const size of chunkSizes) {
    if (offset >= bytes.length) break;
    values.push(...splitter.push(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  if (offset < bytes.length) values.push(...splitter.push(bytes.subarray(offset)));
  values.push(...splitter.end());
  return values.map((value) => value.toString());
}

function failure(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error("expected a failure");
}

describe("JsonSequenceSplitter", () => {
  it.each([
    ["newline-delimited objects", '{"a":1}\n{"b":2}\n', ['{"a":1}', '{"b":2}']],
    ["objects with nothing between them", '{"a":1}{"b":[2,{"c":3}]}', ['{"a":1}', '{"b":[2,{"c":3}]}']],
    ["brackets and quotes inside strings", '{"a":"}{\\"]["}  ["x"]', ['{"a":"}{\\"]["}', '["x"]']],
    ["top-level scalars", '1 "two" true null -3.5e2\n', ["1", '"two"', "true", "null", "-3.5e2"]],
    ["a scalar right before an object", '7{"a":1}', ["7", '{"a":1}']],
    ["a scalar at the very end", "42", ["42"]],
    ["only whitespace", " \r\n\t ", []],
    ["multi-byte UTF-8", '{"name":"Zoë 🚀"}\n', ['{"name":"Zoë 🚀"}']],
  ])("%s", (_name, text, expected) => {
    expect(split(text)).toEqual(expected);
    // The same, one byte at a time.
    expect(split(text, Array.from({ length: Buffer.byteLength(text) }, () => 1))).toEqual(expected);
  });

  it("names the index of a message cut off at the end of the body", () => {
    expect(failure(() => split('{"a":1}\n{"b":'))).toMatchObject({ reason: "PG_ERR_BAD_JSON", message: "request message 1 is not valid JSON: the body ends inside it" });
  });

  it("names the index of a message with a stray closing bracket", () => {
    expect(failure(() => split('{"a":1} }'))).toMatchObject({ message: "request message 1 is not valid JSON: unexpected }" });
  });

  it("refuses a message over the per-message limit, however it is chunked, naming its index", () => {
    const big = `{"a":"${"x".repeat(100)}"}`;
    expect(split(`{}\n${big}`, [], 200)).toHaveLength(2);
    for (const chunks of [[], [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]]) {
      expect(failure(() => split(`{}\n${big}`, chunks, 50))).toMatchObject({ httpStatus: 413, message: "request message 1 is larger than the limit of 50 bytes" });
    }
  });

  it("property: any sequence of JSON values, separated by whitespace and cut anywhere, comes back value by value", () => {
    const separator = fc.stringMatching(/^[ \t\r\n]{1,3}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.jsonValue(), separator), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 20 }), (values, chunks) => {
        const texts = values.map(([value]) => JSON.stringify(value));
        const text = values.map(([, sep], i) => texts[i] + sep).join("");
        expect(split(text, chunks).map((value) => JSON.parse(value))).toEqual(texts.map((value) => JSON.parse(value)));
      }),
      fuzzRuns(300),
    );
  });
});

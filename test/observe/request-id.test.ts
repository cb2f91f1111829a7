import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSaneRequestId, MAX_REQUEST_ID_LENGTH, requestIdOf } from "../../src/observe/request-id.js";
import { fuzzRuns } from "../support/fuzz.js";

const generated = () => "generated";

describe("requestIdOf", () => {
  it.each([
    ["a UUID", "0b6f3c1e-2d4a-4f7b-9c1e-5a6b7c8d9e0f", "0b6f3c1e-2d4a-4f7b-9c1e-5a6b7c8d9e0f"],
    ["a short token", "req-42", "req-42"],
    ["visible punctuation", "a.b_c:d/e=f+g", "a.b_c:d/e=f+g"],
    ["exactly the longest", "x".repeat(MAX_REQUEST_ID_LENGTH), "x".repeat(MAX_REQUEST_ID_LENGTH)],
    ["one over the longest", "x".repeat(MAX_REQUEST_ID_LENGTH + 1), "generated"],
    ["empty", "", "generated"],
    ["a space", "req 42", "generated"],
    ["a tab", "req\t42", "generated"],
    ["a log-line forger (CR LF)", "req\r\n{\"level\":50}", "generated"],
    ["non-ASCII", "réq", "generated"],
    ["DEL", "req\u007f", "generated"],
    ["two headers joined by Node", "a, b", "generated"],
  ])("%s", (_name, header, expected) => {
    expect(requestIdOf(header, generated)).toBe(expected);
  });

  it("generates one when there is no header, or an array of them", () => {
    expect(requestIdOf(undefined, generated)).toBe("generated");
    expect(requestIdOf(["a", "b"], generated)).toBe("generated");
  });

  it("keeps exactly the sane ones: 1-128 characters from 0x21-0x7e without a comma (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 160 }), (value) => {
        const kept = requestIdOf(value, generated) === value;
        const sane = value.length >= 1 && value.length <= MAX_REQUEST_ID_LENGTH && /^[\x21-\x2b\x2d-\x7e]+$/.test(value);
        expect(kept).toBe(sane);
        expect(isSaneRequestId(value)).toBe(sane);
      }),
      fuzzRuns(500),
    );
  });
});

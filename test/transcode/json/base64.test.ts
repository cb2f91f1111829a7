import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../../src/transcode/json/base64.js";
import { fuzzRuns } from "../../support/fuzz.js";

describe("base64", () => {
  it.each([
    ["", []],
    ["AA==", [0]],
    ["AA", [0]],
    ["AAE=", [0, 1]],
    ["AAE", [0, 1]],
    ["+/+/", [0xfb, 0xff, 0xbf]],
    ["-_-_", [0xfb, 0xff, 0xbf]],
  ])("decodes %j", (text, bytes) => {
    expect(decodeBase64(text)).toEqual(Buffer.from(bytes));
  });

  it.each(["A", "AAAAA", "A===", "AA=", "AA=A", "=AAA", "AA AA", "AA\nAA", "AA.A", "ÄÄÄÄ"])("rejects %j", (text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });

  it("decodes what it encodes, in both alphabets, padded or not", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const standard = encodeBase64(bytes);
        expect(standard).toBe(Buffer.from(bytes).toString("base64"));
        const urlSafe = standard.replaceAll("+", "-").replaceAll("/", "_");
        for (const text of [standard, urlSafe, standard.replace(/=+$/, ""), urlSafe.replace(/=+$/, "")]) {
          expect(decodeBase64(text)).toEqual(Buffer.from(bytes));
        }
      }),
      fuzzRuns(100),
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { decodeComponent, decodeKeepingSlashes } from "../../src/routing/percent-decode.js";
import { createRouter } from "../../src/routing/router.js";
import { fuzzRuns } from "../support/fuzz.js";

/**
 * Reference model of strict percent-decoding (RFC 3986 + WHATWG's UTF-8 decode without
 * replacement): literal characters stay as they are; each run of `%XX` escapes is a byte
 * sequence that must be well-formed UTF-8 on its own (no overlong forms, no surrogates, nothing
 * above U+10FFFF); anything else is invalid (undefined).
 */
function referenceDecode(text: string): string | undefined {
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let out = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] !== "%") {
      out += text[i++];
      continue;
    }
    const bytes: number[] = [];
    while (i < text.length && text[i] === "%") {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    }
    try {
      out += utf8.decode(Uint8Array.from(bytes));
    } catch {
      return undefined;
    }
  }
  return out;
}

const hexByte = fc.integer({ min: 0, max: 255 }).chain((b) => fc.constantFrom(b.toString(16).padStart(2, "0").toUpperCase(), b.toString(16).padStart(2, "0")));
/** Path-ish text: literals, escapes of any byte, escapes of whole UTF-8 characters, broken escapes. */
const encodedText = fc
  .array(
    fc.oneof(
      fc.constantFrom("a", "Z", "0", "-", "~", ":", "é", "+", "/"),
      hexByte.map((h) => `%${h}`),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 2 }).map((s) => encodeURIComponent(s)),
      fc.constantFrom("%", "%2", "%G0", "%%41", "%ED%A0%80", "%C0%AF", "%F4%90%80%80", "%EF%BB%BF", "%2F", "%2f"),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(""));

describe("percent-decoding (property tests against a reference model)", () => {
  it("decodeComponent agrees with the reference decoder", () => {
    fc.assert(
      fc.property(encodedText, (text) => {
        expect(decodeComponent(text)).toBe(referenceDecode(text));
      }),
      fuzzRuns(2000),
    );
  });

  it("decodeComponent undoes encodeURIComponent", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 12 }), (value) => {
        expect(decodeComponent(encodeURIComponent(value))).toBe(value);
      }),
      fuzzRuns(500),
    );
  });

  it("decodeKeepingSlashes decodes everything but %2F / %2f, which stay as written", () => {
    fc.assert(
      fc.property(encodedText, (text) => {
        fc.pre(!text.includes("/") && referenceDecode(text) !== undefined);
        const expected = text
          .split(/(%2[Ff])/)
          .map((piece, i) => (i % 2 === 1 ? piece : referenceDecode(piece)))
          .join("");
        expect(decodeKeepingSlashes(text)).toBe(expected);
      }),
      fuzzRuns(1000),
    );
  });

  it("the router answers 400 PG_ERR_BAD_PATH exactly when a segment does not decode, and binds the decoded values otherwise", () => {
    const router = createRouter([{ httpMethod: "GET", template: { segments: [{ kind: "literal", value: "v1" }, { kind: "wildcard" }, { kind: "deepWildcard" }], variables: [{ fieldPath: ["one"], start: 1, end: 2 }, { fieldPath: ["rest"], start: 2, end: 3 }], verb: null }, value: "r" }]);
    fc.assert(
      fc.property(encodedText.filter((t) => t !== "" && !t.includes("/")), fc.array(encodedText.filter((t) => t !== "" && !t.includes("/")), { maxLength: 3 }), (one, rest) => {
        const path = `/v1/${[one, ...rest].join("/")}`;
        const valid = [one, ...rest].every((segment) => referenceDecode(segment) !== undefined);
        let result: unknown;
        try {
          result = router.match("GET", path);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).reason).toBe("PG_ERR_BAD_PATH");
          expect(valid).toBe(false);
          return;
        }
        expect(valid).toBe(true);
        // A single-segment variable gets the whole value decoded, "/" included; the rest keeps %2F.
        expect(result).toMatchObject({
          kind: "found",
          variables: [
            { fieldPath: ["one"], value: referenceDecode(one) },
            { fieldPath: ["rest"], value: rest.map((s) => s.split(/(%2[Ff])/).map((p, i) => (i % 2 === 1 ? p : referenceDecode(p))).join("")).join("/") },
          ],
        });
      }),
      fuzzRuns(1000),
    );
  });
});

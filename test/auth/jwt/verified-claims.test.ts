import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scopesOf, toVerifiedJwt } from "../../../src/auth/jwt/verified-claims.js";
import { fuzzRuns } from "../../support/fuzz.js";

/** Every Unicode character `\s` matches, besides U+0020 itself: none of them separates scopes. */
const NOT_SEPARATORS = ["\t", "\n", "\v", "\f", "\r", "\u00a0", "\u1680", "\u2000", "\u2007", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff"];

describe("scopesOf", () => {
  it("regression: scopes split only on U+0020 (NBSP is not a separator)", () => {
    // The attack run's claim: with /\s+/ this granted users:write.
    expect(scopesOf({ scope: "orders:read\u00a0users:write" })).toEqual([]);
    expect(scopesOf({ scope: "orders:read users:write" })).toEqual(["orders:read", "users:write"]);
  });

  it.each(NOT_SEPARATORS.map((char) => [`U+${char.codePointAt(0)?.toString(16).padStart(4, "0")}`, char]))("%s neither separates scopes nor is part of one", (_name, char) => {
    expect(scopesOf({ scope: `orders:read${char}users:write` })).toEqual([]);
    expect(scopesOf({ scope: `a orders:read${char}users:write b` })).toEqual(["a", "b"]);
    expect(scopesOf({ scp: [`orders:read${char}users:write`, "c"] })).toEqual(["c"]);
  });

  it("keeps RFC 6749 scope tokens only, once each, in order", () => {
    expect(scopesOf({ scope: "  a  b a \"q\" back\\slash é c " })).toEqual(["a", "b", "c"]);
    expect(scopesOf({ scp: ["a", "a", 7, null, "", "x y", "b"] })).toEqual(["a", "b"]);
    expect(scopesOf({ scp: "a b" })).toEqual(["a", "b"]);
    expect(scopesOf({ scope: 42, scp: "ignored" } as never)).toEqual([]);
    expect(scopesOf({})).toEqual([]);
  });

  it("matches a reference model on any scope string (property)", () => {
    const isScopeToken = (value: string): boolean => value.length > 0 && [...value].every((c) => c >= "!" && c <= "~" && c !== '"' && c !== "\\");
    // Strings built from scope-ish parts and every kind of whitespace, so separators are exercised.
    const piece = fc.oneof(fc.constantFrom("orders:read", "users:write", "a", "\"", "\\", "é", " ", "  ", ...NOT_SEPARATORS), fc.string({ maxLength: 6 }));
    const scope = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(""));
    fc.assert(
      fc.property(scope, (text) => {
        const expected: string[] = [];
        for (const part of text.split("\u0020")) if (isScopeToken(part) && !expected.includes(part)) expected.push(part);
        expect(scopesOf({ scope: text })).toEqual(expected);
      }),
      fuzzRuns(400),
    );
  });
});

describe("toVerifiedJwt", () => {
  it("freezes the result and its scopes", () => {
    const jwt = toVerifiedJwt({ sub: "s", iss: "i", aud: "a", exp: 10, scope: "x y" });
    expect(jwt).toMatchObject({ subject: "s", issuer: "i", audience: ["a"], scopes: ["x", "y"], expiresAt: 10 });
    expect(Object.isFrozen(jwt.scopes)).toBe(true);
  });
});

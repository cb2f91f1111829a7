import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkAuthRule } from "../../../codegen/auth-rule/check-auth-rule.js";
import type { AuthRuleData } from "../../../src/binding.js";

const rule = (fields: Partial<AuthRuleData>): AuthRuleData => ({ public: false, scopes: [], forwardAuthorization: false, ...fields });

/** The characters RFC 6749 allows in a scope token. */
const TOKEN_CHARS = [...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))].filter((c) => c !== '"' && c !== "\\");

describe("checkAuthRule", () => {
  it.each<[string, AuthRuleData]>([
    ["no rule fields", rule({})],
    ["public", rule({ public: true })],
    ["public, forwarding Authorization", rule({ public: true, forwardAuthorization: true })],
    ["one scope", rule({ scopes: ["orders:write"] })],
    ["several scopes with URL-ish characters", rule({ scopes: ["https://api.example.com/orders.write", "a_b-c.d~e!#$%&'()*+,/;<=>?@[]^`{|}"] })],
  ])("accepts %s", (_what, valid) => {
    expect(checkAuthRule(valid)).toEqual([]);
  });

  it.each<[string, AuthRuleData, Array<{ scopeIndex?: number; message: string }>]>([
    ["public with scopes", rule({ public: true, scopes: ["a", "b"] }), [{ message: 'public: true cannot be combined with scopes ("a", "b")' }]],
    ["an empty scope", rule({ scopes: ["ok", ""] }), [{ scopeIndex: 1, message: "scopes[1] is empty" }]],
    ["a scope with a space", rule({ scopes: ["orders write"] }), [{ scopeIndex: 0, message: 'scopes[0] "orders write" is not a scope token' }]],
    ["a scope with a tab", rule({ scopes: ["a\tb"] }), [{ scopeIndex: 0, message: "is not a scope token" }]],
    ["a scope with a quote", rule({ scopes: ['a"b'] }), [{ scopeIndex: 0, message: "is not a scope token" }]],
    ["a scope with a backslash", rule({ scopes: ["a\\b"] }), [{ scopeIndex: 0, message: "is not a scope token" }]],
    ["a scope with non-ASCII", rule({ scopes: ["commandes:écrire"] }), [{ scopeIndex: 0, message: "is not a scope token" }]],
    [
      "public with a bad scope: both reported",
      rule({ public: true, scopes: [" "] }),
      [{ message: "public: true cannot be combined with scopes" }, { scopeIndex: 0, message: "is not a scope token" }],
    ],
  ])("rejects %s", (_what, invalid, expected) => {
    const problems = checkAuthRule(invalid);
    expect(problems).toHaveLength(expected.length);
    problems.forEach((problem, i) => {
      expect(problem.scopeIndex).toBe(expected[i].scopeIndex);
      expect(problem.message).toContain(expected[i].message);
    });
  });

  it("accepts every non-empty string of token characters", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 1, maxLength: 40 }), (chars) => {
        expect(checkAuthRule(rule({ scopes: [chars.join("")] }))).toEqual([]);
      }),
    );
  });

  it("rejects any scope containing a character outside the token set, naming its index", () => {
    const outside = fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((c) => !TOKEN_CHARS.includes(c));
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), outside, fc.string({ maxLength: 10 }), fc.nat({ max: 3 }), (before, bad, after, index) => {
        const scopes = [...Array.from({ length: index }, () => "ok"), `${before}${bad}${after}`];
        const problems = checkAuthRule(rule({ scopes }));
        expect(problems).toHaveLength(1);
        expect(problems[0].scopeIndex).toBe(index);
      }),
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatTemplate, parseTemplate, routeShape, TemplateError, templatesConflict } from "../../../codegen/http-rule/parse-template.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "../../../src/routing/template.js";
import { fuzzRuns } from "../../support/fuzz.js";

const lit = (value: string): TemplateSegment => ({ kind: "literal", value });
const star: TemplateSegment = { kind: "wildcard" };
const deep: TemplateSegment = { kind: "deepWildcard" };
const v = (path: string, start: number, end: number): TemplateVariable => ({ fieldPath: path.split("."), start, end });

describe("parseTemplate: valid templates", () => {
  const cases: Array<[string, PathTemplate]> = [
    ["/", { segments: [], variables: [], verb: null }],
    ["/v1/users", { segments: [lit("v1"), lit("users")], variables: [], verb: null }],
    ["/v1/users/{user_id}", { segments: [lit("v1"), lit("users"), star], variables: [v("user_id", 2, 3)], verb: null }],
    ["/v1/users/{user_id=*}", { segments: [lit("v1"), lit("users"), star], variables: [v("user_id", 2, 3)], verb: null }],
    ["/v1/users/{user.user_id}", { segments: [lit("v1"), lit("users"), star], variables: [v("user.user_id", 2, 3)], verb: null }],
    [
      "/v1/{name=users/*/orders/*}:cancel",
      { segments: [lit("v1"), lit("users"), star, lit("orders"), star], variables: [v("name", 1, 5)], verb: "cancel" },
    ],
    ["/v1/archive/{path=**}", { segments: [lit("v1"), lit("archive"), deep], variables: [v("path", 2, 3)], verb: null }],
    ["/v1/{a}/{b=x/**}:do", { segments: [lit("v1"), star, lit("x"), deep], variables: [v("a", 1, 2), v("b", 2, 4)], verb: "do" }],
    ["/v1/*/**", { segments: [lit("v1"), star, deep], variables: [], verb: null }],
    ["/**", { segments: [deep], variables: [], verb: null }],
    ["/v1/users:search", { segments: [lit("v1"), lit("users")], variables: [], verb: "search" }],
    ["/{_x1.Y_2}", { segments: [star], variables: [v("_x1.Y_2", 0, 1)], verb: null }],
    // Literals are stored decoded; hex case does not matter.
    ["/a%2Fb/%41%e2%82%ac:x%3ay", { segments: [lit("a/b"), lit("A€")], variables: [], verb: "x:y" }],
    ["/-._~!$&'()+,;@", { segments: [lit("-._~!$&'()+,;@")], variables: [], verb: null }],
    ["/{a}/{ab}/{a_b.c}", { segments: [star, star, star], variables: [v("a", 0, 1), v("ab", 1, 2), v("a_b.c", 2, 3)], verb: null }],
  ];
  it.each(cases)("%s", (text, expected) => {
    expect(parseTemplate(text)).toEqual(expected);
  });
});

describe("parseTemplate: errors", () => {
  const cases: Array<[text: string, column: number, reason: RegExp]> = [
    ["", 1, /must start with '\/'/],
    ["v1/users", 1, /must start with '\/'/],
    ["//", 2, /empty segment/],
    ["/v1//users", 5, /empty segment/],
    ["/v1/", 5, /must not end with '\/'/],
    ["/**/**", 5, /'\*\*' may appear only once/],
    ["/{a=**}/b/{c=**}", 14, /'\*\*' may appear only once/],
    ["/{a={b}}", 5, /nested variables/],
    ["/{a=x{b}}", 6, /nested variables/],
    ["/{a}/{a}", 6, /"a" is bound twice/],
    ["/{a.b}/x/{a.b=*}", 10, /"a\.b" is bound twice/],
    ["/{a}/{a.b}", 6, /overlaps/],
    ["/{a.b.c}/{a.b}", 10, /overlaps/],
    ["/{1a}", 3, /expected a field name/],
    ["/{a.}", 5, /expected a field name/],
    ["/{a-b}", 4, /expected '=' or '}'/],
    ["/{}", 3, /expected a field name/],
    ["/{ a }", 3, /expected a field name/],
    ["/{a", 4, /unclosed '\{'/],
    ["/{a=b", 6, /unclosed '\{'/],
    ["/{a=", 5, /unclosed '\{'/],
    ["/a}", 3, /unmatched '\}'/],
    ["/}", 2, /unmatched '\}'/],
    ["/*}", 3, /unmatched '\}'/],
    ["/a:", 3, /verb .* is empty/],
    ["/:v", 2, /empty segment before the verb/],
    ["/a:b/c", 5, /verb must be at the end/],
    ["/a:b:c", 5, /cannot contain ':'/],
    ["/a:b}", 5, /unmatched '\}'/],
    ["/{a=b:c}", 6, /verb cannot appear inside a variable/],
    ["/{a=b}:", 7, /verb .* is empty/],
    ["/a b", 3, /U\+0020 cannot appear in a literal/],
    ["/caf\u00e9", 5, /U\+00E9 cannot appear in a literal/],
    ["/a?b", 3, /'\?' cannot appear in a literal/],
    ["/a#", 3, /'#' cannot appear in a literal/],
    ["/a:b c", 5, /cannot appear in a verb/],
    ["/a*b", 3, /'\*' cannot be part of a literal/],
    ["/*a", 3, /'\*' must be a whole segment/],
    ["/***", 4, /'\*\*' must be a whole segment/],
    ["/a=b", 3, /'=' cannot appear/],
    ["/{a}x", 5, /variable must be a whole segment/],
    ["/x{a}", 3, /variable must be a whole segment/],
    ["/%zz", 2, /two hex digits/],
    ["/a%4", 3, /two hex digits/],
    ["/%C0%AF", 2, /not valid UTF-8/],
    ["/%ED%A0%80", 2, /not valid UTF-8/],
    ["/x:%FF", 4, /verb .* not valid UTF-8/],
  ];
  it.each(cases)("%j -> column %i", (text, column, reason) => {
    let thrown: unknown;
    try {
      parseTemplate(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TemplateError);
    const error = thrown as TemplateError;
    expect(error.reason).toMatch(reason);
    expect(error.column).toBe(column);
    expect(error.message).toBe(`${error.reason} (column ${column})`);
  });
});

describe("formatTemplate", () => {
  const cases: Array<[input: string, canonical: string]> = [
    ["/", "/"],
    ["/v1/users/{user_id=*}", "/v1/users/{user_id}"],
    ["/v1/{name=users/*/orders/*}:cancel", "/v1/{name=users/*/orders/*}:cancel"],
    ["/v1/{p=**}", "/v1/{p=**}"],
    ["/v1/{p=lit}", "/v1/{p=lit}"],
    ["/%61%2f%2A%3a%3D%7B%20%e2%82%ac:%3a", "/a%2F%2A%3A%3D%7B%20%E2%82%AC:%3A"],
    ["/a@b/c+d", "/a@b/c+d"],
  ];
  it.each(cases)("%s -> %s", (input, canonical) => {
    expect(formatTemplate(parseTemplate(input))).toBe(canonical);
  });

  it("encodes characters outside the BMP as one code point", () => {
    expect(formatTemplate({ segments: [lit("\u{1F600}")], variables: [], verb: null })).toBe("/%F0%9F%98%80");
  });
});

describe("templatesConflict / routeShape", () => {
  const cases: Array<[a: string, b: string, conflict: boolean]> = [
    ["/v1/users/{id}", "/v1/users/{name}", true],
    ["/v1/users/{id}", "/v1/users/*", true],
    ["/v1/{name=users/*}", "/v1/users/{id}", true],
    ["/v1/{p=**}", "/v1/**", true],
    ["/v1/%41", "/v1/A", true],
    ["/v1/users/{id}", "/v1/users/{id}:get", false],
    ["/v1/users/{id}:a", "/v1/users/{id}:b", false],
    ["/v1/users/{id}", "/v1/users/me", false],
    ["/v1/*", "/v1/**", false],
    ["/v1/*", "/v1/*/**", false],
    ["/v1/a%2Fb", "/v1/a/b", false],
    ["/", "/**", false],
  ];
  it.each(cases)("%s vs %s -> %s", (a, b, conflict) => {
    expect(templatesConflict(parseTemplate(a), parseTemplate(b))).toBe(conflict);
    expect(templatesConflict(parseTemplate(b), parseTemplate(a))).toBe(conflict);
  });

  it("erases variables", () => {
    expect(routeShape(parseTemplate("/v1/{name=users/*}/x/{y}:cancel"))).toBe("/v1/users/*/x/*:cancel");
  });
});

// ---- property tests -------------------------------------------------------------------------

const LITERAL_OK = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()+,;@";

/** A literal or verb value (decoded): plain text, tricky syntax characters, or any Unicode. */
const literalValue = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,6}$/),
  fc.string({ unit: fc.constantFrom(..."*/:%{}=?# .~@+é€\u{1F600}"), minLength: 1, maxLength: 4 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }),
);
const ident = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,5}$/);
const plainSegment: fc.Arbitrary<TemplateSegment> = fc.oneof(literalValue.map(lit), fc.constant(star));

type Part = { kind: "segment"; segment: TemplateSegment } | { kind: "variable"; rest: string[]; segments: TemplateSegment[] };

/** A random valid template: plain segments and variables, optionally ending in `**`, optional verb. */
const templateArb: fc.Arbitrary<PathTemplate> = fc
  .record({
    parts: fc.array(
      fc.oneof(
        plainSegment.map((segment): Part => ({ kind: "segment", segment })),
        fc.record({ rest: fc.array(ident, { maxLength: 2 }), segments: fc.array(plainSegment, { minLength: 1, maxLength: 3 }) }).map((x): Part => ({ kind: "variable", ...x })),
      ),
      { maxLength: 5 },
    ),
    tail: fc.oneof(
      fc.constant(undefined),
      fc.constant<Part>({ kind: "segment", segment: deep }),
      fc.record({ rest: fc.array(ident, { maxLength: 2 }), segments: fc.array(plainSegment, { maxLength: 2 }) }).map((x): Part => ({ kind: "variable", rest: x.rest, segments: [...x.segments, deep] })),
    ),
    verb: fc.option(literalValue, { nil: null }),
  })
  .map(({ parts, tail, verb }) => {
    const all = tail === undefined ? parts : [...parts, tail];
    const segments: TemplateSegment[] = [];
    const variables: TemplateVariable[] = [];
    all.forEach((part, index) => {
      if (part.kind === "segment") segments.push(part.segment);
      else {
        // The index suffix keeps field paths distinct and never a prefix of one another.
        const fieldPath = [`f${index}`, ...part.rest];
        variables.push({ fieldPath, start: segments.length, end: segments.length + part.segments.length });
        segments.push(...part.segments);
      }
    });
    // "/:verb" is not a valid template: a verb needs a segment before it.
    return { segments, variables, verb: segments.length === 0 ? null : verb };
  });

/** Prints a template independently of formatTemplate, choosing among equivalent spellings. */
function printTemplate(t: PathTemplate, style: { encodeAll: boolean; lowerHex: boolean; explicitStar: boolean }): string {
  const encode = (value: string) => {
    let out = "";
    for (const char of value) {
      if (!style.encodeAll && LITERAL_OK.includes(char)) out += char;
      else {
        for (const byte of new TextEncoder().encode(char)) {
          const hex = byte.toString(16).padStart(2, "0");
          out += `%${style.lowerHex ? hex : hex.toUpperCase()}`;
        }
      }
    }
    return out;
  };
  const seg = (s: TemplateSegment) => (s.kind === "literal" ? encode(s.value) : s.kind === "wildcard" ? "*" : "**");
  if (t.segments.length === 0) return "/";
  const parts: string[] = [];
  for (let i = 0; i < t.segments.length; ) {
    const variable = t.variables.find((x) => x.start === i);
    if (variable === undefined) {
      parts.push(seg(t.segments[i]));
      i++;
      continue;
    }
    const covered = t.segments.slice(variable.start, variable.end);
    const name = variable.fieldPath.join(".");
    const short = covered.length === 1 && covered[0].kind === "wildcard" && !style.explicitStar;
    parts.push(short ? `{${name}}` : `{${name}=${covered.map(seg).join("/")}}`);
    i = variable.end;
  }
  return `/${parts.join("/")}${t.verb === null ? "" : `:${encode(t.verb)}`}`;
}

describe("parseTemplate properties", () => {
  it("parses every spelling of a random valid template back to it", () => {
    fc.assert(
      fc.property(templateArb, fc.boolean(), fc.boolean(), fc.boolean(), (template, encodeAll, lowerHex, explicitStar) => {
        const text = printTemplate(template, { encodeAll, lowerHex, explicitStar });
        expect(parseTemplate(text)).toEqual(template);
      }),
      fuzzRuns(500),
    );
  });

  it("round-trips through formatTemplate", () => {
    fc.assert(
      fc.property(templateArb, (template) => {
        const text = formatTemplate(template);
        expect(parseTemplate(text)).toEqual(template);
        expect(formatTemplate(parseTemplate(text))).toBe(text);
      }),
      fuzzRuns(500),
    );
  });

  const junk = fc.oneof(
    fc.string({ unit: fc.constantFrom(..."/{}*=.:%aZ_19 2Ff"), maxLength: 24 }),
    fc.string({ unit: fc.constantFrom("/", "{", "}", "*", "**", "=", ":", "a", "b.c", "%2F", "%", "%C3", "%A9", "x"), maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 16 }).map((s) => `/${s}`),
    fc.string({ unit: "binary", maxLength: 16 }),
  );

  it("throws nothing but TemplateError on arbitrary input, and what it accepts is canonicalisable", () => {
    fc.assert(
      fc.property(junk, (text) => {
        let parsed: PathTemplate;
        try {
          parsed = parseTemplate(text);
        } catch (error) {
          expect(error).toBeInstanceOf(TemplateError);
          const { column } = error as TemplateError;
          expect(column).toBeGreaterThanOrEqual(1);
          expect(column).toBeLessThanOrEqual(text.length + 1);
          return;
        }
        expect(parseTemplate(formatTemplate(parsed))).toEqual(parsed);
      }),
      fuzzRuns(3000),
    );
  });
});

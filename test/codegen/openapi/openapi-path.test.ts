import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodePathText, formatOpenApiPath, pathShape, segmentsRegex, segmentsText, splitTemplate } from "../../../codegen/openapi/openapi-path.js";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "../../../src/routing/template.js";
import { deep, lit, star, tpl, variable } from "./support.js";

const names = (template: PathTemplate) =>
  splitTemplate(template, "t").expressions.map((e) => (e.variable ? e.variable.fieldPath.join(".") : `_segment${e.start}`));
const render = (template: PathTemplate) => formatOpenApiPath(splitTemplate(template, "t"), names(template), template.verb);

describe("OpenAPI paths from templates", () => {
  it.each<[string, PathTemplate, string, string]>([
    ["/v1/users/{user_id}", tpl([lit("v1"), lit("users"), star], [variable("user_id", 2, 3)]), "/v1/users/{user_id}", "/v1/users/{}"],
    ["/v1/users/{user.user_id}", tpl([lit("v1"), lit("users"), star], [variable("user.user_id", 2, 3)]), "/v1/users/{user.user_id}", "/v1/users/{}"],
    ["/v1/{name=users/*/orders/*}", tpl([lit("v1"), lit("users"), star, lit("orders"), star], [variable("name", 1, 5)]), "/v1/{name}", "/v1/{}"],
    ["/v1/users:search", tpl([lit("v1"), lit("users")], [], "search"), "/v1/users:search", "/v1/users:search"],
    ["/v1/{name=users/*}:cancel", tpl([lit("v1"), lit("users"), star], [variable("name", 1, 3)], "cancel"), "/v1/{name}:cancel", "/v1/{}:cancel"],
    ["/v1/archive/{path=**}", tpl([lit("v1"), lit("archive"), deep], [variable("path", 2, 3)]), "/v1/archive/{path}", "/v1/archive/{}"],
    ["/v1/*/x/**", tpl([lit("v1"), star, lit("x"), deep]), "/v1/{_segment1}/x/{_segment3}", "/v1/{}/x/{}"],
    ["/", tpl([]), "/", "/"],
    ["a literal needing encoding", tpl([lit("a b{c}/d?é")]), "/a%20b%7Bc%7D%2Fd%3F%C3%A9", "/a%20b%7Bc%7D%2Fd%3F%C3%A9"],
  ])("renders %s", (_pattern, template, path, shape) => {
    expect(render(template)).toBe(path);
    expect(pathShape(splitTemplate(template, "t"), template.verb)).toBe(shape);
  });

  it.each<[string, TemplateSegment[], string, string[], string[]]>([
    ["one *", [star], "*", ["abc", "a%2Fb"], ["", "a/b"]],
    ["literal and *", [lit("users"), star], "users/*", ["users/1"], ["users", "users/1/2", "xusers/1", "orders/1"]],
    ["**", [deep], "**", ["", "a", "a/b/c"], ["/a", "a//b", "a/"]],
    ["literal then **", [lit("a"), deep], "a/**", ["a", "a/b", "a/b/c"], ["ab", "a/", "b/a"]],
    ["** then a literal", [deep, lit("x")], "**/x", ["x", "a/x", "a/b/x"], ["/x", "ax", "x/a"]],
    ["literal, ** and a literal", [lit("a"), deep, lit("x")], "a/**/x", ["a/x", "a/b/x", "a/b/c/x"], ["ax", "a//x", "a/b"]],
    ["regex metacharacters", [lit("a.b+c"), star], "a.b+c/*", ["a.b+c/x"], ["aXb+c/x", "a.bbc/x"]],
  ])("matches values of %s with a regex", (_what, segments, text, accepted, rejected) => {
    expect(segmentsText(segments)).toBe(text);
    const regex = new RegExp(segmentsRegex(segments), "u");
    for (const value of accepted) expect(regex.test(value), value).toBe(true);
    for (const value of rejected) expect(regex.test(value), value).toBe(false);
  });

  it.each<[string, TemplateVariable[]]>([
    ["overlapping variables", [variable("a", 1, 3), variable("b", 2, 4)]],
    ["an empty variable", [variable("a", 1, 1)]],
    ["a variable past the end", [variable("a", 3, 5)]],
  ])("throws an internal error for %s", (_what, variables) => {
    const template = tpl([lit("v1"), star, star, star], variables);
    expect(() => splitTemplate(template, "demo.proto:7")).toThrowError(GatewayError);
    expect(() => splitTemplate(template, "demo.proto:7")).toThrowError(/^demo\.proto:7: path variable \{[ab]\} covers segments \[\d, \d\)/);
  });

  it("renders any template with one expression per variable or free wildcard, and regexes that accept its values", () => {
    const segment = fc.oneof(
      fc.string({ minLength: 1, maxLength: 6 }).map(lit),
      fc.constant(star),
    );
    const template = fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 7 }), fc.boolean(), fc.array(fc.nat(6), { maxLength: 8 }), fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: null }))
      .map(([segments, withDeep, cuts, verb]) => {
        const all = withDeep ? [...segments, deep] : segments;
        // Non-overlapping variables from sorted, distinct cut points.
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const variables: TemplateVariable[] = [];
        for (let i = 0; i + 1 < points.length; i += 2) {
          if (points[i + 1] > points[i]) variables.push(variable(`f${i}`, points[i], points[i + 1]));
        }
        return tpl(all, variables, verb);
      });
    fc.assert(
      fc.property(template, (t) => {
        const split = splitTemplate(t, "t");
        const path = render(t);
        const covered = (i: number) => t.variables.some((v) => i >= v.start && i < v.end);
        const free = t.segments.filter((s, i) => s.kind !== "literal" && !covered(i)).length;
        expect(split.expressions).toHaveLength(t.variables.length + free);
        // Literals are encoded, so the only braces are the expressions'.
        expect(path.match(/\{[^{}]+\}/g) ?? []).toHaveLength(split.expressions.length);
        expect(path.replace(/\{[^{}]+\}/g, "")).not.toMatch(/[{}]/);
        expect(path.startsWith("/")).toBe(true);
        for (const expression of split.expressions) {
          const regex = new RegExp(segmentsRegex(expression.segments), "u");
          const value = expression.segments.map((s) => (s.kind === "literal" ? encodePathText(s.value) : "seg")).join("/");
          expect(regex.test(value), `${value} against ${regex}`).toBe(true);
          expect(regex.test(`${value}/extra`)).toBe(expression.segments.at(-1)?.kind === "deepWildcard");
        }
      }),
    );
  });
});

import fc from "fast-check";
import { fuzzRuns } from "../../support/fuzz.js";
import { describe, expect, it } from "vitest";
import { encodePathText, fieldTemplate, formatOpenApiPath, pathShape, segmentsRegex, segmentsText, slotNames, splitTemplate } from "../../../codegen/openapi/openapi-path.js";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { createRouter } from "../../../src/routing/router.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "../../../src/routing/template.js";
import { deep, lit, star, tpl, variable } from "./support.js";

const render = (template: PathTemplate) => {
  const split = splitTemplate(template, "t");
  return formatOpenApiPath(split, slotNames(split), template.verb);
};
/** Each variable's field and the value the gateway builds from the path's parameters. */
const fieldTemplates = (template: PathTemplate) => {
  const split = splitTemplate(template, "t");
  const names = slotNames(split);
  return Object.fromEntries(split.variables.map((v) => [v.variable.fieldPath.join("."), fieldTemplate(split, v, names)]));
};

describe("OpenAPI paths from templates", () => {
  it.each<[string, PathTemplate, string, string, Record<string, string>]>([
    ["/v1/users/{user_id}", tpl([lit("v1"), lit("users"), star], [variable("user_id", 2, 3)]), "/v1/users/{user_id}", "/v1/users/{}", { user_id: "{user_id}" }],
    ["/v1/users/{user.user_id}", tpl([lit("v1"), lit("users"), star], [variable("user.user_id", 2, 3)]), "/v1/users/{user.user_id}", "/v1/users/{}", { "user.user_id": "{user.user_id}" }],
    [
      "/v1/{name=users/*/orders/*}",
      tpl([lit("v1"), lit("users"), star, lit("orders"), star], [variable("name", 1, 5)]),
      "/v1/users/{user}/orders/{order}",
      "/v1/users/{}/orders/{}",
      { name: "users/{user}/orders/{order}" },
    ],
    [
      "/v2/{name=projects/*/locations/*/services/*}",
      tpl([lit("v2"), lit("projects"), star, lit("locations"), star, lit("services"), star], [variable("name", 1, 7)]),
      "/v2/projects/{project}/locations/{location}/services/{service}",
      "/v2/projects/{}/locations/{}/services/{}",
      { name: "projects/{project}/locations/{location}/services/{service}" },
    ],
    ["/v1/users:search (literal only, a verb)", tpl([lit("v1"), lit("users")], [], "search"), "/v1/users:search", "/v1/users:search", {}],
    ["/v1/{name=users/*}:cancel", tpl([lit("v1"), lit("users"), star], [variable("name", 1, 3)], "cancel"), "/v1/users/{user}:cancel", "/v1/users/{}:cancel", { name: "users/{user}" }],
    ["/v1/archive/{path=**}", tpl([lit("v1"), lit("archive"), deep], [variable("path", 2, 3)]), "/v1/archive/{path}", "/v1/archive/{}", { path: "{path}" }],
    [
      "/v1/{name=projects/*/objects/**}",
      tpl([lit("v1"), lit("projects"), star, lit("objects"), deep], [variable("name", 1, 5)]),
      "/v1/projects/{project}/objects/{object}",
      "/v1/projects/{}/objects/{}",
      { name: "projects/{project}/objects/{object}" },
    ],
    [
      "/v1/{name=projects/*/documents/*/**} (a * and a ** are one parameter)",
      tpl([lit("v1"), lit("projects"), star, lit("documents"), star, deep], [variable("name", 1, 6)]),
      "/v1/projects/{project}/documents/{document}",
      "/v1/projects/{}/documents/{}",
      { name: "projects/{project}/documents/{document}" },
    ],
    [
      "/v1/{name=*/*} (a * with no literal before it takes the field's name)",
      tpl([lit("v1"), star, star], [variable("name", 1, 3)]),
      "/v1/{name}/{name_2}",
      "/v1/{}/{}",
      { name: "{name}/{name_2}" },
    ],
    ["/v1/{name=**/*} (a whole value: the field's name)", tpl([lit("v1"), deep, star], [variable("name", 1, 3)]), "/v1/{name}", "/v1/{}", { name: "{name}" }],
    [
      "/v1/{parent=projects/*}/things/{name=projects/*/things/*} (clashing names are numbered)",
      tpl([lit("v1"), lit("projects"), star, lit("things"), lit("projects"), star, lit("things"), star], [variable("parent", 1, 3), variable("name", 4, 8)]),
      "/v1/projects/{project}/things/projects/{project_2}/things/{thing}",
      "/v1/projects/{}/things/projects/{}/things/{}",
      { parent: "projects/{project}", name: "projects/{project_2}/things/{thing}" },
    ],
    [
      "/v1/{project}/{name=projects/*} (a field-named parameter keeps its name)",
      tpl([lit("v1"), star, lit("projects"), star], [variable("project", 1, 2), variable("name", 2, 4)]),
      "/v1/{project}/projects/{project_2}",
      "/v1/{}/projects/{}",
      { project: "{project}", name: "projects/{project_2}" },
    ],
    [
      "/v1/{name=*/things/*} (a leading * takes the field's name)",
      tpl([lit("v1"), star, lit("things"), star], [variable("name", 1, 4)]),
      "/v1/{name}/things/{thing}",
      "/v1/{}/things/{}",
      { name: "{name}/things/{thing}" },
    ],
    ["/v1/{name=users/me} (no wildcard: no parameter)", tpl([lit("v1"), lit("users"), lit("me")], [variable("name", 1, 3)]), "/v1/users/me", "/v1/users/me", { name: "users/me" }],
    ["/v1/*/x/** (free wildcards)", tpl([lit("v1"), star, lit("x"), deep]), "/v1/{_segment1}/x/{_segment3}", "/v1/{}/x/{}", {}],
    ["/v1/{name=workerPools/*} (camelCase)", tpl([lit("v1"), lit("workerPools"), star], [variable("name", 1, 3)]), "/v1/workerPools/{workerPool}", "/v1/workerPools/{}", { name: "workerPools/{workerPool}" }],
    ["/", tpl([]), "/", "/", {}],
    ["a literal needing encoding", tpl([lit("a b{c}/d?é")]), "/a%20b%7Bc%7D%2Fd%3F%C3%A9", "/a%20b%7Bc%7D%2Fd%3F%C3%A9", {}],
  ])("renders %s", (_pattern, template, path, shape, fields) => {
    expect(render(template)).toBe(path);
    expect(pathShape(splitTemplate(template, "t"), template.verb)).toBe(shape);
    expect(fieldTemplates(template)).toEqual(fields);
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

  it("expands any template into one uniquely named slot per wildcard, whose values the router maps back to each field's template", () => {
    const word = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.~-]{0,7}$/);
    const segment = fc.oneof(word.map(lit), fc.constant(star));
    const template = fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 7 }), fc.option(fc.nat(7), { nil: undefined }), fc.array(fc.nat(8), { maxLength: 8 }), fc.option(fc.stringMatching(/^[a-z]{1,4}$/), { nil: null }))
      .map(([segments, deepAt, cuts, verb]) => {
        const all = deepAt === undefined ? segments : [...segments.slice(0, deepAt), deep, ...segments.slice(deepAt)];
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
        const names = slotNames(split);
        const path = formatOpenApiPath(split, names, t.verb);
        // Every wildcard is in exactly one slot; a slot over several has a `**` among them.
        expect(split.slots.flatMap((slot) => slot.segments)).toHaveLength(t.segments.filter((s) => s.kind !== "literal").length);
        for (const slot of split.slots) expect(slot.segments.length === 1 || slot.deep).toBe(true);
        expect(new Set(names).size).toBe(names.length);
        // Literals are encoded, so the only braces are the slots'.
        expect(path.match(/\{[^{}]+\}/g) ?? []).toEqual(names.map((n) => `{${n}}`));
        expect(path.replace(/\{[^{}]+\}/g, "")).not.toMatch(/[{}]/);
        expect(path.startsWith("/")).toBe(true);

        // Fill the slots as a client would, route the request, and rebuild each field from its template.
        // A deep slot also stands for the `*`s merged into it: its value needs a segment for each, and more for the `**`.
        const deepValue = (i: number) => Array.from({ length: split.slots[i].segments.length + 1 }, (_, j) => `d${i}e${j}`).join("/");
        const values = names.map((_name, i) => (split.slots[i].deep ? deepValue(i) : `s${i}`));
        const fill = (text: string) => text.replace(/\{([^{}]+)\}/g, (_, name: string) => values[names.indexOf(name)]);
        const match = createRouter([{ httpMethod: "GET", template: t, value: 1 }]).match("GET", fill(path));
        expect(match.kind).toBe("found");
        if (match.kind !== "found") return;
        const routed = Object.fromEntries(match.variables.map((v) => [v.fieldPath.join("."), v.value]));
        const rebuilt = Object.fromEntries(split.variables.map((v) => [v.variable.fieldPath.join("."), decodeURIComponent(fill(fieldTemplate(split, v, names)))]));
        expect(rebuilt).toEqual(routed);
      }),
      fuzzRuns(300),
    );
  });
});

import { readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { getOperationAST, parse } from "graphql";
import { describe, expect, it } from "vitest";

/** The browser script, run as the page runs it: it sets a global. */
function loadOperationKind(): (text: string, operationName?: string | null) => string | undefined {
  const script = readFileSync(new URL("../../../src/graphql/graphiql/browser/graphiql-operation-kind.js", import.meta.url), "utf8");
  const window: Record<string, unknown> = {};
  runInNewContext(script, { window });
  return window.protogateOperationKind as (text: string, operationName?: string | null) => string | undefined;
}

const operationKind = loadOperationKind();

/** graphql-js's answer: the kind of the operation it would run. */
function reference(text: string, operationName?: string): string | undefined {
  return getOperationAST(parse(text), operationName)?.operation;
}

describe("graphiql-operation-kind.js (the GraphiQL page's subscription test)", () => {
  const cases: Array<[string, string, string | undefined, string | undefined]> = [
    ["an anonymous query", "{ a }", undefined, "query"],
    ["a subscription", 'subscription { subscribe(room: "lobby") { text } }', undefined, "subscription"],
    ["a named mutation", "mutation M($x: Int = 3) { a(x: $x) }", undefined, "mutation"],
    ["the named one of several", "query Q { a } subscription S { b }", "S", "subscription"],
    ["several without a name", "query Q { a } subscription S { b }", undefined, undefined],
    ["a fragment beside the operation", "fragment F on T { a } subscription S { ...F }", undefined, "subscription"],
    ["braces in strings, comments and defaults", '# subscription {\nquery Q($i: In = {a: "{ }"}) @d(x: {y: 1}) { a(s: "subscription {") }', undefined, "query"],
    ["a block string", 'subscription { b(s: """ query { x } """) }', undefined, "subscription"],
    ["an unknown name", "query Q { a }", "R", undefined],
  ];
  it.each(cases)("%s", (_name, text, operationName, expected) => {
    expect(operationKind(text, operationName)).toBe(expected);
    expect(operationKind(text, operationName)).toBe(reference(text, operationName));
  });

  it("property: agrees with graphql-js on documents of several operations and fragments", () => {
    const name = fc.constantFrom("A", "B", "C", "D");
    const selection = fc.constantFrom("{ a }", '{ a(s: "} {") }', "{ a { b } }", "{ ...F }", "{ a(o: {k: [1, 2]}) }");
    const operation = fc.record({ kind: fc.constantFrom("query", "mutation", "subscription"), name, selection, comment: fc.constantFrom("", "# { subscription }\n") });
    fc.assert(
      fc.property(fc.uniqueArray(operation, { minLength: 1, maxLength: 4, selector: (op) => op.name }), fc.option(name, { nil: undefined }), (operations, pick) => {
        const text = operations.map((op) => `${op.comment}${op.kind} ${op.name} ${op.selection}`).join("\n") + "\nfragment F on T { a }";
        expect(operationKind(text, pick)).toBe(reference(text, pick));
      }),
      { numRuns: 200 },
    );
  });
});

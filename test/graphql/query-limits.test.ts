import { buildSchema, getOperationAST, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { limitErrors, measureOperation } from "../../src/graphql/query-limits.js";

const schema = buildSchema(`
  type Query { listUsers(pageSize: Int): UsersPage, user(id: String): User, users(first: Int): [User!]! }
  type UsersPage { users: [User!]!, next: String! }
  type User { id: String!, friends(first: Int): [User!]!, best: User, tags: [String!]! }
`);

const measure = (query: string, variables?: Record<string, unknown>) => {
  const document = parse(query);
  return measureOperation(schema, document, getOperationAST(document)!, variables, 10);
};

describe("query depth and complexity", () => {
  it.each([
    { query: "{ user(id: \"1\") { id } }", depth: 2, complexity: 2 },
    // A scalar list costs 1 like any leaf.
    { query: "{ user { tags } }", depth: 2, complexity: 2 },
    // A list without a size: the default 10.
    { query: "{ users { id } }", depth: 2, complexity: 11 },
    { query: "{ users(first: 3) { id best { id } } }", depth: 3, complexity: 1 + 3 * 3 },
    // The list in a paginated reply counts its RPC's pageSize.
    { query: "{ listUsers(pageSize: 50) { users { id } next } }", depth: 3, complexity: 1 + (1 + 50) + 1 },
    // Its own size wins over the inherited one; nested lists multiply.
    { query: "{ listUsers(pageSize: 50) { users { friends(first: 2) { id } } } }", depth: 4, complexity: 1 + 1 + 50 * (1 + 2 * 1) },
    // pageSize 0 means the RPC's default, unknown here: the default list size stands in.
    { query: "{ listUsers(pageSize: 0) { users { id } } }", depth: 3, complexity: 1 + 1 + 10 },
    // Fragments (named and inline) count as if written out; introspection fields count nothing.
    { query: "{ user { ...F ... on User { best { id } } __typename } } fragment F on User { id best { best { id } } }", depth: 4, complexity: 1 + (1 + (1 + 1 + 1) + (1 + 1)) },
    { query: "{ __schema { types { name } } }", depth: 0, complexity: 0 },
  ])("$query: depth $depth, complexity $complexity", ({ query, depth, complexity }) => {
    expect(measure(query)).toEqual({ depth, complexity });
  });

  it("reads a size given as a variable", () => {
    expect(measure("query Q($n: Int) { users(first: $n) { id } }", { n: 40 }).complexity).toBe(41);
    expect(measure("query Q($n: Int) { users(first: $n) { id } }", {}).complexity).toBe(11);
  });

  it("gives errors with extension codes past the limits, none within them", () => {
    expect(limitErrors({ depth: 10, complexity: 1000 }, { maxDepth: 10, maxComplexity: 1000 })).toEqual([]);
    const errors = limitErrors({ depth: 11, complexity: 1001 }, { maxDepth: 10, maxComplexity: 1000 });
    expect(errors.map((e) => e.extensions.code)).toEqual(["DEPTH_LIMIT_EXCEEDED", "COMPLEXITY_LIMIT_EXCEEDED"]);
    expect(errors[0].message).toMatch(/11 fields deep; at most 10/);
  });
});

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** Whether `name` is a GraphQL name that a schema may define (not `__`-prefixed, which introspection reserves). */
export function isGraphqlName(name: string): boolean {
  return GRAPHQL_NAME.test(name) && !name.startsWith("__");
}

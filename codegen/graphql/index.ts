/** The GraphQL emitter: `schema.graphql` and `graphql-map.js` from the validated HTTP bindings. */
export { buildGraphql, type BuildGraphqlResult, type BuiltGraphql } from "./build-schema.js";
export { emitGraphqlMap, GRAPHQL_MAP_MODULE, printGraphqlSchema, SCHEMA_FILE } from "./emit.js";
export { findGraphqlExtensions, type GraphqlExtensions } from "./graphql-options.js";

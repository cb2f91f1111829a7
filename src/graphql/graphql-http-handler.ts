import {
  GraphQLError,
  getNamedType,
  getOperationAST,
  isIntrospectionType,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationTypeNode,
  type ValidationRule,
} from "graphql";
import { createHandler, type Handler, type Response as GraphqlHttpResponse } from "graphql-http";
import type { ResolverContext } from "./executable-schema.js";
import { limitErrors, measureOperation } from "./query-limits.js";

/** The limits and switches of `graphql:` the HTTP handler applies. */
export interface HandlerLimits {
  readonly introspection: boolean;
  readonly maxDepth: number;
  readonly maxComplexity: number;
  readonly defaultListSize: number;
  readonly maxQueryBytes: number;
  readonly documentCacheSize: number;
}

/** One GraphQL-over-HTTP request, as the pipeline hands it over: its head, its body text, its resolvers' context. */
export interface GraphqlHttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string | null;
  readonly context: ResolverContext;
}

/** graphql-http's answer: the body (null: none) and its status and headers. */
export type GraphqlHttpAnswer = GraphqlHttpResponse;

/** A parsed query: its document and validation errors (empty: valid), kept by query text. */
interface CheckedDocument {
  readonly document: DocumentNode | undefined;
  readonly errors: readonly GraphQLError[];
}

/**
 * The GraphQL-over-HTTP handler (graphql-http: status codes, media types, GET and POST, per the
 * spec), with Protogate's checks before execution: the query's size, a bounded cache of parsed and
 * validated documents by query text (a repeated query is neither parsed nor validated again),
 * introspection refused when off, and the operation's depth and complexity.
 */
export function createGraphqlHttpHandler(schema: GraphQLSchema, limits: HandlerLimits): (request: GraphqlHttpRequest) => Promise<GraphqlHttpAnswer> {
  return handlerFor(schema, createOperationCheck(schema, limits));
}

/** One operation a client sent: its query text, variables and operation name (any transport). */
export interface OperationParams {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
  readonly operationName?: string | null | undefined;
}

/** An operation that passed the checks: what graphql-js executes (the context is added per request), and its kind. */
export interface CheckedOperation {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly variableValues: Readonly<Record<string, unknown>> | null | undefined;
  readonly operationName: string | null | undefined;
  /** The operation's kind; undefined when the document does not name one operation (graphql-js reports it on execution). */
  readonly kind: OperationTypeNode | undefined;
}

/**
 * Protogate's checks before an operation runs, the same on every transport (HTTP, graphql-ws,
 * SSE): the query's size, the parsed and validated document (from a bounded cache by query text),
 * introspection refused when off, the operation's depth and complexity. The operation, or the
 * errors to refuse it with.
 */
export type OperationCheck = (params: OperationParams) => CheckedOperation | readonly GraphQLError[];

export function createOperationCheck(schema: GraphQLSchema, limits: HandlerLimits): OperationCheck {
  const rules: readonly ValidationRule[] = limits.introspection ? specifiedRules : [...specifiedRules, NoIntrospection];
  const documents = new BoundedCache<string, CheckedDocument>(limits.documentCacheSize);
  const check = (query: string): CheckedDocument => {
    let checked = documents.get(query);
    if (checked === undefined) {
      let document: DocumentNode | undefined;
      let errors: readonly GraphQLError[];
      try {
        document = parse(query);
        errors = validate(schema, document, rules).map((error) => withCode(error, "GRAPHQL_VALIDATION_FAILED"));
      } catch (error) {
        errors = [withCode(error instanceof GraphQLError ? error : new GraphQLError(String(error)), "GRAPHQL_PARSE_FAILED")];
      }
      checked = { document, errors };
      documents.set(query, checked);
    }
    return checked;
  };
  return ({ query, variables, operationName }) => {
    if (Buffer.byteLength(query) > limits.maxQueryBytes) {
      return [new GraphQLError(`the query is longer than ${limits.maxQueryBytes} bytes (graphql.maxQueryBytes)`, { extensions: { code: "QUERY_TOO_LARGE", maxQueryBytes: limits.maxQueryBytes } })];
    }
    const { document, errors } = check(query);
    if (document === undefined || errors.length > 0) return errors;
    const operation = getOperationAST(document, operationName);
    if (operation) {
      const tooMuch = limitErrors(measureOperation(schema, document, operation, variables ?? undefined, limits.defaultListSize), limits);
      if (tooMuch.length > 0) return tooMuch;
    }
    return { schema, document, variableValues: variables, operationName, kind: operation?.operation };
  };
}

/** graphql-http's handler, each operation checked first (a check shared with the other transports: one document cache). */
export function handlerFor(schema: GraphQLSchema, checkOperation: OperationCheck): (request: GraphqlHttpRequest) => Promise<GraphqlHttpAnswer> {
  const handler: Handler<undefined, ResolverContext> = createHandler<undefined, ResolverContext, ResolverContext>({
    schema,
    onSubscribe: (request, params) => {
      const checked = checkOperation(params);
      if (isRefusal(checked)) return checked;
      const { document, variableValues, operationName } = checked;
      return { schema, document, variableValues, operationName, contextValue: request.context };
    },
  });
  return (request) => handler({ method: request.method, url: request.url, headers: request.headers, body: request.body, raw: undefined, context: request.context });
}

/** Whether a check refused the operation. */
export function isRefusal(checked: CheckedOperation | readonly GraphQLError[]): checked is readonly GraphQLError[] {
  return Array.isArray(checked);
}

/** Introspection off: a query selecting `__schema` or `__type` (anything of an introspection type) is refused. `__typename` stays allowed. */
const NoIntrospection: ValidationRule = (context) => ({
  Field(node) {
    const type = context.getType();
    if (type !== null && type !== undefined && isIntrospectionType(getNamedType(type))) {
      context.reportError(new GraphQLError(`introspection is off on this endpoint (graphql.introspection), and the query selects ${node.name.value}`, { nodes: node, extensions: { code: "INTROSPECTION_DISABLED" } }));
    }
  },
});

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions: { ...error.extensions, code } });
}

/** A map bounded to `capacity` entries that drops the least recently used one (0: keeps nothing). */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }
}

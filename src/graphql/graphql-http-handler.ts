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
import { createHandler, parseRequestParams, type Handler, type Request as GraphqlHttpRawRequest, type RequestParams, type Response as GraphqlHttpResponse } from "graphql-http";
import { isJsonObject } from "../transcode/json/json-object.js";
import { createQueryResolver, type PersistedQueriesConfig } from "./persisted-queries.js";
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
  /** Operations known in advance by ID (`graphql.persistedQueries`); absent: text only, IDs refused as not supported. */
  readonly persistedQueries?: PersistedQueriesConfig | undefined;
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

/**
 * One operation a client sent (any transport): its query text (empty or absent when it names a
 * persisted operation instead), variables, operation name, and the extensions and document ID
 * that may name a persisted operation.
 */
export interface OperationParams {
  readonly query: string | undefined;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
  readonly operationName?: string | null | undefined;
  readonly extensions?: Readonly<Record<string, unknown>> | null | undefined;
  readonly documentId?: unknown;
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
 * SSE): the persisted operation an ID names, or the text sent (persisted-queries.ts), the
 * query's size, the parsed and validated document (from a bounded cache by query text),
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
  const resolveQuery = createQueryResolver(limits.persistedQueries);
  return (params) => {
    const { variables, operationName } = params;
    // graphql-http's params carry a GET or POST `documentId` in the extensions (parsePersistedParams).
    const query = resolveQuery({ query: params.query === "" ? undefined : params.query, extensions: params.extensions, documentId: params.documentId ?? params.extensions?.documentId });
    if (typeof query !== "string") return query;
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
    parseRequestParams: parsePersistedParams,
    onSubscribe: (request, params) => {
      const checked = checkOperation(params);
      if (isRefusal(checked)) return checked;
      const { document, variableValues, operationName } = checked;
      return { schema, document, variableValues, operationName, contextValue: request.context };
    },
  });
  return (request) => handler({ method: request.method, url: request.url, headers: request.headers, body: request.body, raw: undefined, context: request.context });
}

/**
 * graphql-http's own parsing, and where it finds no query (`Missing query`), the request's
 * extensions and `documentId`, which may name a persisted operation instead (the operation
 * check resolves or refuses it). Only that failing path reads the request again.
 */
async function parsePersistedParams(request: GraphqlHttpRawRequest<undefined, ResolverContext>): Promise<RequestParams | GraphqlHttpResponse> {
  try {
    return await parseRequestParams(request);
  } catch (error) {
    const named = namedOperationParams(request);
    if (named === undefined) throw error;
    return named;
  }
}

/** The params of a request without query text that names a persisted operation; undefined otherwise (graphql-http's error stands). */
function namedOperationParams(request: GraphqlHttpRawRequest<undefined, ResolverContext>): RequestParams | undefined {
  let data: Record<string, unknown>;
  try {
    if (request.method === "GET") {
      const search = new URLSearchParams(request.url.split("?")[1] ?? "");
      const json = (name: string): unknown => {
        const value = search.get(name);
        return value === null ? undefined : JSON.parse(value);
      };
      data = { documentId: search.get("documentId") ?? undefined, operationName: search.get("operationName") ?? undefined, variables: json("variables"), extensions: json("extensions") };
    } else {
      const parsed: unknown = typeof request.body === "string" ? JSON.parse(request.body) : undefined;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
      data = parsed as Record<string, unknown>;
    }
  } catch {
    return undefined;
  }
  const { documentId, operationName, variables, extensions } = data;
  const extensionsObject = isJsonObject(extensions) ? extensions : undefined;
  if ((data.query !== undefined && data.query !== null) || (documentId === undefined && extensionsObject?.persistedQuery === undefined)) return undefined;
  if (variables !== undefined && variables !== null && !isJsonObject(variables)) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") return undefined;
  // `query` empty: the operation check reads the ID from the extensions (documentId travels in them).
  return { query: "", operationName, variables, extensions: { ...extensionsObject, ...(documentId !== undefined && { documentId }) } };
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
